"""Limits and plans compiled into OCPP charging profiles, per version, within what a charger takes.

Two profiles per EVSE, so that a charger keeps the site safe when the backend is gone:

- the **failsafe**: a permanent profile at stack level 0 with the share of the site the charger may always
  draw (set once after connect, re-set when the share changes);
- the **control** profile: the live limit or plan at the highest stack level the charger allows, valid for a
  lease only (``validTo``). If the backend stops renewing it (server down, link lost), it expires and the
  charger falls back to its failsafe within the lease (OCPP 1.6 3.13.2 / 2.0.1 K01: the highest stack level
  valid now wins; an expired profile no longer applies).

Purposes follow the ladder in :mod:`capabilities`: TxProfile while a transaction runs, else TxDefaultProfile,
else the station's max profile (only right for a one-EVSE charger). Limits go out in amps per phase where the
charger takes amps, else in watts (``limit x voltage x phases``), always with ``numberPhases``. Plans with
more periods than the charger holds are merged, keeping the lowest limit of each merged run (never more
than planned).

Call :func:`needs_send` with what was last accepted: only what changed is sent again, and a control profile
is renewed once half its lease has passed. A plan's later periods count by the second they start at, so the same
plan edge compiled in the next cycle (a few seconds nearer) is not a change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chargewise.charging.capabilities import Capabilities, Purpose
from chargewise.domain.model import OcppVersion

#: profile ids: one failsafe and one control profile per EVSE, stable across restarts (no bookkeeping)
FAILSAFE_ID_BASE = 9000
CONTROL_ID_BASE = 9500
DEFAULT_LEASE = timedelta(minutes=10)

_NAMES = {
    OcppVersion.V16: {Purpose.MAX: "ChargePointMaxProfile", Purpose.TX_DEFAULT: "TxDefaultProfile",
                      Purpose.TX: "TxProfile"},
    OcppVersion.V201: {Purpose.MAX: "ChargingStationMaxProfile", Purpose.TX_DEFAULT: "TxDefaultProfile",
                       Purpose.TX: "TxProfile"},
}  # fmt: skip


class ProfileUnsupported(ValueError):
    """No rung of the ladder is left for this charger: it refused every purpose it was offered."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Step:
    """From ``start_s`` seconds after the schedule starts: at most ``limit_a`` amps on each of ``phases``."""

    start_s: int
    limit_a: float
    phases: int = 1


@dataclass(frozen=True, kw_only=True, slots=True)
class Target:
    """What one EVSE should be held to: one step (a live limit) or several (a plan)."""

    evse_id: int  # 1.6 connector id
    steps: tuple[Step, ...]
    voltage_v: float = 230.0
    transaction_id: str | None = None  # the running transaction, if any

    def __post_init__(self) -> None:
        if not self.steps or self.steps[0].start_s != 0:
            raise ValueError("a target's first step starts at 0")
        if any(b.start_s <= a.start_s for a, b in zip(self.steps, self.steps[1:], strict=False)):
            raise ValueError("a target's steps ascend")


@dataclass(frozen=True, kw_only=True, slots=True)
class Compiled:
    """A SetChargingProfile ready to send: ``payload`` is the request; ``fingerprint`` what it says (times
    excluded), for :func:`needs_send`."""

    purpose: Purpose
    profile_id: int
    stack_level: int
    evse_id: int
    payload: dict[str, Any]
    fingerprint: tuple[Any, ...]
    valid_to: datetime | None


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def merge(steps: tuple[Step, ...], max_periods: int) -> tuple[Step, ...]:
    """At most ``max_periods`` steps: neighbours with the closest limits merge first, taking the lower limit
    and the fewer phases (a merged period never allows more than either part)."""
    merged = list(_collapse(steps))
    while len(merged) > max(1, max_periods):
        i = min(range(len(merged) - 1), key=lambda k: abs(merged[k].limit_a - merged[k + 1].limit_a))
        a, b = merged[i], merged[i + 1]
        merged[i : i + 2] = [Step(start_s=a.start_s, limit_a=min(a.limit_a, b.limit_a), phases=min(a.phases, b.phases))]
    return tuple(merged)


def _collapse(steps: tuple[Step, ...]) -> list[Step]:
    out: list[Step] = []
    for s in steps:
        if out and out[-1].limit_a == s.limit_a and out[-1].phases == s.phases:
            continue
        out.append(s)
    return out


def _purpose(caps: Capabilities, target: Target) -> Purpose:
    for purpose in caps.purposes:
        if purpose is Purpose.TX and target.transaction_id is None:
            continue
        return purpose
    raise ProfileUnsupported(f"EVSE {target.evse_id}: the charger refused every profile purpose")


def _periods(steps: tuple[Step, ...], unit: str, voltage: float) -> list[dict[str, Any]]:
    def limit(s: Step) -> float:
        value = s.limit_a if unit == "A" else s.limit_a * voltage * s.phases
        return round(value, 1)

    return [{"startPeriod": s.start_s, "limit": limit(s), "numberPhases": s.phases} for s in steps]


