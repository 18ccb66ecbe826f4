"""Charging profiles on the charger: one version-neutral model, parsed from either OCPP version, and the
store that decides which SetChargingProfile to accept and which profile it replaces.

Rules (OCPP 1.6 section 3.13 / 5.16, OCPP 2.0.1 K01, K10):

1. A max profile (1.6 ChargePointMaxProfile, 2.0.1 ChargingStationMaxProfile) lives on the station (id 0).
2. A TxProfile needs a running transaction on its EVSE; a transactionId that names another one is refused.
   TxProfiles are deleted when their transaction ends.
3. A new profile replaces the one with the same id (1.6 3.13.4, 2.0.1 K01.FR.05). A TxProfile and a
   non-Tx profile never replace each other by id: OCTT TC_K_41_CS installs TxDefaultProfile id 2 and
   TxProfile id 2 and expects both in the composite schedule.
4. Same purpose, stack level and EVSE (for a TxProfile: same transaction) under another id: OCPP 1.6
   replaces the old profile; 2.0.1 rejects the new one when their validity overlaps (K01.FR.06).
5. The first period of a schedule starts at 0; periods ascend.
6. A template's quirks narrow what is accepted: purposes, rate units, maximum stack level, periods.
"""

from __future__ import annotations

import enum
import itertools
import math
from dataclasses import dataclass, replace
from typing import Any

from chargewise.simulator.clock import parse_iso
from chargewise.simulator.templates import Quirks


class Purpose(enum.Enum):
    MAX = "max"
    TX_DEFAULT = "tx-default"
    TX = "tx"


class Kind(enum.Enum):
    ABSOLUTE = "Absolute"
    RECURRING = "Recurring"
    RELATIVE = "Relative"


RECURRENCE_SECONDS = {"Daily": 86_400.0, "Weekly": 604_800.0}
_PURPOSES = {
    "ChargePointMaxProfile": Purpose.MAX,
    "ChargingStationMaxProfile": Purpose.MAX,
    "TxDefaultProfile": Purpose.TX_DEFAULT,
    "TxProfile": Purpose.TX,
}


@dataclass(frozen=True, kw_only=True, slots=True)
class Period:
    start: float  # seconds from the schedule's start
    limit: float
    phases: int | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Profile:
    """One installed profile. ``evse_id`` 0 is the station; times are POSIX seconds."""

    id: int
    evse_id: int
    stack_level: int
    purpose: Purpose
    kind: Kind
    unit: str  # "A" or "W"
    periods: tuple[Period, ...]
    recurrency: str | None = None
    valid_from: float | None = None
    valid_to: float | None = None
    transaction_id: str | None = None
    start_schedule: float | None = None
    duration: float | None = None
    min_rate: float | None = None
    installed_at: float = 0.0


class ProfileError(ValueError):
    """The CSMS sent a profile this charger cannot use; answer Rejected (the message says why)."""


def _time(text: Any) -> float | None:
    return parse_iso(text) if isinstance(text, str) else None


def _schedule(profile_id: int, evse_id: int, raw: dict[str, Any], sched: dict[str, Any], now: float) -> Profile:
    purpose = _PURPOSES.get(raw["chargingProfilePurpose"])
    if purpose is None:
        raise ProfileError(f"purpose {raw['chargingProfilePurpose']} cannot be set by the CSMS")
    periods = tuple(
        Period(start=float(p["startPeriod"]), limit=float(p["limit"]), phases=p.get("numberPhases"))
        for p in sched["chargingSchedulePeriod"]
    )
    if not periods or periods[0].start != 0 or any(a.start >= b.start for a, b in itertools.pairwise(periods)):
        raise ProfileError("schedule periods must start at 0 and ascend")
    tx = raw.get("transactionId")
    return Profile(
        id=profile_id,
        evse_id=evse_id,
        stack_level=int(raw["stackLevel"]),
        purpose=purpose,
        kind=Kind(raw["chargingProfileKind"]),
        unit=sched["chargingRateUnit"],
        periods=periods,
        recurrency=raw.get("recurrencyKind"),
        valid_from=_time(raw.get("validFrom")),
        valid_to=_time(raw.get("validTo")),
        transaction_id=None if tx is None else str(tx),
        start_schedule=_time(sched.get("startSchedule")),
        duration=None if sched.get("duration") is None else float(sched["duration"]),
        min_rate=sched.get("minChargingRate"),
        installed_at=now,
    )


def from_v16(raw: dict[str, Any], connector_id: int, now: float) -> Profile:
    """Parse a 1.6 ``csChargingProfiles`` set on ``connector_id`` at ``now``."""
    return _schedule(raw["chargingProfileId"], connector_id, raw, raw["chargingSchedule"], now)


