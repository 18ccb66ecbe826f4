"""``LinkSignals``: what the server observes of every charger's link, recorded for the connectivity doctor.

The adapters and handlers call the recording methods with plain values and the time ``now``; each is an O(1)
append to the charger's in-memory :class:`~chargewise.services.signal_batches.Batch` (no I/O, no clock read,
safe on the hot path: a pong costs one append). :meth:`run` writes the batches every ``flush_every_s``, one
row per charger that said anything, and prunes rows past the retention (age, and rows per charger).
:meth:`signals` assembles the doctor's input from the stored rows, the batches not yet written, and the
charger's row. Nothing here records a credential: refusals keep their reason, never a header.

A TLS handshake that fails before the HTTP request names no charger: :meth:`tls_failed` gives it to the
charger last seen from that address, if any.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from chargewise.doctor.signals import (
    BootSample,
    ClosedBy,
    CommandSample,
    LinkEvent,
    LinkEventKind,
    RadioSample,
    SecurityEventSample,
    SessionSample,
    Signals,
    StatusSample,
)
from chargewise.domain.model import Charger, OcppVersion, Transaction
from chargewise.domain.ports import Clock
from chargewise.services.connections import CallOutcome
from chargewise.services.signal_batches import Batch, Facts, LinkMeta, SignalRow, assemble, decode, encode

log = logging.getLogger(__name__)
MAX_BATCH = 20_000  # samples one charger may add between two flushes; past that they are counted, not kept
#: 2.0.1 DataLink.SignalStrength (OCPP 2.0.1 part 2 appendix 3, DataLink component): read it after an Accepted
#: boot, and ask for a NotifyEvent whenever it moves by 3 dB (one fading step; connectivity.md A)
SIGNAL_VARIABLE = {"component": {"name": "DataLink"}, "variable": {"name": "SignalStrength"}}
SIGNAL_DELTA_DB = 3
RECENT_CONNECTS = 10_000  # connections remembered across chargers (a restart's reconnect wave)
Sender = Callable[[str, str, dict[str, Any]], Awaitable[CallOutcome]]


class LinkSignalStore(Protocol):
    """Where batches are kept (``adapters.sql.link_signals``, ``adapters.memory_link_signals``)."""

    async def append(self, rows: Sequence[SignalRow]) -> None: ...

    async def rows(self, charger_id: str, since: datetime) -> list[SignalRow]:
        """The charger's rows whose samples reach ``since`` or later (``last_at >= since``), oldest first."""
        ...

    async def first_at(self, charger_id: str) -> datetime | None:
        """When the charger's oldest kept sample was taken."""
        ...

    async def prune(self, before: datetime, keep: int) -> int:
        """Delete rows whose samples all lie before ``before``, and each charger's rows beyond its newest
        ``keep``; return how many went."""
        ...


class NoSignalStore:
    """Keeps nothing: the signals live only in memory until their flush (tests, ``CentralSystem``'s default)."""

    async def append(self, rows: Sequence[SignalRow]) -> None:
        return None

    async def rows(self, charger_id: str, since: datetime) -> list[SignalRow]:
        return []

    async def first_at(self, charger_id: str) -> datetime | None:
        return None

    async def prune(self, before: datetime, keep: int) -> int:
        return 0


@dataclass(frozen=True, kw_only=True, slots=True)
class Retention:
    """How long signals are kept, and whether 2.0.1 radios are asked for theirs (``[doctor]`` in the config)."""

    days: float = 14.0
    rows_per_charger: int = 4032  # 14 days of one row per 5 minutes
    flush_every_s: float = 300.0
    watch_radio: bool = True  # 2.0.1: GetVariables + SetVariableMonitoring on DataLink.SignalStrength after boot


