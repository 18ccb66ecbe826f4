from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from chargewise.domain.meter import ENERGY_REGISTER
from chargewise.domain.model import ConnectorState, ConnectorStatus, MeterValue, SampledValue
from chargewise.domain.ports import NewTransaction
from chargewise.handlers.v16.status_notification import handle
from tests.domain.clock import T0
from tests.handlers.station import Station

REASON = "Orphaned: connector free, no stop received"


def status(connector: int, state: str, error: str = "NoError", at: str | None = None) -> dict[str, object]:
    payload: dict[str, object] = {"connectorId": connector, "errorCode": error, "status": state}
    if at is not None:
        payload["timestamp"] = at
    return payload


async def start(station: Station, connector: int, key: str, started_at: datetime = T0, *, raw: bool = False) -> int:
    """``raw``: straight into the store, past the central system's rule that a new transaction closes an
    older one on its EVSE (to set up what a status must, or must not, reap)."""
    new = NewTransaction(charger_id=station.charger_id, evse_id=connector, connector_id=1, id_tag="TAG",
                         started_at=started_at, meter_start_wh=1000.0, dedupe_key=key)  # fmt: skip
    tx, _ = await (station.store.start_transaction(new) if raw else station.central.start_transaction(new))
    return tx.id


async def test_connector_n_is_evse_n_connector_1(station: Station) -> None:
    assert await station.send(handle, "StatusNotification", status(2, "Charging", at="2024-05-01T11:59:00Z")) == {}
    assert (await station.charger()).connectors == [
        ConnectorState(evse_id=2, connector_id=1, status=ConnectorStatus.CHARGING, error_code=None,
                       updated_at=T0 - timedelta(minutes=1)),
    ]  # fmt: skip


async def test_connector_0_is_the_charger_itself(station: Station) -> None:
    await station.send(handle, "StatusNotification", status(0, "Unavailable"))
    [state] = (await station.charger()).connectors
    assert (state.evse_id, state.connector_id, state.status) == (0, 0, ConnectorStatus.UNAVAILABLE)


@pytest.mark.parametrize(("error", "stored"), [("NoError", None), ("GroundFailure", "GroundFailure")])
async def test_error_code(station: Station, error: str, stored: str | None) -> None:
    await station.send(handle, "StatusNotification", status(1, "Faulted", error))
    [state] = (await station.charger()).connectors
    assert state.error_code == stored


async def test_without_timestamp_the_time_of_receipt_counts(station: Station) -> None:
    received = station.clock.advance(42)
    await station.send(handle, "StatusNotification", status(1, "Preparing"))
    [state] = (await station.charger()).connectors
    assert state.updated_at == received


async def test_an_older_queued_status_does_not_overwrite_a_newer_one(station: Station) -> None:
    await station.send(handle, "StatusNotification", status(1, "Charging", at="2024-05-01T12:00:00Z"))
    await station.send(handle, "StatusNotification", status(1, "Preparing", at="2024-05-01T11:00:00Z"))
    [state] = (await station.charger()).connectors
    assert state.status is ConnectorStatus.CHARGING


async def test_available_reaps_older_open_transactions_on_that_connector(station: Station) -> None:
    orphan = await start(station, 1, "a")
    other_connector = await start(station, 2, "b")
    later = await start(station, 1, "c", started_at=T0 + timedelta(minutes=30), raw=True)
    reaped_at = station.clock.advance(3600)

    await station.send(handle, "StatusNotification", status(1, "Available", at="2024-05-01T12:10:00Z"))

    tx = await station.transaction(orphan)
    # no register reading after its start: the stop reading stays unknown
    assert (tx.active, tx.stopped_at, tx.stop_reason, tx.meter_stop_wh) == (False, reaped_at, REASON, None)
    assert {t.id for t in await station.store.list_transactions(active=True)} == {other_connector, later}


@pytest.mark.parametrize(("connector", "state"), [(1, "Charging"), (1, "Finishing"), (0, "Available")])
async def test_other_statuses_reap_nothing(station: Station, connector: int, state: str) -> None:
    await start(station, 1, "a")
    await station.send(handle, "StatusNotification", status(connector, state, at="2024-05-01T13:00:00Z"))
    assert len(await station.store.list_transactions(active=True)) == 1


async def test_a_reaped_transaction_keeps_its_last_register_reading(station: Station) -> None:
    orphan = await start(station, 1, "a")
    reading = MeterValue(charger_id=station.charger_id, evse_id=1, transaction_id=orphan, timestamp=T0,
                         sampled=(SampledValue(ENERGY_REGISTER, 4200.0, "Wh"),))  # fmt: skip
    await station.central.record_meter_values([reading])
    await station.send(handle, "StatusNotification", status(1, "Available", at="2024-05-01T12:10:00Z"))
    tx = await station.transaction(orphan)
    assert (tx.meter_stop_wh, tx.energy_wh) == (4200.0, 3200.0)


