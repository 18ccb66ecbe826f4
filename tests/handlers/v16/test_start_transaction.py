from __future__ import annotations

from chargewise.domain.model import IdToken, OcppVersion, TokenStatus
from chargewise.handlers.v16.start_transaction import handle
from chargewise.services.central import Policy
from tests.domain.clock import T0
from tests.handlers.station import Station, open_station

START = {"connectorId": 2, "idTag": "TAG", "meterStart": 1500, "timestamp": "2024-05-01T14:00:00+02:00"}


async def test_start_records_the_transaction(station: Station) -> None:
    await station.central.add_token(IdToken(id_tag="TAG"))
    answer = await station.send(handle, "StartTransaction", START)

    tx = await station.only_transaction()
    assert answer == {"transactionId": tx.id, "idTagInfo": {"status": "Accepted"}}
    assert (tx.charger_id, tx.evse_id, tx.connector_id, tx.id_tag, tx.started_at, tx.meter_start_wh, tx.active) == (
        "CP-1", 2, 1, "TAG", T0, 1500.0, True,
    )  # fmt: skip


async def test_a_retried_start_gets_the_same_transaction_id(station: Station) -> None:
    first = await station.send(handle, "StartTransaction", START)
    station.clock.advance(30)
    again = await station.send(handle, "StartTransaction", dict(START))
    assert again["transactionId"] == first["transactionId"]
    assert len(await station.store.list_transactions()) == 1


async def test_any_of_the_four_fields_differing_is_a_new_transaction(station: Station) -> None:
    ids = {(await station.send(handle, "StartTransaction", START))["transactionId"]}
    for field, value in (("connectorId", 1), ("idTag", "OTHER"), ("meterStart", 1501),
                         ("timestamp", "2024-05-01T12:00:01Z")):  # fmt: skip
        ids.add((await station.send(handle, "StartTransaction", {**START, field: value}))["transactionId"])
    assert len(ids) == 5
    assert len(await station.store.list_transactions()) == 5


async def test_a_refused_tag_is_answered_but_the_transaction_recorded(station: Station) -> None:
    await station.central.add_token(IdToken(id_tag="TAG", status=TokenStatus.BLOCKED))
    answer = await station.send(handle, "StartTransaction", START)
    assert answer["idTagInfo"] == {"status": "Blocked"}
    assert (await station.transaction(answer["transactionId"])).id_tag == "TAG"


async def test_the_same_start_from_another_charger_is_another_transaction(station: Station) -> None:
    mine = await station.send(handle, "StartTransaction", START)
    station.charger_id = "CP-2"
    theirs = await station.send(handle, "StartTransaction", START)
    assert mine["transactionId"] != theirs["transactionId"]


async def test_free_charging_accepts_an_unknown_tag() -> None:
    station = await open_station(OcppVersion.V16, policy=Policy(free_charging=True))
    answer = await station.send(handle, "StartTransaction", START)
    assert answer["idTagInfo"] == {"status": "Accepted"}


async def test_a_remote_start_gives_its_id_tag_to_a_start_without_one(station: Station) -> None:
    # some chargers start a remotely started transaction with an empty idTag
    await station.central.transactions.observe_call(
        station.charger_id, "RemoteStartTransaction", {"connectorId": 1, "idTag": "REMOTE1"}, {"status": "Accepted"}
    )
    answer = await station.send(handle, "StartTransaction", {
        "connectorId": 1, "idTag": "", "meterStart": 0, "timestamp": "2024-05-01T12:00:00Z",
    })  # fmt: skip
    tx = await station.transaction(answer["transactionId"])
    assert tx.id_tag == "REMOTE1"
    assert len(station.central.transactions.remote_starts) == 0  # claimed
