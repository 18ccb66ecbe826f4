"""The central system's use cases, version-neutral. Handlers translate OCPP messages into these calls.

Every method that acknowledges something a charger reported returns only after it is durably stored.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import zlib
from collections.abc import Callable, Container
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING

from chargewise.domain.model import (
    REAPED,
    Authorization,
    BootInfo,
    ConnectorStatus,
    IdToken,
    MeterValue,
    OcppVersion,
    Registration,
    TokenStatus,
    Transaction,
)
from chargewise.domain.ports import Clock, ConnectionChange, NewTransaction, Store
from chargewise.services.events import EventHub, Kind
from chargewise.services.firmware_events import FirmwareEvents, NoCampaigns
from chargewise.services.group_commit import GroupCommit
from chargewise.services.link_signals import LinkSignals
from chargewise.services.log_uploads import LogUploads
from chargewise.services.meter_writer import MeterWriter
from chargewise.services.reports import NoReportStore, Reports
from chargewise.services.reservations import Reservations
from chargewise.services.telemetry import Telemetry
from chargewise.services.transactions import SUPERSEDED, Transactions

if TYPE_CHECKING:
    from chargewise.services.certificates import Certificates

__all__ = [
    "SUPERSEDED", "TOUCH_EVERY", "Authorization", "CentralSystem", "Policy", "UnknownChargerPolicy", "touch_phase",
]  # fmt: skip

TOUCH_EVERY = timedelta(seconds=60)

log = logging.getLogger(__name__)


def touch_phase(charger_id: str) -> timedelta:
    """The charger's own offset within :data:`TOUCH_EVERY`, the same on every run (a hash of its id).

    Chargers that connect together (after a server restart or a network outage) were all due for their
    next last_seen write in the same second a minute later, and again every minute: in the benchmark, the
    1,000 busy chargers' writes came within 3 s of each other. Offset by their phase, they spread over the
    minute; last_seen is still never more than TOUCH_EVERY stale."""
    return TOUCH_EVERY * (zlib.crc32(charger_id.encode()) / 2**32)


class UnknownChargerPolicy(enum.StrEnum):
    """What to do with a charger id the operator has not added."""

    ACCEPT = "accept"  # add it as Accepted at its first BootNotification
    PENDING = "pending"  # add it as Pending at its first BootNotification, until an operator approves it
    REJECT = "reject"  # refuse the WebSocket upgrade


@dataclass(frozen=True, kw_only=True, slots=True)
class Policy:
    unknown_chargers: UnknownChargerPolicy = UnknownChargerPolicy.PENDING
    heartbeat_interval: int = 300
    reap_offline_after: int = 86_400  # s silent before a charger's open transactions are closed; 0: never
    pending_retry_interval: int = 60
    free_charging: bool = False  # homes: any id tag is accepted (and recorded)
    max_pending: int = 1000  # unknown chargers waiting for approval at once (policy pending); more are refused
    pending_per_minute: int = 60  # unknown chargers added as Pending per minute, at most


class CentralSystem:
    """Use cases over one :class:`Store`. Build one per process in ``bootstrap``."""

    def __init__(self, *, store: Store, clock: Clock, policy: Policy, meter_writer: MeterWriter) -> None:
        self.store = store
        #: what chargers report besides transactions; ``bootstrap`` replaces it with one over the durable store
        self.reports = Reports(store=NoReportStore())
        #: link signals for the connectivity doctor; ``bootstrap`` replaces it with one over the durable store
        self.link_signals = LinkSignals(clock=clock)
        #: firmware statuses and boots, for the OTA campaigns; ``bootstrap`` puts the campaign service here
        self.firmware: FirmwareEvents = NoCampaigns()
        #: signs chargers' CSRs (SignCertificate); ``bootstrap`` sets it, None: every CSR is refused
        self.certificates: Certificates | None = None
        self.clock = clock
        #: log and diagnostics uploads (``services.log_uploads``); ``bootstrap`` sets it, None in unit tests
        self.log_uploads: LogUploads | None = None
        #: reservations honoured at Authorize and start (``services.reservations``); ``bootstrap`` sets it
        self.reservations: Reservations | None = None
        #: told ``(charger_id, booted)`` when a charger connects, and when its BootNotification is Accepted
        #: (local lists are pushed again then); a hook must not block: it schedules its work
        self.on_online: list[Callable[[str, bool], None]] = []
        self.policy = policy
        self.meters = meter_writer
        self._touched: dict[str, datetime] = {}
        #: what happens here, for the event stream, webhooks, MQTT and metrics (services/events.py)
        self.events = EventHub()
        self.transactions = Transactions(store=store, clock=clock, authorize=self.authorize)
        self.transactions.events = self.events
        self.transactions.admit = self.admit_start
        #: the latest electrical state per EVSE, in memory (smart charging reads it every cycle)
        self.telemetry = Telemetry(self.events)
        self.transactions.on_meter = self.telemetry.meter
        # a reconnect storm is a few commits; batches of at most 200, because a batch holds the store's write
        # turn while it commits and meter writes queue behind it (a thousand last_seen updates at once had put
        # ~100 ms into the MeterValues latency tail)
        self._connections = GroupCommit(store.record_connections, max_batch=200)

    # ------------------------------------------------------------------ chargers
    async def boot(self, charger_id: str, version: OcppVersion, boot: BootInfo) -> Registration:
        """Record a BootNotification; answer with the returned registration (and the heartbeat interval)."""
        now = self.clock.now()
        try:
            await self.store.record_boot(charger_id, version, boot, now)
        except KeyError:  # removed by an operator (maybe from another process) while it was connected
            return Registration.REJECTED
        charger = await self.store.get_charger(charger_id)
        registration = charger.registration if charger is not None else Registration.REJECTED
        if registration is Registration.ACCEPTED:
            self._online(charger_id, booted=True)
        return registration

    def _online(self, charger_id: str, *, booted: bool) -> None:
        for hook in self.on_online:
            try:
                hook(charger_id, booted)
            except Exception:
                log.exception("%s: an on_online hook failed", charger_id)

    async def seen(self, charger_id: str, now: datetime | None = None) -> datetime:
        """Note that the charger spoke (at ``now``, default the clock's time); ``last_seen`` is written at most
        once a minute per charger."""
        now = now or self.clock.now()
        written = self._write_seen(charger_id, now)
        if written is not None:
            await written
        return now

    def note_seen(self, charger_id: str, now: datetime) -> None:
        """:meth:`seen` without waiting for the write, for the message path: ``last_seen`` acknowledges nothing
        to the charger, so a message need not wait for it (a storm of these writes, when a thousand chargers'
        minute is up at once, had held their messages up to ~100 ms). A failed write is logged, and tried again
        with the charger's next message."""
        written = self._write_seen(charger_id, now)
        if written is not None:
            written.add_done_callback(partial(self._seen_written, charger_id))

    def _write_seen(self, charger_id: str, now: datetime) -> asyncio.Future[None] | None:
        """Queue the last_seen write if one is due; the future of its commit, or None."""
        self.transactions.presence.heard(charger_id, now)
        if not self.touch_due(charger_id, now):
            return None
        self._touched[charger_id] = now
        # group-committed with the other chargers' connection changes ("connected" also sets last_seen):
        # one batch, not one write transaction per charger when thousands speak after a quiet minute
        return self._connections.submit([ConnectionChange(charger_id=charger_id, connected=True, at=now)])

    def _seen_written(self, charger_id: str, written: asyncio.Future[None]) -> None:
        if written.cancelled() or written.exception() is None:
            return
        self._touched.pop(charger_id, None)
        log.warning("%s: last_seen not recorded (%s); retrying with its next message", charger_id, written.exception())

    def touch_due(self, charger_id: str, now: datetime) -> bool:
        """Whether :meth:`seen` would write (lets a caller skip the call on the hot path)."""
        last = self._touched.get(charger_id)
        return last is None or now - last >= TOUCH_EVERY

    async def connected(self, charger_id: str, *, register_as: Registration | None = None) -> None:
        """Record the connection (group-committed); ``register_as`` adds a charger seen for the first time."""
        now = self.clock.now()
        self.transactions.presence.connected(charger_id, now)
        # this write sets last_seen too; the next one is due within TOUCH_EVERY, at a point of that minute
        # that is the charger's own, so that chargers that connected together do not all write together
        self._touched[charger_id] = now - touch_phase(charger_id)
        change = ConnectionChange(charger_id=charger_id, connected=True, at=now, register_as=register_as)
        await self._connections.write([change])
        self.telemetry.online(charger_id, True)
        self.events.publish(Kind.CONNECTION, now, charger_id, {"connected": True})
        self._online(charger_id, booted=False)

    async def disconnected(self, charger_id: str) -> None:
        self._touched.pop(charger_id, None)
        self.telemetry.online(charger_id, False)
        change = ConnectionChange(charger_id=charger_id, connected=False, at=self.clock.now())
        self.events.publish(Kind.CONNECTION, change.at, charger_id, {"connected": False})
        await self._connections.write([change])

    async def drain(self) -> None:
        """Wait for pending connection and meter writes (before closing the store)."""
        await self._connections.drain()
        await self.meters.drain()
        await self.link_signals.flush()

    async def status(
        self, charger_id: str, evse_id: int, connector_id: int, status: ConnectorStatus, error: str | None, at: datetime
    ) -> None:
        await self.store.set_connector_status(charger_id, evse_id, connector_id, status, error, at)
        self.events.publish(
            Kind.STATUS,
            at,
            charger_id,
            {"evse": evse_id, "connector": connector_id, "status": status.value, "error": error},
        )
        if evse_id > 0:
            self.telemetry.status(charger_id, evse_id, status, at)

    # ------------------------------------------------------------------ tokens
    async def authorize(self, id_tag: str) -> Authorization:
        """Look the token up; in free-charging mode unknown tokens are accepted."""
        token = await self.store.get_token(id_tag)
        if token is None:
            return Authorization(status=TokenStatus.ACCEPTED if self.policy.free_charging else TokenStatus.INVALID)
        return Authorization(
            status=token.status_at(self.clock.now()), expires_at=token.expires_at, parent_id_tag=token.parent_id_tag
        )

    async def authorize_at(self, charger_id: str, id_tag: str) -> Authorization:
        """:meth:`authorize` at a charger (an Authorize): a token valid in itself is refused (Invalid) where
        reservations for other tokens hold the whole charger (``fleet.reservations`` rule 3)."""
        auth = await self.authorize(id_tag)
        reservations = self.reservations if auth.status is TokenStatus.ACCEPTED else None
        if reservations is not None and await reservations.refuses(charger_id, None, id_tag, auth.parent_id_tag):
            return Authorization(status=TokenStatus.INVALID)
        return auth

    async def admit_start(self, new: NewTransaction, auth: Authorization, transaction_id: int) -> Authorization:
        """A transaction started by an accepted token: refused (Invalid) on an EVSE reserved for another token;
        otherwise it uses the reservation it matches, which ends (``Transactions.admit``)."""
        if self.reservations is None or auth.status is not TokenStatus.ACCEPTED or not new.id_tag:
            return auth
        evse = new.evse_id or None
        if await self.reservations.refuses(new.charger_id, evse, new.id_tag, auth.parent_id_tag):
            return Authorization(status=TokenStatus.INVALID)
        await self.reservations.use(new.charger_id, new.evse_id, new.id_tag, auth.parent_id_tag, new.reservation_id,
                                    transaction_id)  # fmt: skip
        return auth

    async def add_token(self, token: IdToken) -> None:
        await self.store.put_token(token)

    # ------------------------------------------------------------------ transactions
    async def start_transaction(self, new: NewTransaction) -> tuple[Transaction, Authorization]:
        """See :meth:`Transactions.start`."""
        return await self.transactions.start(new)

    def silent_after(self) -> timedelta:
        """How long a charger with a live link may stay unheard in the database: it speaks at least every
        heartbeat (or pending-retry) interval, and last_seen is written at most every TOUCH_EVERY; twice
        the interval, so that a charger on another worker or server is never taken for gone."""
        interval = max(self.policy.heartbeat_interval, self.policy.pending_retry_interval)
        return 2 * timedelta(seconds=interval) + TOUCH_EVERY

    async def clear_silent_links(self, *, connected: Container[str] = ()) -> list[str]:
        """Flag offline the chargers the database still says are connected but that nothing has heard from for
        longer than :meth:`silent_after` (a killed server left their flags set and they never came back), as
        of when they were last heard from; return their ids. Chargers in ``connected`` are spared. A charger
        taken for gone by mistake is flagged connected again by its next message (``seen``)."""
        return await self.store.clear_silent_links(self.clock.now() - self.silent_after(), spare=connected)

    async def reap_offline(self, *, connected: Container[str] = ()) -> list[Transaction]:
        """Close the open transactions of chargers not heard from for longer than
        ``policy.reap_offline_after`` (a charger that was replaced or died never sends their stops), as
        stopped when it was last heard from, with the last known register reading; return them. Chargers
        in ``connected`` (a live link here) are spared. Like every reaper stop it is provisional: a charger
        that comes back with its stop queued replaces it."""
        if self.policy.reap_offline_after <= 0:
            return []
        cutoff = self.clock.now() - timedelta(seconds=self.policy.reap_offline_after)
        closed = []
        for tx, heard in await self.store.open_while_silent(cutoff):
            if tx.charger_id in connected:
                continue
            reason = f"{REAPED}charger not heard from since {heard:%Y-%m-%d %H:%M} UTC, no stop received"
            # last_seen is written at most once a minute: it may lie a little before the transaction began
            done = await self.store.stop_transaction(
                tx.id, stopped_at=max(heard, tx.started_at), meter_stop_wh=tx.last_meter_wh, reason=reason,
                provisional=True,
            )  # fmt: skip
            if done is not None and done.stop_reason == reason:
                closed.append(done)
                self.transactions.tell(done)
        return closed

    async def record_meter_values(self, values: list[MeterValue]) -> None:
        """Store meter values durably (group-committed with other chargers' values)."""
        await self.meters.write(values)
        self.telemetry.meter(values)