# --- a transaction that began at the authorization, before the cable, is not the charger's loss -------------


async def test_available_soon_after_a_start_without_the_cable_closes_nothing(station: Station) -> None:
    tx_id = await start(station, 1, "a")  # 12:00, nothing yet says a cable is in
    await station.send(handle, "StatusNotification", status(1, "Available", at="2024-05-01T12:01:00Z"))
    assert (await station.transaction(tx_id)).active


@pytest.mark.parametrize("state", ["Charging", "SuspendedEV", "SuspendedEVSE"])
async def test_a_charging_status_is_the_cable(station: Station, state: str) -> None:
    tx_id = await start(station, 1, "a")
    await station.send(handle, "StatusNotification", status(1, state, at="2024-05-01T12:00:30Z"))
    assert (await station.transaction(tx_id)).ev_connected
    await station.send(handle, "StatusNotification", status(1, "Available", at="2024-05-01T12:01:00Z"))
    assert (await station.transaction(tx_id)).provisional


async def test_preparing_is_not_the_cable(station: Station) -> None:
    # 1.6 Preparing also follows an authorization alone
    tx_id = await start(station, 1, "a")
    await station.send(handle, "StatusNotification", status(1, "Preparing", at="2024-05-01T12:00:30Z"))
    assert not (await station.transaction(tx_id)).ev_connected


async def test_energy_delivered_is_the_cable(station: Station) -> None:
    tx_id = await start(station, 1, "a")  # from 1000 Wh
    reading = MeterValue(charger_id=station.charger_id, evse_id=1, transaction_id=tx_id, timestamp=T0,
                         sampled=(SampledValue(ENERGY_REGISTER, 1001.0, "Wh"),))  # fmt: skip
    await station.central.record_meter_values([reading])
    await station.send(handle, "StatusNotification", status(1, "Available", at="2024-05-01T12:01:00Z"))
    assert not (await station.transaction(tx_id)).active


async def test_the_connection_timeout_the_charger_was_configured_with_counts(station: Station) -> None:
    observe = station.central.transactions.observe_call
    await observe(station.charger_id, "ChangeConfiguration", {"key": "ConnectionTimeOut", "value": "45"},
                  {"status": "Accepted"})  # fmt: skip
    tx_id = await start(station, 1, "a")
    await station.send(handle, "StatusNotification", status(1, "Available", at="2024-05-01T12:00:44Z"))
    assert (await station.transaction(tx_id)).active
    await observe(station.charger_id, "GetConfiguration", {},
                  {"configurationKey": [{"key": "ConnectionTimeOut", "readonly": False, "value": "20"}]})  # fmt: skip
    await station.send(handle, "StatusNotification", status(1, "Available", at="2024-05-01T12:00:44Z"))
    assert not (await station.transaction(tx_id)).active


# --- an orphan closed on reconnect is stopped as of when the charger was last heard from --------------------


async def test_an_orphan_closed_on_reconnect_stops_when_the_charger_was_last_heard_from(station: Station) -> None:
    central, clock = station.central, station.clock
    await central.connected(station.charger_id)  # 12:00
    tx_id = await start(station, 1, "a")
    reading = MeterValue(charger_id=station.charger_id, evse_id=1, transaction_id=tx_id, timestamp=T0,
                         sampled=(SampledValue(ENERGY_REGISTER, 1500.0, "Wh"),))  # fmt: skip
    await central.record_meter_values([reading])
    last_heard = clock.advance(20 * 60)
    central.note_seen(station.charger_id, last_heard)  # its last message before the power cut, 12:20
    clock.advance(100 * 60)  # 14:00: it reboots, reconnects and reports the connector free
    await central.connected(station.charger_id)
    await station.send(handle, "StatusNotification", status(1, "Available", at="2024-05-01T14:00:00Z"))
    tx = await station.transaction(tx_id)
    assert (tx.active, tx.stopped_at, tx.energy_wh) == (False, last_heard, 500.0)  # not 14:00
    assert tx.provisional
    await central.drain()


async def test_an_orphan_of_the_current_connection_stops_now(station: Station) -> None:
    central, clock = station.central, station.clock
    central.note_seen(station.charger_id, T0)
    await central.connected(station.charger_id)
    clock.advance(60)
    tx_id = await start(station, 1, "a", started_at=T0 + timedelta(minutes=1))
    reading = MeterValue(charger_id=station.charger_id, evse_id=1, transaction_id=tx_id, timestamp=T0,
                         sampled=(SampledValue(ENERGY_REGISTER, 1500.0, "Wh"),))  # fmt: skip
    await central.record_meter_values([reading])
    now = clock.advance(600)
    await station.send(handle, "StatusNotification", status(1, "Available", at="2024-05-01T12:11:00Z"))
    assert (await station.transaction(tx_id)).stopped_at == now
    await central.drain()
