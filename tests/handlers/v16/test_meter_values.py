from __future__ import annotations

from typing import Any

import pytest

from chargewise.domain.meter import ENERGY_REGISTER
from chargewise.domain.model import MeterValue, SampledValue
from chargewise.handlers.v16 import start_transaction
from chargewise.handlers.v16.meter_values import handle, to_meter_values
from chargewise.ocpp.errors import ErrorKind, RemoteProtocolError
from tests.domain.clock import T0
from tests.handlers.station import Station


async def start(station: Station, connector: int = 1, meter_start: int = 1000) -> int:
    answer = await station.send(start_transaction.handle, "StartTransaction", {
        "connectorId": connector, "idTag": "TAG", "meterStart": meter_start, "timestamp": "2024-05-01T12:00:00Z",
    })  # fmt: skip
    transaction_id: int = answer["transactionId"]
    return transaction_id


def meter_values(
    connector: int, transaction_id: int | None, *sampled: dict[str, Any], at: str = "2024-05-01T12:15:00Z"
) -> dict[str, Any]:
    payload: dict[str, Any] = {"connectorId": connector}
    payload["meterValue"] = [{"timestamp": at, "sampledValue": list(sampled)}]
    if transaction_id is not None:
        payload["transactionId"] = transaction_id
    return payload


async def test_samples_are_stored_in_base_units_and_linked(station: Station) -> None:
    tx_id = await start(station)
    answer = await station.send(handle, "MeterValues", meter_values(
        1, tx_id,
        {"value": "2.5", "measurand": ENERGY_REGISTER, "unit": "kWh", "context": "Sample.Periodic"},
        {"value": "7.4", "measurand": "Power.Active.Import", "unit": "kW"},
        {"value": "229.8", "measurand": "Voltage", "unit": "V", "phase": "L1-N"},
    ))  # fmt: skip

    assert answer == {}
    stored = await station.store.meter_samples(tx_id)
    assert [(s.measurand, s.value, s.unit, s.phase, s.context) for s in stored] == [
        (ENERGY_REGISTER, 2500.0, "Wh", None, "Sample.Periodic"),
        ("Power.Active.Import", pytest.approx(7400.0), "W", None, None),
        ("Voltage", 229.8, "V", "L1-N", None),
    ]
    assert all((s.charger_id, s.evse_id, s.timestamp) == ("CP-1", 1, T0.replace(minute=15)) for s in stored)
    tx = await station.transaction(tx_id)
    assert (tx.last_meter_wh, tx.energy_wh) == (2500.0, 1500.0)


async def test_default_measurand_and_units(station: Station) -> None:
    tx_id = await start(station)
    sampled = ({"value": "1800"}, {"value": "16", "measurand": "Current.Import"},
               {"value": "21", "measurand": "Temperature"})  # fmt: skip
    await station.send(handle, "MeterValues", meter_values(1, tx_id, *sampled))
    stored = await station.store.meter_samples(tx_id)
    assert [(s.measurand, s.value, s.unit) for s in stored] == [
        (ENERGY_REGISTER, 1800.0, "Wh"), ("Current.Import", 16.0, "A"), ("Temperature", 21.0, None),
    ]  # fmt: skip


async def test_samples_outside_a_transaction_are_stored_unlinked(station: Station) -> None:
    await station.send(handle, "MeterValues", meter_values(0, None, {"value": "52000"}))
    assert [(s.transaction_id, s.evse_id, s.value) for s in station.store.samples] == [(None, 0, 52000.0)]


@pytest.mark.parametrize("owner", ["CP-2", "nobody"])
async def test_a_transaction_not_belonging_to_this_charger_is_not_linked(station: Station, owner: str) -> None:
    theirs = 999
    if owner == "CP-2":
        station.charger_id = "CP-2"
        theirs = await start(station)
        station.charger_id = "CP-1"

    assert await station.send(handle, "MeterValues", meter_values(1, theirs, {"value": "9999"})) == {}

    assert [(s.charger_id, s.transaction_id, s.value) for s in station.store.samples] == [("CP-1", None, 9999.0)]
    assert await station.store.meter_samples(theirs) == []
    if owner == "CP-2":
        assert (await station.transaction(theirs)).last_meter_wh is None  # their energy is untouched


async def test_several_meter_values_in_one_message(station: Station) -> None:
    tx_id = await start(station)
    payload = meter_values(1, tx_id, {"value": "1100"}, at="2024-05-01T12:01:00Z")
    payload["meterValue"].append({"timestamp": "2024-05-01T12:02:00Z", "sampledValue": [{"value": "1200"}]})
    await station.send(handle, "MeterValues", payload)
    assert [s.value for s in await station.store.meter_samples(tx_id)] == [1100.0, 1200.0]
    assert (await station.transaction(tx_id)).last_meter_wh == 1200.0


@pytest.mark.parametrize("bad", ["abc", "", "12,5"])
async def test_a_non_numeric_value_is_refused_and_nothing_is_stored(station: Station, bad: str) -> None:
    tx_id = await start(station)
    payload = meter_values(1, tx_id, {"value": "1500"}, {"value": bad, "measurand": "Voltage"})
    with pytest.raises(RemoteProtocolError, match=r"sampledValue\.value") as raised:
        await station.send(handle, "MeterValues", payload)
    assert raised.value.kind is ErrorKind.PROPERTY_CONSTRAINT
    assert station.store.samples == []
    assert (await station.transaction(tx_id)).last_meter_wh is None


async def test_a_bad_timestamp_is_refused_and_nothing_is_stored(station: Station) -> None:
    # the schema stops it; a lenient profile that lets it through still must not store half a message
    payload = meter_values(1, None, {"value": "1"}, at="2024-05-01T12:15:00Z")
    payload["meterValue"].append({"timestamp": "not a time", "sampledValue": [{"value": "2"}]})
    with pytest.raises(RemoteProtocolError) as raised:
        await station.send(handle, "MeterValues", payload, schema_valid=False)
    assert raised.value.kind is ErrorKind.PROPERTY_CONSTRAINT
    assert station.store.samples == []


def test_each_meter_value_is_one_domain_meter_value() -> None:
    power = {"value": "2.5", "unit": "kW", "measurand": "Power.Active.Import", "phase": "L1",
             "context": "Sample.Periodic", "location": "Inlet"}  # fmt: skip
    given = [{"timestamp": "2024-05-01T12:00:00Z", "sampledValue": [{"value": "1"}, power]}]
    assert to_meter_values("CP-1", 3, 7, given) == [
        MeterValue(charger_id="CP-1", evse_id=3, transaction_id=7, timestamp=T0, sampled=(
            SampledValue(ENERGY_REGISTER, 1.0, "Wh"),
            SampledValue("Power.Active.Import", 2500.0, "W", "L1", "Sample.Periodic", "Inlet"),
        ))
    ]  # fmt: skip
