"""Reading the parts of 2.0.1 reports the schema leaves unbounded: ids, numbers, times, charging schedules and
profiles. Each function returns the domain value or raises the charger's fault (``RemoteProtocolError``), so a
report with one bad field is refused as a whole and nothing of it is stored."""

from __future__ import annotations

import enum
import itertools
import math
from datetime import datetime
from typing import Any, TypeVar

from chargewise.domain.reports import ChargingProfile, ChargingSchedule, RateUnit, SchedulePeriod
from chargewise.handlers.context import Payload, parse_time
from chargewise.ocpp.errors import ErrorKind, RemoteProtocolError

#: ids, sequence numbers and seconds: what a 32-bit signed integer column holds
MAX_INT = 2**31 - 1
#: EVSEs per charger: the spec sets no limit, but kept records are per EVSE, so a charger could otherwise fill
#: the database with EVSEs it does not have; far beyond any real charger
MAX_EVSE = 128
#: rates (A or W) and energies (Wh) beyond any charger or site
MAX_QUANTITY = 1e9

_E = TypeVar("_E", bound=enum.Enum)


def refuse(field: str, problem: str) -> RemoteProtocolError:
    return RemoteProtocolError(ErrorKind.PROPERTY_CONSTRAINT, f"{field}: {problem}")


def member(kind: type[_E], value: Any, field: str) -> _E:
    """The enum member spelled ``value``: one the schema does not list (a charger allowed unknown enum values
    by its quirks) is refused here, since nothing could act on it."""
    try:
        return kind(value)
    except ValueError:
        raise refuse(field, f"{value!r} is not one of {', '.join(str(m.value) for m in kind)}") from None


def integer(value: Any, field: str, *, minimum: int = 0, maximum: int = MAX_INT) -> int:
    """An integer within ``minimum..maximum`` (default 0..2^31-1); an integral number such as 1.0 counts (the
    schemas' JSON Schema draft says so)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise refuse(field, f"{value!r} is not an integer from {minimum} to {maximum}")
    return value


def evse(value: Any, field: str = "evseId", *, minimum: int = 1) -> int:
    """An EVSE id from ``minimum`` (1, or 0 where the charger as a whole is meant) to :data:`MAX_EVSE`."""
    return integer(value, field, minimum=minimum, maximum=MAX_EVSE)


def optional_integer(value: Any, field: str, *, minimum: int = 0, maximum: int = MAX_INT) -> int | None:
    return None if value is None else integer(value, field, minimum=minimum, maximum=maximum)


def quantity(value: Any, field: str, *, minimum: float = 0.0) -> float:
    """A finite number from ``minimum`` to :data:`MAX_QUANTITY`."""
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise refuse(field, f"{value!r} is not a number") from None
    if isinstance(value, bool) or not math.isfinite(number) or not minimum <= number <= MAX_QUANTITY:
        raise refuse(field, f"{value!r} is not a number from {minimum:g} to {MAX_QUANTITY:g}")
    return number


def optional_quantity(value: Any, field: str) -> float | None:
    return None if value is None else quantity(value, field)


def moment(value: Any, field: str) -> datetime:
    """An RFC 3339 date-time, as UTC (``parse_time`` refuses one that UTC cannot hold, year 1 at +01:00)."""
    if not isinstance(value, str):
        raise refuse(field, f"{value!r} is not a date-time")
    return parse_time(value)


def optional_moment(value: Any, field: str) -> datetime | None:
    return None if value is None else moment(value, field)


def schedule(raw: Payload, field: str = "chargingSchedule") -> ChargingSchedule:
    """A ChargingScheduleType; periods must start at 0 and go strictly forward (the sales tariff is dropped)."""
    where = f"{field}.chargingSchedulePeriod"
    periods = tuple(_period(p, f"{where}[{n}]") for n, p in enumerate(raw["chargingSchedulePeriod"]))
    starts = [p.start_s for p in periods]
    if starts[0] != 0 or any(a >= b for a, b in itertools.pairwise(starts)):
        raise refuse(where, f"startPeriod {starts} must begin at 0 and increase")
    return ChargingSchedule(
        id=integer(raw["id"], f"{field}.id"), periods=periods,
        rate_unit=member(RateUnit, raw["chargingRateUnit"], f"{field}.chargingRateUnit"),
        start=optional_moment(raw.get("startSchedule"), f"{field}.startSchedule"),
        duration_s=optional_integer(raw.get("duration"), f"{field}.duration"),
        min_rate=optional_quantity(raw.get("minChargingRate"), f"{field}.minChargingRate"),
    )  # fmt: skip


def _period(raw: Payload, field: str) -> SchedulePeriod:
    phases = optional_integer(raw.get("numberPhases"), f"{field}.numberPhases", minimum=1, maximum=3)
    phase_to_use = optional_integer(raw.get("phaseToUse"), f"{field}.phaseToUse", minimum=1, maximum=3)
    if phase_to_use is not None and phases != 1:
        raise refuse(f"{field}.phaseToUse", "only allowed with numberPhases 1")
    return SchedulePeriod(
        start_s=integer(raw["startPeriod"], f"{field}.startPeriod"), limit=quantity(raw["limit"], f"{field}.limit"),
        phases=phases, phase_to_use=phase_to_use,
    )  # fmt: skip


def profile(raw: Payload, field: str = "chargingProfile") -> ChargingProfile:
    """A ChargingProfileType, each of its schedules read by :func:`schedule`."""
    valid_from = optional_moment(raw.get("validFrom"), f"{field}.validFrom")
    valid_to = optional_moment(raw.get("validTo"), f"{field}.validTo")
    if valid_from is not None and valid_to is not None and valid_to < valid_from:
        raise refuse(f"{field}.validTo", "lies before validFrom")
    schedules = tuple(schedule(s, f"{field}.chargingSchedule[{n}]") for n, s in enumerate(raw["chargingSchedule"]))
    return ChargingProfile(
        id=integer(raw["id"], f"{field}.id"), stack_level=integer(raw["stackLevel"], f"{field}.stackLevel"),
        purpose=raw["chargingProfilePurpose"], kind=raw["chargingProfileKind"], schedules=schedules,
        recurrency=raw.get("recurrencyKind"), valid_from=valid_from, valid_to=valid_to,
        transaction_id=raw.get("transactionId"),
    )  # fmt: skip
