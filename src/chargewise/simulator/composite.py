"""The composite schedule: the limit a charger applies at each moment, from its installed profiles, computed
exactly as OCPP defines it (1.6 sections 3.13.2-3.13.5, 2.0.1 K08). Pure functions; time is passed in.

Rules:

1. A profile *applies* at ``t`` when ``validFrom <= t < validTo`` and its schedule has a period at ``t``:
   the schedule starts at ``startSchedule`` (Absolute), at the latest daily/weekly recurrence of it
   (Recurring), or when the transaction started (Relative; the request start when there is none), and ends
   after ``duration`` (or the next recurrence). A TxProfile applies only to its own running transaction.
2. Within a purpose the applicable profile with the highest stack level prevails.
3. A TxProfile overrules TxDefaultProfiles while it applies; a TxDefaultProfile on the EVSE itself overrules
   one on the station (id 0).
4. The composite limit is the minimum of the prevailing Tx/TxDefault period, the prevailing max profile
   period and the charger's hardware limit.
5. Amps are per phase; watts are total: ``W = A x V x phases``, where phases is the period's numberPhases
   (3 when absent, as the spec says) capped by the phases the charger has.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from chargewise.simulator.profiles import RECURRENCE_SECONDS, Kind, Period, Profile, Purpose

DEFAULT_PHASES = 3


@dataclass(frozen=True, kw_only=True, slots=True)
class Electrical:
    """What the charger can do: phases wired, nominal voltage, hardware current limit per phase."""

    phases: int
    voltage_v: float
    max_current_a: float


@dataclass(frozen=True, kw_only=True, slots=True)
class Limit:
    """The limit in force: ``amps`` per phase on ``phases`` phases (``watts`` is the same limit in W)."""

    amps: float
    phases: int
    voltage_v: float

    @property
    def watts(self) -> float:
        return self.amps * self.voltage_v * self.phases

    def value(self, unit: str) -> float:
        return self.amps if unit == "A" else self.watts


@dataclass(frozen=True, kw_only=True, slots=True)
class CompositePeriod:
    start: int  # seconds from the composite's start
    limit: float  # in the requested unit
    phases: int


@dataclass(frozen=True, kw_only=True, slots=True)
class Context:
    """The transaction running on the EVSE, if any: Relative schedules and TxProfiles refer to it."""

    tx_id: str | None = None
    tx_start: float | None = None


def schedule_start(p: Profile, t: float, relative_start: float) -> float | None:
    """When the occurrence of ``p``'s schedule that covers ``t`` started (None: no occurrence yet)."""
    if p.kind is Kind.RELATIVE:
        return relative_start
    base = p.start_schedule if p.start_schedule is not None else (p.valid_from or p.installed_at)
    if p.kind is Kind.ABSOLUTE:
        return base
    every = RECURRENCE_SECONDS[p.recurrency or "Daily"]
    return base + math.floor((t - base) / every) * every


def period_at(p: Profile, t: float, ctx: Context, request_start: float) -> Period | None:
    """The period of ``p`` in force at ``t``, or None if ``p`` does not apply then (rule 1)."""
    if p.valid_from is not None and t < p.valid_from:
        return None
    if p.valid_to is not None and t >= p.valid_to:
        return None
    if p.purpose is Purpose.TX and (ctx.tx_id is None or p.transaction_id not in (None, ctx.tx_id)):
        return None
    start = schedule_start(p, t, ctx.tx_start if ctx.tx_start is not None else request_start)
    if start is None or t < start:
        return None
    offset = t - start
    end = p.duration
    if p.kind is Kind.RECURRING:
        every = RECURRENCE_SECONDS[p.recurrency or "Daily"]
        end = every if end is None else min(end, every)
    if end is not None and offset >= end:
        return None
    found = None
    for period in p.periods:
        if period.start > offset:
            break
        found = period
    return found


def limit_at(
    profiles: Sequence[Profile],
    t: float,
    *,
    evse_id: int,
    electrical: Electrical,
    ctx: Context = Context(),
    request_start: float | None = None,
) -> Limit:
    """The limit in force on ``evse_id`` at ``t`` (rules 2-5). ``profiles`` are the station's and the EVSE's."""
    rs = t if request_start is None else request_start
    chosen: list[tuple[Period, str]] = []
    max_profiles = [p for p in profiles if p.purpose is Purpose.MAX]
    tx = [p for p in profiles if p.purpose is Purpose.TX and p.evse_id == evse_id]
    own_default = [p for p in profiles if p.purpose is Purpose.TX_DEFAULT and p.evse_id == evse_id]
    station_default = [p for p in profiles if p.purpose is Purpose.TX_DEFAULT and p.evse_id == 0]
    _add(chosen, max_profiles, t, ctx, rs)
    for group in (tx, own_default, station_default):
        if _add(chosen, group, t, ctx, rs):
            break
    phases = min([electrical.phases] + [min(per.phases or DEFAULT_PHASES, electrical.phases) for per, _ in chosen])
    amps = electrical.max_current_a
    for period, unit in chosen:
        per_phase = period.limit if unit == "A" else period.limit / (electrical.voltage_v * phases)
        amps = min(amps, per_phase)
    return Limit(amps=max(0.0, amps), phases=phases, voltage_v=electrical.voltage_v)


def _add(chosen: list[tuple[Period, str]], group: list[Profile], t: float, ctx: Context, rs: float) -> bool:
    best: tuple[int, float, Period, str] | None = None
    for p in group:
        period = period_at(p, t, ctx, rs)
        if period is not None and (best is None or (p.stack_level, p.installed_at) > best[:2]):
            best = (p.stack_level, p.installed_at, period, p.unit)
    if best is None:
        return False
    chosen.append((best[2], best[3]))
    return True


def _breakpoints(p: Profile, start: float, end: float, ctx: Context) -> set[float]:
    points = {t for t in (p.valid_from, p.valid_to) if t is not None}
    rel = ctx.tx_start if ctx.tx_start is not None else start
    if p.kind is Kind.RECURRING:
        every = RECURRENCE_SECONDS[p.recurrency or "Daily"]
        first = schedule_start(p, start, rel)
        origins = [] if first is None else [first + k * every for k in range(int((end - first) // every) + 1)]
    else:
        origin = schedule_start(p, start, rel)
        origins = [] if origin is None else [origin]
    for o in origins:
        points.update(o + per.start for per in p.periods)
        if p.duration is not None:
            points.add(o + p.duration)
    return points


def composite_schedule(
    profiles: Sequence[Profile],
    *,
    evse_id: int,
    start: float,
    duration: float,
    unit: str,
    electrical: Electrical,
    ctx: Context = Context(),
) -> list[CompositePeriod]:
    """The composite schedule on ``evse_id`` from ``start`` for ``duration`` seconds in ``unit`` ("A" or "W"):
    the periods where the limit changes, offsets in whole seconds. Answer GetCompositeSchedule with it."""
    end = start + duration
    points = {start}
    for p in profiles:
        points.update(t for t in _breakpoints(p, start, end, ctx) if start < t < end)
    periods: list[CompositePeriod] = []
    for t in sorted(points):
        limit = limit_at(profiles, t, evse_id=evse_id, electrical=electrical, ctx=ctx, request_start=start)
        value = round(limit.value(unit), 1)
        if periods and periods[-1].limit == value and periods[-1].phases == limit.phases:
            continue
        periods.append(CompositePeriod(start=round(t - start), limit=value, phases=limit.phases))
    return periods
