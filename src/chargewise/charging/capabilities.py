"""What a charger's smart charging can take, read from its configuration (1.6 keys, 2.0.1 device-model
variables), and the fallback ladder the profile applier walks down when a profile is refused.

Sources: OCPP 1.6 section 9.1 (ChargeProfileMaxStackLevel, ChargingScheduleAllowedChargingRateUnit,
ChargingScheduleMaxPeriods, MaxChargingProfilesInstalled, ConnectorSwitch3to1PhaseSupported); OCPP 2.0.1
part 2 appendix 3, SmartChargingCtrlr (ProfileStackLevel, RateUnit, PeriodsPerSchedule, Entries,
Phases3to1) and K01 (profile purposes).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, replace


class Purpose(enum.StrEnum):
    """What a profile is for; the OCPP name differs per version only for the station-wide maximum."""

    MAX = "max"  # 1.6 ChargePointMaxProfile, 2.0.1 ChargingStationMaxProfile (on the station, id 0)
    TX_DEFAULT = "tx-default"  # TxDefaultProfile: every transaction on the EVSE (or all, on id 0)
    TX = "tx"  # TxProfile: one running transaction


#: the order the applier tries: the most specific purpose first, then the ones a charger with fewer
#: features still takes (a charger that refuses TxProfile usually takes TxDefaultProfile)
PURPOSE_LADDER = (Purpose.TX, Purpose.TX_DEFAULT, Purpose.MAX)


@dataclass(frozen=True, kw_only=True, slots=True)
class Capabilities:
    """Defaults are what the specs require of every smart-charging charger; ``refused`` grows as profiles
    are refused (a charger's keys do not always tell the truth)."""

    rate_units: frozenset[str] = frozenset({"A", "W"})
    max_stack_level: int = 1  # 1.6 requires at least 1 level above 0; unknown until probed
    max_periods: int = 24
    max_profiles: int | None = None
    phase_switching: bool = False
    purposes: tuple[Purpose, ...] = PURPOSE_LADDER
    probed: bool = False

    def unit(self) -> str:
        """Amps where the charger takes them (per phase, the natural unit of a circuit limit), else watts."""
        return "A" if "A" in self.rate_units else "W"

    def without(self, purpose: Purpose) -> Capabilities:
        """The next rung of the ladder after ``purpose`` was refused."""
        return replace(self, purposes=tuple(p for p in self.purposes if p is not purpose))


def _int(value: str | None, default: int) -> int:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return default


def _units(value: str | None) -> frozenset[str]:
    """``Current,Power`` (1.6 CSL), ``A,W`` (2.0.1 MemberList); empty or unknown means both."""
    names = {"current": "A", "a": "A", "power": "W", "w": "W"}
    units = {names[u.strip().lower()] for u in (value or "").split(",") if u.strip().lower() in names}
    return frozenset(units) or frozenset({"A", "W"})


def from_v16(keys: Mapping[str, str]) -> Capabilities:
    """From GetConfiguration's answer (key -> value)."""
    return Capabilities(
        rate_units=_units(keys.get("ChargingScheduleAllowedChargingRateUnit")),
        max_stack_level=_int(keys.get("ChargeProfileMaxStackLevel"), 1),
        max_periods=_int(keys.get("ChargingScheduleMaxPeriods"), 24),
        max_profiles=_int(keys.get("MaxChargingProfilesInstalled"), 0) or None,
        phase_switching=str(keys.get("ConnectorSwitch3to1PhaseSupported", "")).lower() == "true",
        probed=True,
    )


def from_v201(variables: Mapping[str, str]) -> Capabilities:
    """From GetVariables/NotifyReport of the SmartChargingCtrlr component (variable name -> value)."""
    return Capabilities(
        rate_units=_units(variables.get("RateUnit")),
        max_stack_level=_int(variables.get("ProfileStackLevel"), 1),
        max_periods=_int(variables.get("PeriodsPerSchedule"), 24),
        max_profiles=_int(variables.get("Entries"), 0) or None,
        phase_switching=str(variables.get("Phases3to1", "")).lower() == "true",
        probed=True,
    )


#: what the applier asks for on first connect
V16_KEYS = (
    "ChargeProfileMaxStackLevel", "ChargingScheduleAllowedChargingRateUnit", "ChargingScheduleMaxPeriods",
    "MaxChargingProfilesInstalled", "ConnectorSwitch3to1PhaseSupported",
)  # fmt: skip
V201_VARIABLES = ("ProfileStackLevel", "RateUnit", "PeriodsPerSchedule", "Entries", "Phases3to1")