class LinkSignals:
    """Build one per process in ``bootstrap``; set :attr:`send` to ``Registry.call`` so 2.0.1 radios are read."""

    def __init__(self, *, store: LinkSignalStore | None = None, retention: Retention | None = None,
                 clock: Clock | None = None) -> None:  # fmt: skip
        """``clock`` stamps the samples this service takes itself (the answer to its GetVariables)."""
        self.store: LinkSignalStore = store or NoSignalStore()
        self.clock = clock
        #: clock seconds per second of the server's own timers (ping interval and timeout): 1 on the real
        #: clock; a test running the server on a clock ``speed`` times faster sets ``speed``
        self.timer_scale = 1.0
        self.retention = retention or Retention()
        self.send: Sender | None = None
        self.dropped = 0
        self._pending: dict[str, Batch] = {}
        self._flushing: list[tuple[str, Batch]] = []  # batches being written (still read by ``signals``)
        self._remote: dict[str, str] = {}  # charger -> its last remote address
        self._by_address: dict[str, str] = {}  # remote address -> the charger last seen from it
        self._tasks: set[asyncio.Task[None]] = set()
        # the newest connections of every charger: whether others came back after we closed a link
        self._connects: deque[tuple[datetime, str]] = deque(maxlen=RECENT_CONNECTS)
        self.rssi: dict[str, tuple[datetime, float]] = {}  # charger -> its latest signal strength (MQTT, dashboard)

    # ------------------------------------------------------------------ recording (O(1), no I/O)
    def _batch(self, charger_id: str, at: datetime) -> Batch | None:
        batch = self._pending.get(charger_id)
        if batch is None:
            batch = self._pending[charger_id] = Batch()
        if batch.size >= MAX_BATCH:
            self.dropped += 1
            return None
        batch.note(at)
        return batch

    def ping(self, charger_id: str, now: datetime, rtt_s: float | None) -> None:
        """Our ping sent at ``now`` was answered ``rtt_s`` later, or (None) not before the ping timeout. The
        hottest recorder (one per ping and charger): an append and a few compares."""
        batch = self._pending.get(charger_id)
        if batch is None:
            batch = self._pending[charger_id] = Batch()
        if batch.size >= MAX_BATCH:
            self.dropped += 1
            return
        t = batch.note(now)
        pings = batch.pings
        if pings is None:
            pings = batch.pings = []
        pings.append(t)
        pings.append(rtt_s)

    def connected(self, charger_id: str, now: datetime, *, remote: str | None, tls_version: str | None = None,
                  ping_interval_s: float | None = None, ping_timeout_s: float | None = None) -> None:  # fmt: skip
        """The WebSocket was upgraded and registered, from ``remote`` (an address, no port)."""
        if remote:
            self._remote[charger_id] = remote
            self._by_address[remote] = charger_id
        self._connects.append((now, charger_id))
        batch = self._batch(charger_id, now)
        if batch is not None:
            _add(batch, "links").append(
                LinkEvent(at=now, kind=LinkEventKind.CONNECTED, remote=remote, tls_version=tls_version)
            )
            interval, timeout = (None if s is None else s * self.timer_scale for s in (ping_interval_s, ping_timeout_s))
            _add(batch, "meta").append(LinkMeta(at=now, ping_interval_s=interval, ping_timeout_s=timeout))

    def disconnected(self, charger_id: str, now: datetime, *, close_code: int | None, closed_by: ClosedBy,
                     detail: str = "", last_frame_at: datetime | None = None,
                     longest_quiet_s: float | None = None) -> None:  # fmt: skip
        """The link ended; ``longest_quiet_s``: the longest silence it lived through (its last one not counted)."""
        batch = self._batch(charger_id, now)
        if batch is not None:
            _add(batch, "links").append(LinkEvent(
                at=now, kind=LinkEventKind.DISCONNECTED, remote=self._remote.get(charger_id), close_code=close_code,
                closed_by=closed_by, detail=detail[:200], last_frame_at=last_frame_at,
                longest_quiet_s=None if longest_quiet_s is None else round(longest_quiet_s, 1),
            ))  # fmt: skip

    def refused(self, charger_id: str, now: datetime, *, remote: str | None, detail: str) -> None:
        """The handshake was refused; ``detail`` is our reason (never the credentials offered)."""
        batch = self._batch(charger_id, now)
        if batch is not None:
            _add(batch, "links").append(
                LinkEvent(at=now, kind=LinkEventKind.REFUSED, remote=remote, detail=detail[:200])
            )

    def tls_failed(self, remote: str, now: datetime, detail: str) -> str | None:
        """A TLS handshake from ``remote`` failed: recorded for the charger last seen there (returned), if any."""
        charger_id = self._by_address.get(remote)
        if charger_id is not None:
            batch = self._batch(charger_id, now)
            if batch is not None:
                _add(batch, "links").append(
                    LinkEvent(at=now, kind=LinkEventKind.TLS_FAILED, remote=remote, detail=detail[:200])
                )
        return charger_id

    def heartbeat(self, charger_id: str, now: datetime) -> None:
        batch = self._batch(charger_id, now)
        if batch is not None:
            _add(batch, "heartbeats").append(now.timestamp())

    def radio(self, charger_id: str, now: datetime, rssi_dbm: float, *, bssid: str | None = None,
              source: str = "") -> None:  # fmt: skip
        self.rssi[charger_id] = (now, rssi_dbm)
        batch = self._batch(charger_id, now)
        if batch is not None:
            _add(batch, "radio").append(RadioSample(at=now, rssi_dbm=rssi_dbm, bssid=bssid, source=source))

    def status(self, charger_id: str, now: datetime, *, evse_id: int, connector_id: int, status: str,
               error_code: str | None = None, info: str | None = None) -> None:  # fmt: skip
        batch = self._batch(charger_id, now)
        if batch is not None:
            sample = StatusSample(at=now, evse_id=evse_id, connector_id=connector_id, status=status,
                                  error_code=error_code, info=info)  # fmt: skip
            _add(batch, "statuses").append(sample)

    def boot(self, charger_id: str, now: datetime, *, reason: str, firmware: str | None,
             heartbeat_interval_s: float | None) -> None:  # fmt: skip
        batch = self._batch(charger_id, now)
        if batch is not None:
            _add(batch, "boots").append(BootSample(at=now, reason=reason, firmware=firmware))
            _add(batch, "meta").append(LinkMeta(at=now, heartbeat_interval_s=heartbeat_interval_s))

    def security_event(self, charger_id: str, now: datetime, *, type: str, tech_info: str | None) -> None:  # noqa: A002
        batch = self._batch(charger_id, now)
        if batch is not None:
            _add(batch, "security").append(SecurityEventSample(at=now, type=type, tech_info=tech_info))

    def command(self, charger_id: str, now: datetime, *, action: str, outcome: str, duration_s: float | None) -> None:
        """One of our commands ended: ``ok``, ``call_error``, ``timeout`` or ``offline``."""
        batch = self._batch(charger_id, now)
        if batch is not None:
            took = None if duration_s is None else round(duration_s, 3)
            _add(batch, "commands").append(CommandSample(at=now, action=action, outcome=outcome, duration_s=took))

    def command_ended(self, charger_id: str, action: str, outcome: str, duration_s: float | None) -> None:
        """:meth:`command` stamped by this service's clock: the ``Registry``'s ``outcomes`` observer."""
        if self.clock is not None:
            self.command(charger_id, self.clock.now(), action=action, outcome=outcome, duration_s=duration_s)

    # ------------------------------------------------------------------ 2.0.1 radio
    def boot_accepted(self, charger_id: str, version: OcppVersion) -> None:
        """A BootNotification was answered Accepted: on 2.0.1, read and watch its signal strength (in the
        background, after the answer has gone out)."""
        if version is OcppVersion.V201 and self.send is not None and self.retention.watch_radio:
            task = asyncio.get_running_loop().create_task(self._watch_radio(charger_id, self.send))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _watch_radio(self, charger_id: str, send: Sender) -> None:
        try:
            got = await send(charger_id, "GetVariables", {"getVariableData": [SIGNAL_VARIABLE]})
            for result in (got.payload or {}).get("getVariableResult", []):
                value = _number(result.get("attributeValue")) if result.get("attributeStatus") == "Accepted" else None
                if value is not None and _is_signal(result) and self.clock is not None:
                    self.radio(charger_id, self.clock.now(), value, source="GetVariables SignalStrength")
            monitor = {**SIGNAL_VARIABLE, "type": "Delta", "value": SIGNAL_DELTA_DB, "severity": 8}
            await send(charger_id, "SetVariableMonitoring", {"setMonitoringData": [monitor]})
        except Exception as exc:  # offline, timed out, refused: the hard-wired monitors may still report
            log.info("%s: signal strength not read or watched: %s", charger_id, exc)

    # ------------------------------------------------------------------ persistence
    async def flush(self) -> int:
        """Write every pending batch (one row per charger); return how many rows. A failed write is logged and
        its batches are dropped: memory stays bounded when the store is down."""
        if not self._pending:
            return 0
        self._flushing, self._pending = list(self._pending.items()), {}
        try:
            await self.store.append([encode(charger_id, batch) for charger_id, batch in self._flushing])
            return len(self._flushing)
        except Exception:
            log.exception("link signals of %d chargers not stored", len(self._flushing))
            return 0
        finally:
            self._flushing = []

    async def prune(self, now: datetime) -> int:
        return await self.store.prune(now - timedelta(days=self.retention.days), self.retention.rows_per_charger)

    async def run(self, now: Callable[[], datetime]) -> None:
        """Flush every ``flush_every_s`` and prune once an hour, until cancelled (``CentralSystem.drain``
        flushes what is left at shutdown). A failure is logged and tried again next turn."""
        flushes = 0
        while True:
            await asyncio.sleep(self.retention.flush_every_s)
            await self.flush()
            flushes += 1
            if flushes * self.retention.flush_every_s >= 3600:
                flushes = 0
                try:
                    await self.prune(now())
                except Exception:
                    log.exception("old link signals not pruned; retrying in an hour")

    # ------------------------------------------------------------------ reading
    async def signals(
        self, charger_id: str, since: datetime, now: datetime, *, charger: Charger | None = None,
        connected_now: bool | None = None, transactions: Sequence[Transaction] = (),
    ) -> Signals:  # fmt: skip
        """Everything observed of ``charger_id`` in ``[since, now]``; ``charger`` is its row (model, firmware,
        whether it was ever connected), ``connected_now`` what the live registry says (default: the row),
        ``transactions`` its recent ones (a car stood at the charger during each)."""
        rows = await self.store.rows(charger_id, since)
        batches = [decode(row) for row in rows]
        batches += [b for cid, b in self._flushing if cid == charger_id]
        live = self._pending.get(charger_id)
        if live is not None:
            batches.append(live)
        boot = charger.boot if charger is not None else None
        ever = charger is not None and (charger.connected or charger.last_seen is not None or charger.boot is not None)
        facts = Facts(
            charger_id=charger_id, model=boot.model if boot else None, vendor=boot.vendor if boot else None,
            firmware=boot.firmware_version if boot else None, ever_connected=ever,
            connected_now=connected_now if connected_now is not None else bool(charger and charger.connected),
            known_since=await self.store.first_at(charger_id),
        )  # fmt: skip
        signals = assemble(facts, batches, since, now)
        overlap = [tx for tx in transactions if tx.charger_id == charger_id and tx.started_at <= now
                   and (tx.stopped_at is None or tx.stopped_at >= since)]  # fmt: skip
        sessions = tuple(SessionSample(start=tx.started_at, end=tx.stopped_at, evse_id=tx.evse_id)
                         for tx in sorted(overlap, key=lambda tx: tx.started_at))  # fmt: skip
        return replace(signals, others_reconnected=self._others_reconnected(signals), sessions=sessions)

    def _others_reconnected(self, signals: Signals) -> int | None:
        """How many other chargers connected after our last clean close of this one (None: not known here)."""
        ours = (LinkEventKind.DISCONNECTED, ClosedBy.SERVER)
        closed = [e.at for e in signals.links if (e.kind, e.closed_by) == ours]
        if not closed or not self._connects:
            return None
        return len({cid for at, cid in self._connects if at > closed[-1] and cid != signals.charger_id})


def _add(batch: Batch, name: str) -> list[Any]:
    """The batch's list ``name``, made on first use (see ``Batch``)."""
    found: list[Any] | None = getattr(batch, name)
    if found is None:
        found = []
        setattr(batch, name, found)
    return found


def _number(value: object) -> float | None:
    try:
        return float(str(value))
    except ValueError:
        return None


def _is_signal(result: dict[str, Any]) -> bool:
    return bool(result.get("component", {}).get("name") == "DataLink"
                and result.get("variable", {}).get("name") == "SignalStrength")  # fmt: skip