def from_v201(raw: dict[str, Any], evse_id: int, now: float) -> Profile:
    """Parse a 2.0.1 ``chargingProfile`` set on ``evse_id``. Its first schedule is used (the others are
    alternatives offered to an ISO 15118 EV)."""
    return _schedule(raw["id"], evse_id, raw, raw["chargingSchedule"][0], now)


class ProfileStore:
    """The profiles installed on one charger. Ask :meth:`relevant` for what applies to an EVSE."""

    def __init__(self, *, evse_count: int, quirks: Quirks, replace_same_slot: bool = True) -> None:
        self.evse_count = evse_count
        self.quirks = quirks
        self.replace_same_slot = replace_same_slot  # True for 1.6 (rule 4)
        self.profiles: list[Profile] = []

    def install(self, profile: Profile, *, active_tx: str | None) -> Profile:
        """Check ``profile`` against the rules and quirks and store it; ``active_tx`` is the transaction
        running on its EVSE. Returns the stored profile (a TxProfile gets the transaction id); raises
        :class:`ProfileError` (answer Rejected) otherwise."""
        self._check(profile, active_tx)
        if profile.purpose is Purpose.TX and profile.transaction_id is None:
            profile = replace(profile, transaction_id=active_tx)
        if not self.replace_same_slot:
            clash = [p for p in self.profiles if _same_slot(p, profile) and p.id != profile.id and _overlap(p, profile)]
            if clash:
                raise ProfileError(f"profile {clash[0].id} already has this purpose and stack level here")
        self.profiles = [p for p in self.profiles if not self._replaced_by(p, profile)]
        self.profiles.append(profile)
        return profile

    def _check(self, p: Profile, active_tx: str | None) -> None:
        q = self.quirks
        if p.purpose.value not in q.profile_purposes:
            raise ProfileError(f"this charger accepts only {', '.join(q.profile_purposes)} profiles")
        if p.unit not in q.rate_units:
            raise ProfileError(f"this charger accepts only {'/'.join(q.rate_units)} schedules")
        if p.stack_level > q.max_stack_level:
            raise ProfileError(f"stackLevel above {q.max_stack_level}")
        if len(p.periods) > q.max_periods:
            raise ProfileError(f"more than {q.max_periods} periods")
        if not 0 <= p.evse_id <= self.evse_count:
            raise ProfileError(f"no EVSE/connector {p.evse_id}")
        if p.purpose is Purpose.MAX and p.evse_id != 0:
            raise ProfileError("a max profile belongs on the station (id 0)")
        if p.purpose is Purpose.TX:
            if p.evse_id == 0 or active_tx is None:
                raise ProfileError("a TxProfile needs a running transaction on its EVSE")
            if p.transaction_id is not None and p.transaction_id != active_tx:
                raise ProfileError(f"transaction {p.transaction_id} is not running here")
        if p.kind is Kind.RECURRING and p.recurrency not in RECURRENCE_SECONDS:
            raise ProfileError("a Recurring profile needs recurrencyKind Daily or Weekly")

    def clear(
        self,
        *,
        profile_id: int | None = None,
        evse_id: int | None = None,
        purpose: Purpose | None = None,
        stack_level: int | None = None,
    ) -> int:
        """Remove the profiles matching every given criterion; return how many (0: answer Unknown)."""

        def matches(p: Profile) -> bool:
            if profile_id is not None:
                return p.id == profile_id
            return (
                (evse_id is None or p.evse_id == evse_id)
                and (purpose is None or p.purpose is purpose)
                and (stack_level is None or p.stack_level == stack_level)
            )

        kept = [p for p in self.profiles if not matches(p)]
        removed = len(self.profiles) - len(kept)
        self.profiles = kept
        return removed

    def end_transaction(self, evse_id: int) -> None:
        """Delete the TxProfiles of the transaction that just ended on ``evse_id``."""
        self.profiles = [p for p in self.profiles if not (p.purpose is Purpose.TX and p.evse_id == evse_id)]

    def relevant(self, evse_id: int) -> list[Profile]:
        """Profiles that can apply to ``evse_id``: the station's and the EVSE's own."""
        return [p for p in self.profiles if p.evse_id in (0, evse_id)]

    def _replaced_by(self, old: Profile, new: Profile) -> bool:
        if old.id == new.id and (old.purpose is Purpose.TX) == (new.purpose is Purpose.TX):
            return True
        return self.replace_same_slot and _same_slot(old, new)


def _same_slot(a: Profile, b: Profile) -> bool:
    slot = a.purpose is b.purpose and a.stack_level == b.stack_level and a.evse_id == b.evse_id
    return slot and (a.purpose is not Purpose.TX or a.transaction_id == b.transaction_id)


def _overlap(a: Profile, b: Profile) -> bool:
    lo_a, lo_b = _or(a.valid_from, -math.inf), _or(b.valid_from, -math.inf)
    return lo_a < _or(b.valid_to, math.inf) and lo_b < _or(a.valid_to, math.inf)


def _or(value: float | None, default: float) -> float:
    return default if value is None else value
