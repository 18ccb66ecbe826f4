"""Read-back: does the charger's composite schedule (GetCompositeSchedule) hold what we compiled?

The composite may be lower than our target (the EV's own limit, a NotifyChargingLimit from a local energy
manager, another profile at a higher stack level): lower is safe and accepted. Higher is a failure: the
charger ignored or misapplied the profile, and the site limit is at risk.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chargewise.charging.profiles import Target
from chargewise.domain.model import OcppVersion

TOLERANCE_A = 0.5  # rounding in chargers that hold whole amps or convert W <-> A


@dataclass(frozen=True, kw_only=True, slots=True)
class Verdict:
    ok: bool
    detail: str
    composite_a: float | None = None  # the composite's limit now, in amps per phase


def _schedule(version: OcppVersion, answer: dict[str, Any]) -> dict[str, Any] | None:
    if answer.get("status") != "Accepted":
        return None
    schedule = answer.get("chargingSchedule") if version is OcppVersion.V16 else answer.get("schedule")
    return schedule if isinstance(schedule, dict) else None


def _amps(period: dict[str, Any], unit: str, voltage: float) -> float:
    limit = float(period["limit"])
    if unit == "A":
        return limit
    phases = int(period.get("numberPhases") or 3)
    return limit / (voltage * phases)


def verify(version: OcppVersion, target: Target, answer: dict[str, Any], *, horizon_s: int | None = None) -> Verdict:
    """Compare each composite period starting within ``horizon_s`` (default: all) with the target's step in
    force at that offset. Both schedules are taken to start now (we ask for the composite right after the
    profile was accepted)."""
    schedule = _schedule(version, answer)
    if schedule is None:
        return Verdict(ok=False, detail=f"GetCompositeSchedule answered {answer.get('status', 'no status')}")
    unit = schedule.get("chargingRateUnit", "A")
    periods = schedule.get("chargingSchedulePeriod") or []
    if not periods:
        return Verdict(ok=False, detail="the composite schedule has no periods")
    first = _amps(periods[0], unit, target.voltage_v)
    for period in periods:
        at = int(period["startPeriod"])
        if horizon_s is not None and at >= horizon_s:
            break
        allowed = [s for s in target.steps if s.start_s <= at][-1].limit_a
        got = _amps(period, unit, target.voltage_v)
        if got > allowed + TOLERANCE_A:
            detail = f"at +{at} s the charger allows {got:.1f} A, above the {allowed:.1f} A we set"
            return Verdict(ok=False, composite_a=first, detail=detail)
    return Verdict(
        ok=True, composite_a=first, detail=f"holds {first:.1f} A now (target {target.steps[0].limit_a:.1f} A)"
    )
