from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from chargewise.domain.reports import EnergyTransfer, EvChargingNeeds
from chargewise.handlers.v201.notify_ev_charging_needs import handle
from chargewise.ocpp.errors import ErrorKind, RemoteProtocolError
from tests.handlers.station import Station
from tests.handlers.v201.reports_cases import REQUESTS

AC = REQUESTS["NotifyEVChargingNeeds"]
DC: dict[str, Any] = {"evseId": 2, "chargingNeeds": {"requestedEnergyTransfer": "DC", "dcChargingParameters": {
    "evMaxCurrent": 125, "evMaxVoltage": 800, "energyAmount": 45000, "evMaxPower": 150000, "stateOfCharge": 20,
    "evEnergyCapacity": 77000, "fullSoC": 100, "bulkSoC": 80}}}  # fmt: skip


async def test_ac_needs_are_kept_and_answered_rejected_since_no_schedule_will_come(station: Station) -> None:
    answer = await station.send(handle, "NotifyEVChargingNeeds", AC)
    assert answer["status"] == "Rejected" and answer["statusInfo"]["reasonCode"] == "NoSchedule"
    assert await station.reports.ev_charging_needs("CP-1", 1) == EvChargingNeeds(
        charger_id="CP-1", evse_id=1, transfer=EnergyTransfer.AC_THREE_PHASE,
        departure_time=datetime(2026, 12, 1, 18, 0, tzinfo=UTC), energy_wh=30000.0, min_current_a=6.0,
        max_current_a=32.0, max_voltage_v=400.0, max_schedule_tuples=12, reported_at=station.clock.now(),
    )  # fmt: skip


async def test_dc_needs_are_kept_and_replace_the_evses_earlier_ones(station: Station) -> None:
    await station.send(handle, "NotifyEVChargingNeeds", dict(AC, evseId=2))
    await station.send(handle, "NotifyEVChargingNeeds", DC)
    assert await station.reports.ev_charging_needs("CP-1", 2) == EvChargingNeeds(
        charger_id="CP-1", evse_id=2, transfer=EnergyTransfer.DC, energy_wh=45000.0, max_current_a=125.0,
        max_voltage_v=800.0, max_power_w=150000.0, state_of_charge=20, capacity_wh=77000.0,
        reported_at=station.clock.now(),
    )  # fmt: skip


def _ac(**parameters: object) -> dict[str, Any]:
    request = copy.deepcopy(AC)
    request["chargingNeeds"]["acChargingParameters"].update(parameters)
    return request


BAD = {
    "evse 0 (the spec: may not be 0)": dict(AC, evseId=0),
    "min current above max": _ac(evMinCurrent=40),
    "negative energy": _ac(energyAmount=-1),
    "energy beyond any battery": _ac(energyAmount=10**12),
    "no schedule tuples": dict(AC, maxScheduleTuples=0),
    "max current beyond any EV": {"evseId": 2, "chargingNeeds": {"requestedEnergyTransfer": "DC",
                                  "dcChargingParameters": {"evMaxCurrent": 2**40, "evMaxVoltage": 1}}},
    "departure beyond UTC": {"evseId": 1, "chargingNeeds": {"requestedEnergyTransfer": "DC",
                             "departureTime": "0001-01-01T00:00:00+01:00"}},
}  # fmt: skip


@pytest.mark.parametrize("request_", BAD.values(), ids=BAD.keys())
async def test_values_the_schema_leaves_open_are_refused_and_nothing_is_kept(
    station: Station, request_: dict[str, Any]
) -> None:
    with pytest.raises(RemoteProtocolError) as refused:
        await station.send(handle, "NotifyEVChargingNeeds", request_)
    assert refused.value.kind is ErrorKind.PROPERTY_CONSTRAINT
    for evse in (0, 1, 2):
        assert await station.reports.ev_charging_needs("CP-1", evse) is None
