from __future__ import annotations

from typing import Any

from chargewise.domain.meter import ENERGY_REGISTER
from chargewise.domain.model import IdToken, TokenStatus
from chargewise.handlers.v16 import meter_values, start_transaction, status_notification
from chargewise.handlers.v16.stop_transaction import handle
from tests.domain.clock import T0
from tests.handlers.station import Station


async def start(station: Station) -> int:
    answer = await station.send(start_transaction.handle, "StartTransaction", {
        "connectorId": 2, "idTag": "TAG", "meterStart": 1000, "timestamp": "2024-05-01T12:00:00Z",
    })  # fmt: skip
    transaction_id: int = answer["transactionId"]
    return transaction_id


def stop(transaction_id: int, **extra: Any) -> dict[str, Any]:
    return {"transactionId": transaction_id, "meterStop": 6000, "timestamp": "2024-05-01T13:00:00Z", **extra}


async def test_stop_closes_the_transaction_with_its_energy(station: Station) -> None:
    tx_id = await start(station)
    assert await station.send(handle, "StopTransaction", stop(tx_id, reason="EVDisconnected")) == {}
    tx = await station.transaction(tx_id)
    assert (tx.active, tx.stopped_at, tx.meter_stop_wh, tx.stop_reason, tx.energy_wh) == (
        False, T0.replace(hour=13), 6000.0, "EVDisconnected", 5000.0,
    )  # fmt: skip


async def test_reason_defaults_to_local(station: Station) -> None:
    tx_id = await start(station)
    await station.send(handle, "StopTransaction", stop(tx_id))
    assert (await station.transaction(tx_id)).stop_reason == "Local"


async def test_transaction_data_is_stored_in_base_units(station: Station) -> None:
    tx_id = await start(station)
    begin = [{"value": "1", "unit": "kWh", "context": "Transaction.Begin"}]
    end = [
        {"value": "6", "unit": "kWh", "context": "Transaction.End"},
        {"value": "0", "measurand": "Power.Active.Import"},
    ]
    data = [
        {"timestamp": "2024-05-01T12:00:00Z", "sampledValue": begin},
        {"timestamp": "2024-05-01T13:00:00Z", "sampledValue": end},
    ]
    await station.send(handle, "StopTransaction", stop(tx_id, transactionData=data))
    stored = await station.store.meter_samples(tx_id)
    assert [(s.measurand, s.value, s.unit, s.context, s.evse_id) for s in stored] == [
        (ENERGY_REGISTER, 1000.0, "Wh", "Transaction.Begin", 2),
        (ENERGY_REGISTER, 6000.0, "Wh", "Transaction.End", 2),
        ("Power.Active.Import", 0.0, "W", None, 2),
    ]


async def test_a_retried_stop_stores_its_transaction_data_once(station: Station) -> None:
    # the charger missed our answer (the link dropped) and sends the same StopTransaction again
    tx_id = await start(station)
    data = [{"timestamp": "2024-05-01T13:00:00Z", "sampledValue": [{"value": "6000", "context": "Transaction.End"}]}]
    for _ in range(2):
        assert await station.send(handle, "StopTransaction", stop(tx_id, transactionData=data)) == {}
    stored = await station.store.meter_samples(tx_id)
    assert [(s.value, s.context) for s in stored] == [(6000.0, "Transaction.End")]
    assert (await station.transaction(tx_id)).energy_wh == 5000.0


async def test_id_tag_gets_id_tag_info(station: Station) -> None:
    await station.central.add_token(IdToken(id_tag="TAG", status=TokenStatus.BLOCKED))
    tx_id = await start(station)
    assert await station.send(handle, "StopTransaction", stop(tx_id, idTag="TAG")) == {
        "idTagInfo": {"status": "Blocked"}
    }


async def test_unknown_transaction_is_acknowledged_and_nothing_is_stored(station: Station) -> None:
    data = [{"timestamp": "2024-05-01T12:30:00Z", "sampledValue": [{"value": "1"}]}]
    assert await station.send(handle, "StopTransaction", stop(4242, transactionData=data)) == {}
    assert await station.store.list_transactions() == []
    assert station.store.samples == []


async def test_another_chargers_transaction_is_not_stopped(station: Station) -> None:
    station.charger_id = "CP-2"
    theirs = await start(station)
    station.charger_id = "CP-1"
    answer = await station.send(handle, "StopTransaction", stop(theirs, idTag="X"))
    assert answer == {"idTagInfo": {"status": "Invalid"}}  # acknowledged as if unknown
    assert (await station.transaction(theirs)).active


