from __future__ import annotations

from datetime import timedelta

import pytest

from chargewise.domain.model import ConnectorState, ConnectorStatus
from chargewise.domain.ports import NewTransaction
from chargewise.handlers.v201.status_notification import handle
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
