from __future__ import annotations

from typing import Any

import pytest

from chargewise.domain.meter import ENERGY_REGISTER
from chargewise.handlers.v201.meter_values import handle, to_meter_values
from tests.handlers.station import Station


def meter_values(evse: int, *sampled: dict[str, Any]) -> dict[str, Any]:
    return {"evseId": evse, "meterValue": [{"timestamp": "2024-05-01T12:00:00Z", "sampledValue": list(sampled)}]}


async def test_samples_are_stored_unlinked_in_base_units(station: Station) -> None:
    answer = await station.send(handle, "MeterValues", meter_values(
        2,
        {"value": 12.5, "measurand": ENERGY_REGISTER, "unitOfMeasure": {"unit": "kWh"}, "context": "Sample.Clock"},
        {"value": 11, "measurand": "Power.Active.Import", "unitOfMeasure": {"unit": "kW"}},
        {"value": 16.1, "measurand": "Current.Import", "phase": "L2", "location": "EV"},
    ))  # fmt: skip
    assert answer == {}
    assert [(s.evse_id, s.transaction_id, s.measurand, s.value, s.unit, s.phase, s.context, s.location)
            for s in station.store.samples] == [
        (2, None, ENERGY_REGISTER, 12500.0, "Wh", None, "Sample.Clock", None),
        (2, None, "Power.Active.Import", 11000.0, "W", None, None, None),
        (2, None, "Current.Import", 16.1, "A", "L2", None, "EV"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("value", "unit_of_measure", "wh"),
    [
        (1500, None, 1500.0),  # no unit: the register is Wh
        (1.5, {"unit": "kWh"}, 1500.0),
        (2, {"unit": "Wh", "multiplier": 3}, 2000.0),
        (1500, {"unit": "kWh", "multiplier": -3}, 1500.0),
        (0.25, {"unit": "kWh", "multiplier": 1}, 2500.0),
        (42, {"multiplier": 2}, 4200.0),  # multiplier with the default unit
    ],
)
def test_register_in_wh_from_unit_and_multiplier(
    value: float, unit_of_measure: dict[str, Any] | None, wh: float
) -> None:
    sampled: dict[str, Any] = {"value": value}
    if unit_of_measure is not None:
        sampled["unitOfMeasure"] = unit_of_measure
    [value] = to_meter_values("CP-1", 1, None, [{"timestamp": "2024-05-01T12:00:00Z", "sampledValue": [sampled]}])
    [sample] = value.sampled
    assert (sample.measurand, sample.value, sample.unit) == (ENERGY_REGISTER, pytest.approx(wh), "Wh")