async def test_a_retried_stop_changes_nothing(station: Station) -> None:
    tx_id = await start(station)
    await station.send(handle, "StopTransaction", stop(tx_id, reason="Remote"))
    await station.send(handle, "StopTransaction", stop(tx_id, meterStop=7000, reason="Local"))
    tx = await station.transaction(tx_id)
    assert (tx.meter_stop_wh, tx.stop_reason) == (6000.0, "Remote")


async def test_the_chargers_own_stop_replaces_the_reapers(station: Station) -> None:
    # After a reboot the charger reports the connector Available (the reaper closes the transaction with the
    # last register it knew), then sends the StopTransaction it had queued: its own figures win, once.
    tx_id = await start(station)
    await station.send(status_notification.handle, "StatusNotification", {
        "connectorId": 2, "errorCode": "NoError", "status": "Available", "timestamp": "2024-05-01T13:05:00Z",
    })  # fmt: skip
    reaped = await station.transaction(tx_id)
    assert (reaped.active, reaped.reaped, reaped.energy_wh) == (False, True, None)  # no register was known
    data = [{"timestamp": "2024-05-01T13:00:00Z", "sampledValue": [{"value": "6000", "context": "Transaction.End"}]}]
    for _ in range(2):  # and a retry of it changes nothing
        await station.send(handle, "StopTransaction", stop(tx_id, reason="EVDisconnected", transactionData=data))
    tx = await station.transaction(tx_id)
    assert (tx.reaped, tx.stopped_at, tx.stop_reason, tx.energy_wh) == (
        False, T0.replace(hour=13), "EVDisconnected", 5000.0,
    )  # fmt: skip
    assert [s.value for s in await station.store.meter_samples(tx_id)] == [6000.0]


# --- readings sent both as MeterValues and in the stop's transactionData are stored once --------------------

BEGIN = {"timestamp": "2024-05-01T12:00:00Z", "sampledValue": [{"value": "1000", "context": "Transaction.Begin"}]}
END = {"timestamp": "2024-05-01T13:00:00Z", "sampledValue": [{"value": "6000", "context": "Transaction.End"}]}


async def send_values(station: Station, connector: int, tx_id: int, *meter_value: dict[str, Any]) -> None:
    payload = {"connectorId": connector, "transactionId": tx_id, "meterValue": list(meter_value)}
    await station.send(meter_values.handle, "MeterValues", payload)


async def registers(station: Station, tx_id: int) -> list[tuple[float, str | None]]:
    return [(s.value, s.context) for s in await station.store.meter_samples(tx_id) if s.measurand == ENERGY_REGISTER]


async def test_begin_and_end_sent_as_meter_values_and_in_the_stop_are_stored_once(station: Station) -> None:
    tx_id = await start(station)
    await send_values(station, 2, tx_id, BEGIN)
    await send_values(station, 2, tx_id, END)
    await station.send(handle, "StopTransaction", stop(tx_id, transactionData=[BEGIN, END]))
    assert await registers(station, tx_id) == [(1000.0, "Transaction.Begin"), (6000.0, "Transaction.End")]
    tx = await station.transaction(tx_id)
    assert tx.energy_wh == 6000.0 - 1000.0


async def test_meter_values_after_the_stop_are_kept_apart_from_the_transaction(station: Station) -> None:
    tx_id = await start(station)
    await send_values(station, 2, tx_id, BEGIN)
    await station.send(handle, "StopTransaction", stop(tx_id, transactionData=[BEGIN, END]))
    later = {"timestamp": "2024-05-01T13:05:00Z", "sampledValue": [{"value": "6100"}]}
    await send_values(station, 2, tx_id, END, later)  # the End reading again, then one after the stop

    stored = await registers(station, tx_id)
    assert stored == [(1000.0, "Transaction.Begin"), (6000.0, "Transaction.End")]
    tx = await station.transaction(tx_id)
    assert stored[-1][0] - stored[0][0] == tx.energy_wh  # the samples agree with the energy
    apart = [(s.transaction_id, s.value) for s in station.store.samples if s.value == 6100.0]
    assert apart == [(None, 6100.0)]  # kept, for the charger's record, but not as the transaction's
    assert [s.value for s in station.store.samples].count(6000.0) == 1


async def test_meter_values_after_a_reapers_stop_still_belong_to_the_transaction(station: Station) -> None:
    # the reaper's stop is provisional: the charger's queued readings, and then its own stop, still count
    tx_id = await start(station)
    await station.send(status_notification.handle, "StatusNotification", {
        "connectorId": 2, "errorCode": "NoError", "status": "Available", "timestamp": "2024-05-01T13:05:00Z",
    })  # fmt: skip
    assert (await station.transaction(tx_id)).provisional
    await send_values(station, 2, tx_id, END)
    assert await registers(station, tx_id) == [(6000.0, "Transaction.End")]
