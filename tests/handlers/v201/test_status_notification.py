from __future__ import annotations

from datetime import timedelta

import pytest

from chargewise.domain.model import ConnectorState, ConnectorStatus
from chargewise.domain.ports import NewTransaction
from chargewise.handlers.v201 import notify_report, transaction_event
from chargewise.handlers.v201.status_notification import handle
from chargewise.services.ev_connection import DEFAULT_TIMEOUT
from tests.domain.clock import T0
from tests.handlers.station import Station


def status(evse: int, connector: int, state: str, at: str = "2024-05-01T12:10:00Z") -> dict[str, object]:
    return {"timestamp": at, "connectorStatus": state, "evseId": evse, "connectorId": connector}


async def start(station: Station, evse: int, remote_id: str) -> int:
    new = NewTransaction(charger_id=station.charger_id, evse_id=evse, connector_id=1, id_tag=None, started_at=T0,
                         meter_start_wh=0.0, dedupe_key=remote_id, remote_id=remote_id)  # fmt: skip
    tx, _ = await station.central.start_transaction(new)
    return tx.id


async def test_evse_and_connector_are_stored_as_sent(station: Station) -> None:
    assert await station.send(handle, "StatusNotification", status(2, 3, "Occupied")) == {}
    assert (await station.charger()).connectors == [
        ConnectorState(evse_id=2, connector_id=3, status=ConnectorStatus.OCCUPIED, error_code=None,
                       updated_at=T0 + timedelta(minutes=10)),
    ]  # fmt: skip


async def test_available_reaps_older_transactions_on_that_evse(station: Station) -> None:
    orphan, other = await start(station, 1, "A"), await start(station, 2, "B")
    reaped_at = station.clock.advance(900)
    await station.send(handle, "StatusNotification", status(1, 1, "Available"))
    tx = await station.transaction(orphan)
    assert (tx.active, tx.stopped_at) == (False, reaped_at)
    assert tx.stop_reason == "Orphaned: connector free, no stop received"
    assert (await station.transaction(other)).active


@pytest.mark.parametrize("state", ["Occupied", "Reserved", "Unavailable", "Faulted"])
async def test_other_statuses_reap_nothing(station: Station, state: str) -> None:
    await start(station, 1, "A")
    await station.send(handle, "StatusNotification", status(1, 1, state))
    assert len(await station.store.list_transactions(active=True)) == 1


async def test_available_before_the_start_reaps_nothing(station: Station) -> None:
    await start(station, 1, "A")
    await station.send(handle, "StatusNotification", status(1, 1, "Available", at="2024-05-01T11:59:00Z"))
    assert len(await station.store.list_transactions(active=True)) == 1


# --- a transaction that began before the cable (triggerReason Authorized) is not the charger's loss -----------


async def started_before_the_cable(station: Station, *events: dict[str, object]) -> int:
    """Started at 12:00 by an authorization alone (no cable yet), then ``events``; the transaction's id."""
    started = {"eventType": "Started", "timestamp": "2024-05-01T12:00:00Z", "triggerReason": "Authorized",
               "seqNo": 0, "transactionInfo": {"transactionId": "TX-A", "chargingState": "Idle"},
               "evse": {"id": 1, "connectorId": 1}, "idToken": {"idToken": "T", "type": "ISO14443"}}  # fmt: skip
    for payload in (started, *events):
        await station.send(transaction_event.handle, "TransactionEvent", payload)
    return (await station.only_transaction()).id


def plugged(seq_no: int, at: str, **info: object) -> dict[str, object]:
    return {"eventType": "Updated", "timestamp": at, "triggerReason": "CablePluggedIn", "seqNo": seq_no,
            "transactionInfo": {"transactionId": "TX-A", **info}}  # fmt: skip


async def test_available_before_the_cable_and_within_the_timeout_closes_nothing(station: Station) -> None:
    tx_id = await started_before_the_cable(station)
    # the connector is still free while the driver walks to the car: Available, two minutes after the start
    await station.send(handle, "StatusNotification", status(1, 1, "Available", at="2024-05-01T12:02:00Z"))
    assert (await station.transaction(tx_id)).active
    # the cable goes in: the transaction charges on and ends with the charger's own figures
    await station.send(transaction_event.handle, "TransactionEvent", plugged(1, "2024-05-01T12:03:00Z"))
    tx = await station.transaction(tx_id)
    assert (tx.active, tx.ev_connected, tx.provisional) == (True, True, False)


async def test_available_after_the_cable_was_seen_closes_it_provisionally(station: Station) -> None:
    tx_id = await started_before_the_cable(station, plugged(1, "2024-05-01T12:01:00Z"))
    await station.send(handle, "StatusNotification", status(1, 1, "Available", at="2024-05-01T12:02:00Z"))
    tx = await station.transaction(tx_id)
    assert (tx.active, tx.provisional, tx.stop_reason) == (False, True, "Orphaned: connector free, no stop received")


async def test_an_occupied_connector_is_the_cable(station: Station) -> None:
    tx_id = await started_before_the_cable(station)
    await station.send(handle, "StatusNotification", status(1, 1, "Occupied", at="2024-05-01T12:01:00Z"))
    assert (await station.transaction(tx_id)).ev_connected
    await station.send(handle, "StatusNotification", status(1, 1, "Available", at="2024-05-01T12:02:00Z"))
    assert not (await station.transaction(tx_id)).active


async def test_available_after_the_default_timeout_closes_it(station: Station) -> None:
    tx_id = await started_before_the_cable(station)
    at = T0 + DEFAULT_TIMEOUT
    await station.send(handle, "StatusNotification", status(1, 1, "Available", at=at.isoformat()))
    assert not (await station.transaction(tx_id)).active


@pytest.mark.parametrize("learn", ["GetVariables", "SetVariables", "NotifyReport"])
async def test_the_timeout_is_the_one_configured_on_the_charger(station: Station, learn: str) -> None:
    variable = {"component": {"name": "TxCtrlr"}, "variable": {"name": "EVConnectionTimeOut"}}
    if learn == "GetVariables":
        answer = {"getVariableResult": [variable | {"attributeStatus": "Accepted", "attributeValue": "30"}]}
        await station.central.transactions.observe_call(station.charger_id, learn, {"getVariableData": [variable]},
                                                        answer)  # fmt: skip
    elif learn == "SetVariables":
        request = {"setVariableData": [variable | {"attributeValue": "30"}]}
        answer = {"setVariableResult": [variable | {"attributeStatus": "Accepted"}]}
        await station.central.transactions.observe_call(station.charger_id, learn, request, answer)
    else:
        report = {"requestId": 1, "generatedAt": "2024-05-01T11:00:00Z", "seqNo": 0,
                  "reportData": [variable | {"variableAttribute": [{"type": "Actual", "value": "30"}]}]}  # fmt: skip
        await station.send(notify_report.handle, "NotifyReport", report)
    tx_id = await started_before_the_cable(station)
    await station.send(handle, "StatusNotification", status(1, 1, "Available", at="2024-05-01T12:00:20Z"))
    assert (await station.transaction(tx_id)).active  # 20 s: the driver may still be plugging in
    await station.send(handle, "StatusNotification", status(1, 1, "Available", at="2024-05-01T12:00:31Z"))
    assert not (await station.transaction(tx_id)).active  # 31 s: the charger gave up waiting and lost it
