"""How link signals are kept: one :class:`Batch` per charger per flush, stored as one JSON row, and how batches
become the doctor's :class:`~chargewise.doctor.signals.Signals`.

Compact on purpose: pings and heartbeats, the frequent samples, are ``[epoch seconds, rtt]`` pairs and bare
epoch seconds; the rarer samples are the contract's dataclasses as JSON. A flush writes one row per charger
that had anything to say, however many pings it answered meanwhile (``LinkSignals``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Protocol, TypeVar

import msgspec

from chargewise.doctor.signals import (
    BootSample,
    CommandSample,
    LinkEvent,
    PingSample,
    RadioSample,
    SecurityEventSample,
    Signals,
    StatusSample,
)


@dataclass(frozen=True, kw_only=True, slots=True)
class LinkMeta:
    """Settings in force for a charger's link: ping settings when it connected, heartbeat interval at boot."""

    at: datetime
    ping_interval_s: float | None = None
    ping_timeout_s: float | None = None
    heartbeat_interval_s: float | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class SignalRow:
    """One stored batch: a charger's samples from ``first_at`` to ``last_at``, as ``body`` (JSON)."""

    charger_id: str
    first_at: datetime
    last_at: datetime
    body: str


class Batch(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    """One charger's samples of one flush interval (mutable while it is being filled). A list exists only once
    it holds something, and pings are flat pairs: 50,000 idle chargers hold ~500 bytes each between flushes
    (``tests/services/test_link_signals.py`` measures it). ``gc=False``: it holds no cycles."""

    links: list[LinkEvent] | None = None
    pings: list[float | None] | None = None  # epoch s, rtt s (None: lost), epoch s, rtt s, ...
    radio: list[RadioSample] | None = None
    statuses: list[StatusSample] | None = None
    boots: list[BootSample] | None = None
    security: list[SecurityEventSample] | None = None
    heartbeats: list[float] | None = None  # epoch s
    commands: list[CommandSample] | None = None
    meta: list[LinkMeta] | None = None
    first: float = 0.0  # epoch s of the first sample
    last: float = 0.0
    size: int = 0  # samples held

    def note(self, at: datetime) -> float:
        """Count one sample taken at ``at``; return ``at`` in epoch seconds."""
        t = at.timestamp()
        if self.size == 0:
            self.first = self.last = t
        elif t > self.last:
            self.last = t
        elif t < self.first:
            self.first = t
        self.size += 1
        return t


class _Timed(Protocol):
    @property
    def at(self) -> datetime: ...


_T = TypeVar("_T", bound=_Timed)
_LISTS = ("links", "pings", "radio", "statuses", "boots", "security", "heartbeats", "commands", "meta")
_ENCODER = msgspec.json.Encoder()
_DECODER = msgspec.json.Decoder(Batch)


def encode(charger_id: str, batch: Batch) -> SignalRow:
    """The row of a batch that is done (its pings are rounded to 0.1 ms and ms here, off the hot path)."""
    if batch.pings:
        batch.pings = [None if x is None else round(x, 3 if k % 2 == 0 else 4) for k, x in enumerate(batch.pings)]
    return SignalRow(charger_id=charger_id, first_at=_time(batch.first), last_at=_time(batch.last),
                     body=_ENCODER.encode(batch).decode())  # fmt: skip


def decode(row: SignalRow) -> Batch:
    return _DECODER.decode(row.body)


def _time(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)


# --------------------------------------------------------------------------------------------- assembly
#: a 1.6 boot has no reason; the simulator (and the security whitepaper's habit) sends it in the techInfo of a
#: SecurityEventNotification StartupOfTheDevice / ResetOrReboot right after the BootNotification
BOOT_EVENTS = {"StartupOfTheDevice": "PowerUp", "ResetOrReboot": "Unknown"}
BOOT_EVENT_WINDOW = timedelta(minutes=5)
_REASON = re.compile(r"boot reason\s*:?\s*([A-Za-z]+)")


@dataclass(frozen=True, kw_only=True, slots=True)
class Facts:
    """What the charger row and the live registry say, besides the samples."""

    charger_id: str
    model: str | None = None
    vendor: str | None = None
    firmware: str | None = None
    connected_now: bool = False
    ever_connected: bool = False
    known_since: datetime | None = None


def assemble(facts: Facts, batches: Iterable[Batch], since: datetime, now: datetime) -> Signals:
    """The doctor's input: every sample in ``[since, now]`` of ``batches`` (stored and live), oldest first."""
    merged = Batch(links=[], pings=[], radio=[], statuses=[], boots=[], security=[], heartbeats=[], commands=[],
                   meta=[])  # fmt: skip
    for batch in batches:
        for name in _LISTS:
            getattr(merged, name).extend(getattr(batch, name) or ())
    assert merged.links is not None and merged.meta is not None and merged.security is not None  # made above
    assert merged.pings is not None and merged.heartbeats is not None and merged.radio is not None
    assert merged.statuses is not None and merged.boots is not None and merged.commands is not None
    lo, hi = since.timestamp(), now.timestamp()
    pairs = sorted(zip(merged.pings[::2], merged.pings[1::2], strict=True), key=_first)

    def within(items: list[_T]) -> list[_T]:
        return sorted((x for x in items if since <= x.at <= now), key=_at)

    meta = sorted(merged.meta, key=_at)
    ever = facts.ever_connected or any(e.kind == "connected" for e in merged.links)
    first_seen = min((m.at for m in meta), default=None)
    known = min((t for t in (facts.known_since, first_seen) if t is not None), default=None)
    security = within(merged.security)
    return Signals(
        charger_id=facts.charger_id, since=since, known_since=known, ever_connected=ever, model=facts.model,
        vendor=facts.vendor, firmware=facts.firmware, connected_now=facts.connected_now,
        heartbeat_interval_s=_last(m.heartbeat_interval_s for m in meta if m.at <= now),
        ping_interval_s=_last(m.ping_interval_s for m in meta if m.at <= now),
        ping_timeout_s=_last(m.ping_timeout_s for m in meta if m.at <= now),
        links=tuple(within(merged.links)),
        pings=tuple(PingSample(at=_time(t), rtt_s=rtt) for t, rtt in pairs if t is not None and lo <= t <= hi),
        radio=tuple(within(merged.radio)), statuses=tuple(within(merged.statuses)),
        boots=tuple(boot_reasons(within(merged.boots), security)), security_events=tuple(security),
        heartbeats=tuple(_time(t) for t in sorted(merged.heartbeats) if lo <= t <= hi),
        commands=tuple(within(merged.commands)),
    )  # fmt: skip


def boot_reasons(boots: list[BootSample], security: list[SecurityEventSample]) -> list[BootSample]:
    """Boots without a reason (1.6) take it from the boot security event that followed them."""
    out = []
    for boot in boots:
        if not boot.reason:
            told = next((e for e in security if boot.at <= e.at <= boot.at + BOOT_EVENT_WINDOW
                         and e.type in BOOT_EVENTS), None)  # fmt: skip
            if told is not None:
                found = _REASON.search(told.tech_info or "")
                boot = replace(boot, reason=found.group(1) if found else BOOT_EVENTS[told.type])
        out.append(boot)
    return out


def _last(values: Iterable[float | None]) -> float | None:
    found = None
    for value in values:
        if value is not None:
            found = value
    return found


def _at(item: _Timed) -> datetime:
    return item.at


def _first(pair: tuple[float | None, float | None]) -> float:
    return pair[0] or 0.0