def _payload(
    version: OcppVersion, *, purpose: Purpose, profile_id: int, stack_level: int, evse_id: int, unit: str,
    periods: list[dict[str, Any]], start: datetime, valid_to: datetime | None, transaction_id: str | None,
) -> dict[str, Any]:  # fmt: skip
    name = _NAMES[version][purpose]
    schedule: dict[str, Any] = {"startSchedule": _iso(start), "chargingRateUnit": unit,
                                "chargingSchedulePeriod": periods}  # fmt: skip
    profile: dict[str, Any] = {"stackLevel": stack_level, "chargingProfilePurpose": name,
                               "chargingProfileKind": "Absolute"}  # fmt: skip
    if valid_to is not None:
        profile["validTo"] = _iso(valid_to)
    if version is OcppVersion.V16:
        if purpose is Purpose.TX and transaction_id is not None:
            profile["transactionId"] = int(transaction_id)
        profile = {"chargingProfileId": profile_id, **profile, "chargingSchedule": schedule}
        return {"connectorId": evse_id, "csChargingProfiles": profile}
    if purpose is Purpose.TX and transaction_id is not None:
        profile["transactionId"] = transaction_id
    profile = {"id": profile_id, **profile, "chargingSchedule": [{"id": profile_id, **schedule}]}
    return {"evseId": evse_id, "chargingProfile": profile}


def control(
    target: Target, caps: Capabilities, version: OcppVersion, now: datetime, *, lease: timedelta = DEFAULT_LEASE
) -> Compiled:
    """The control profile for ``target``, valid for ``lease`` from ``now``."""
    purpose = _purpose(caps, target)
    evse = 0 if purpose is Purpose.MAX else target.evse_id
    steps = merge(target.steps, caps.max_periods)
    unit = caps.unit()
    level = max(1, caps.max_stack_level)
    valid_to = now + lease
    periods = _periods(steps, unit, target.voltage_v)
    profile_id = CONTROL_ID_BASE + target.evse_id
    payload = _payload(
        version, purpose=purpose, profile_id=profile_id, stack_level=level, evse_id=evse, unit=unit,
        periods=periods, start=now, valid_to=valid_to, transaction_id=target.transaction_id,
    )  # fmt: skip
    tx = target.transaction_id if purpose is Purpose.TX else None
    # a later period by the second it starts at (the same edge of a plan compiles alike in every cycle)
    edges = tuple((_edge(now, p["startPeriod"]), p["limit"], p["numberPhases"]) for p in periods)
    fingerprint = (purpose, level, evse, unit, tx, edges)
    return Compiled(purpose=purpose, profile_id=profile_id, stack_level=level, evse_id=evse, payload=payload,
                    fingerprint=fingerprint, valid_to=valid_to)  # fmt: skip


def _edge(now: datetime, start_s: int) -> datetime | int:
    return 0 if start_s == 0 else (now + timedelta(seconds=start_s)).replace(microsecond=0)


def failsafe(
    evse_id: int, limit_a: float, phases: int, caps: Capabilities, version: OcppVersion, now: datetime,
    *, voltage_v: float = 230.0,
) -> Compiled:  # fmt: skip
    """The permanent stack-level-0 profile: what the EVSE may draw when no control profile is valid. On
    TxDefaultProfile where the charger takes it, else on the station's max profile."""
    purpose = Purpose.TX_DEFAULT if Purpose.TX_DEFAULT in caps.purposes else Purpose.MAX
    if purpose not in caps.purposes:
        raise ProfileUnsupported(f"EVSE {evse_id}: the charger refused every purpose a failsafe can use")
    evse = 0 if purpose is Purpose.MAX else evse_id
    unit = caps.unit()
    periods = _periods((Step(start_s=0, limit_a=limit_a, phases=phases),), unit, voltage_v)
    profile_id = FAILSAFE_ID_BASE + evse_id
    payload = _payload(
        version, purpose=purpose, profile_id=profile_id, stack_level=0, evse_id=evse, unit=unit, periods=periods,
        start=now, valid_to=None, transaction_id=None,
    )  # fmt: skip
    fingerprint = (purpose, 0, evse, unit, None, tuple((p["startPeriod"], p["limit"], p["numberPhases"])
                                                        for p in periods))  # fmt: skip
    return Compiled(purpose=purpose, profile_id=profile_id, stack_level=0, evse_id=evse, payload=payload,
                    fingerprint=fingerprint, valid_to=None)  # fmt: skip


@dataclass(frozen=True, kw_only=True, slots=True)
class Sent:
    """What the charger last accepted for one profile id, and when."""

    fingerprint: tuple[Any, ...]
    at: datetime
    valid_to: datetime | None


def needs_send(last: Sent | None, new: Compiled, now: datetime) -> bool:
    """Whether ``new`` must go out: never sent, changed, or a lease more than half used."""
    if last is None or last.fingerprint != new.fingerprint:
        return True
    if last.valid_to is None:
        return False
    return now >= last.at + (last.valid_to - last.at) / 2


def composite_request(version: OcppVersion, evse_id: int, duration_s: int, unit: str = "A") -> dict[str, Any]:
    """The GetCompositeSchedule that reads back what the charger will really do on ``evse_id``."""
    key = "connectorId" if version is OcppVersion.V16 else "evseId"
    return {key: evse_id, "duration": duration_s, "chargingRateUnit": unit}
