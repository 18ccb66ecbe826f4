"""External limits a 2.0.1 charger reported (NotifyChargingLimit, kept by ``Reports`` until ClearedChargingLimit)
as the caps in force at ``now`` (:func:`caps_now`), for the reconcile loop to honour."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from chargewise.charging.external import ExternalCap
from chargewise.domain.reports import ChargingLimit, ChargingSchedule, RateUnit


def caps_now(limits: Iterable[ChargingLimit], now: datetime) -> list[ExternalCap]:
    """One cap per limit whose schedule has a period in force at ``now`` (a schedule without a start counts from
    when the charger reported it; past its duration it is over). A limit reported without a schedule says no
    number and caps nothing."""
    out = []
    for limit in limits:
        amps = watts = None
        for schedule in limit.schedules:
            value = _in_force(schedule, limit.reported_at, now)
            if value is None:
                continue
            if schedule.rate_unit is RateUnit.AMPERE:
                amps = value if amps is None else min(amps, value)
            else:
                watts = value if watts is None else min(watts, value)
        if amps is not None or watts is not None:
            out.append(ExternalCap(charger=limit.charger_id, evse=limit.evse_id, source=limit.source.value,
                                   amps=amps, watts=watts))  # fmt: skip
    return out


def _in_force(schedule: ChargingSchedule, reported_at: datetime, now: datetime) -> float | None:
    start = schedule.start or reported_at
    if now < start or (schedule.duration_s is not None and now >= start + timedelta(seconds=schedule.duration_s)):
        return None
    value = None
    for period in sorted(schedule.periods, key=lambda p: p.start_s):
        if start + timedelta(seconds=period.start_s) <= now:
            value = period.limit
    return value
