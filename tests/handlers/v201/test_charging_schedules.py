from __future__ import annotations

import copy
from typing import Any

import pytest

from chargewise.domain.reports import LimitSource
from chargewise.handlers.context import Handler
from chargewise.handlers.v201 import charging_schedules as read
from chargewise.handlers.v201.routing import routes
from chargewise.ocpp.errors import ErrorKind, RemoteProtocolError
from tests.handlers.station import Station
from tests.handlers.v201.reports_cases import REQUESTS


def test_integers_are_bounded_and_integral_numbers_count() -> None:
    assert read.integer(7, "x") == 7 and read.integer(7.0, "x") == 7 and read.integer(2**31 - 1, "x") == 2**31 - 1
    for bad in (-1, 2**31, 1.5, 1e20, True, "7", None):
        with pytest.raises(RemoteProtocolError, match="x: "):
            read.integer(bad, "x")


def test_quantities_are_finite_and_bounded() -> None:
    assert read.quantity(3, "q") == 3.0 and read.quantity(-2.5, "q", minimum=-10) == -2.5
    for bad in (-0.1, 1e10, float("inf"), float("nan"), 10**400, "x", True):
        with pytest.raises(RemoteProtocolError):
            read.quantity(bad, "q")


def test_moments_that_utc_cannot_hold_are_refused() -> None:
    assert read.moment("2026-12-01T12:00:00+01:00", "t").hour == 11
    for bad in ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "tomorrow", 5):
        with pytest.raises(RemoteProtocolError) as refused:
            read.moment(bad, "t")
        assert refused.value.kind is ErrorKind.PROPERTY_CONSTRAINT


def test_unknown_enum_values_are_refused_by_name() -> None:
    assert read.member(LimitSource, "SO", "s") is LimitSource.SO
    with pytest.raises(RemoteProtocolError, match="'DSO' is not one of EMS, Other, SO, CSO"):
        read.member(LimitSource, "DSO", "s")


def _set(payload: dict[str, Any], path: tuple[str | int, ...], value: object) -> dict[str, Any]:
    changed = copy.deepcopy(payload)
    target: Any = changed
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return changed


# a value outside the schema's enum, as a charger whose quirks allow unknown enum values sends it
UNKNOWN_ENUMS = {
    "ReportChargingProfiles": ("chargingLimitSource",),
    "NotifyChargingLimit": ("chargingSchedule", 0, "chargingRateUnit"),
    "ClearedChargingLimit": ("chargingLimitSource",),
    "NotifyEVChargingNeeds": ("chargingNeeds", "requestedEnergyTransfer"),
    "NotifyEVChargingSchedule": ("chargingSchedule", "chargingRateUnit"),
    "PublishFirmwareStatusNotification": ("status",),
    "ReservationStatusUpdate": ("reservationUpdateStatus",),
}


@pytest.mark.parametrize(("action", "path"), UNKNOWN_ENUMS.items(), ids=UNKNOWN_ENUMS.keys())
async def test_an_unknown_enum_value_is_the_chargers_fault_not_an_internal_error(
    station: Station, action: str, path: tuple[str | int, ...]
) -> None:
    handle: Handler = routes()[action]
    with pytest.raises(RemoteProtocolError) as refused:
        await station.send(handle, action, _set(REQUESTS[action], path, "Vendor"), schema_valid=False)
    assert refused.value.kind is ErrorKind.PROPERTY_CONSTRAINT
