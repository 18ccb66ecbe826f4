from __future__ import annotations

from typing import Any

import pytest

from chargewise.domain.meter import ENERGY_REGISTER
from chargewise.domain.model import IdToken, OcppVersion, TokenStatus
from chargewise.handlers.v201.transaction_event import handle
from chargewise.services.central import Policy
from chargewise.services.ev_connection import DEFAULT_TIMEOUT
from chargewise.services.remote_starts import GRACE
from tests.domain.clock import T0
from tests.handlers.station import Station, open_station

TOKEN = {"idToken": "04A2B3C4", "type": "ISO14443"}


def event(kind: str, seq_no: int, minute: int, *, wh: float | None = None, unit: dict[str, Any] | None = None,
          tx: str = "TX-1", **extra: Any) -> dict[str, Any]:  # fmt: skip
    """A TransactionEvent at 12:``minute``, with an energy register reading of ``wh`` if given."""
    at = f"2024-05-01T12:{minute:02d}:00Z"
    trigger = {"Started": "Authorized", "Updated": "MeterValuePeriodic", "Ended": "EVCommunicationLost"}[kind]
    payload: dict[str, Any] = {
        "eventType": kind, "timestamp": at, "triggerReason": trigger, "seqNo": seq_no,
        "transactionInfo": {"transactionId": tx}, "evse": {"id": 1, "connectorId": 2},
    }  # fmt: skip
    if wh is not None:
        sampled: dict[str, Any] = {"value": wh, "measurand": ENERGY_REGISTER}
        if unit is not None:
            sampled["unitOfMeasure"] = unit
        payload["meterValue"] = [{"timestamp": at, "sampledValue": [sampled]}]
    payload.update(extra)
    return payload


async def test_started_opens_the_transaction(station: Station) -> None:
    await station.central.add_token(IdToken(id_tag="04A2B3C4"))
    answer = await station.send(handle, "TransactionEvent", event("Started", 0, 0, wh=1000, idToken=TOKEN))

    assert answer == {"idTokenInfo": {"status": "Accepted"}}
    tx = await station.only_transaction()
    assert (tx.remote_id, tx.charger_id, tx.evse_id, tx.connector_id, tx.id_tag, tx.started_at, tx.meter_start_wh) == (
        "TX-1", "CP-1", 1, 2, "04A2B3C4", T0, 1000.0,
    )  # fmt: skip
    assert [(s.transaction_id, s.evse_id, s.value) for s in await station.store.meter_samples(tx.id)] == [
        (tx.id, 1, 1000.0)
    ]
    assert await station.store.has_event(tx.id, 0)


async def test_a_whole_transaction_gives_its_energy(station: Station) -> None:
    await station.send(handle, "TransactionEvent", event("Started", 0, 0, wh=1000))
    await station.send(handle, "TransactionEvent", event("Updated", 1, 15, wh=2.5, unit={"unit": "kWh"}))
    tx = await station.only_transaction()
    assert (tx.active, tx.last_meter_wh, tx.energy_wh) == (True, 2500.0, 1500.0)

    ended = event("Ended", 2, 30, wh=4, unit={"unit": "Wh", "multiplier": 3})
    ended["transactionInfo"]["stoppedReason"] = "EVDisconnected"
    assert await station.send(handle, "TransactionEvent", ended) == {}

    tx = await station.only_transaction()
    assert (tx.active, tx.stopped_at, tx.meter_stop_wh, tx.stop_reason, tx.energy_wh) == (
        False, T0.replace(minute=30), 4000.0, "EVDisconnected", 3000.0,
    )  # fmt: skip
    assert [s.value for s in await station.store.meter_samples(tx.id)] == [1000.0, 2500.0, 4000.0]
    assert tx.last_seq_no == 2


async def test_ended_without_a_reason_or_reading(station: Station) -> None:
    await station.send(handle, "TransactionEvent", event("Started", 0, 0, wh=1000))
    await station.send(handle, "TransactionEvent", event("Updated", 1, 10, wh=1800))
    await station.send(handle, "TransactionEvent", event("Ended", 2, 20))
    tx = await station.only_transaction()
    assert (tx.active, tx.stop_reason, tx.meter_stop_wh, tx.energy_wh) == (False, "Local", None, 800.0)


async def test_a_duplicate_seq_no_is_acknowledged_and_not_stored_twice(station: Station) -> None:
    await station.send(handle, "TransactionEvent", event("Started", 0, 0, wh=1000))
    update = event("Updated", 1, 10, wh=1500)
    first = await station.send(handle, "TransactionEvent", update)
    station.clock.advance(60)
    again = await station.send(handle, "TransactionEvent", update)

    assert first == again == {}
    tx = await station.only_transaction()
    assert [s.value for s in await station.store.meter_samples(tx.id)] == [1000.0, 1500.0]


class EventWriteFails:
    """The store's event write fails once (the database refused it, or the server died in it); the handler
    raises, the charger gets an InternalError and sends the same event again."""

    def __init__(self, station: Station) -> None:
        self.accept = station.store.accept_event
        self.failed = False
        station.store.accept_event = self  # type: ignore[method-assign]

    async def __call__(self, transaction_id: int, seq_no: int, **kwargs: Any) -> bool:
        if not self.failed:
            self.failed = True
            raise OSError("disk I/O error")
        return await self.accept(transaction_id, seq_no, **kwargs)


@pytest.mark.parametrize("kind", ["Updated", "Ended"])
async def test_an_event_whose_write_failed_stores_its_meter_values_once_when_retried(
    station: Station, kind: str
) -> None:
    await station.send(handle, "TransactionEvent", event("Started", 0, 0, wh=1000))
    EventWriteFails(station)
    retried = event(kind, 1, 10, wh=1500)
    with pytest.raises(OSError):
        await station.send(handle, "TransactionEvent", retried)
    assert await station.send(handle, "TransactionEvent", retried) == {}

    tx = await station.only_transaction()
    assert [s.value for s in await station.store.meter_samples(tx.id)] == [1000.0, 1500.0]
    assert (tx.last_seq_no, tx.energy_wh, tx.active) == (1, 500.0, kind != "Ended")


async def test_a_retried_started_maps_to_the_same_transaction(station: Station) -> None:
    started = event("Started", 0, 0, wh=1000, idToken=TOKEN)
    await station.send(handle, "TransactionEvent", started)
    assert await station.send(handle, "TransactionEvent", started) == {"idTokenInfo": {"status": "Invalid"}}
    tx = await station.only_transaction()
    assert len(await station.store.meter_samples(tx.id)) == 1


async def test_the_same_seq_no_of_another_transaction_is_not_a_duplicate(station: Station) -> None:
    await station.send(handle, "TransactionEvent", event("Started", 0, 0, wh=1000, tx="TX-1"))
    await station.send(handle, "TransactionEvent", event("Started", 0, 1, wh=5000, tx="TX-2"))
    assert sorted(tx.meter_start_wh or 0 for tx in await station.store.list_transactions()) == [1000.0, 5000.0]
    assert len(station.store.samples) == 2


async def test_the_same_transaction_id_from_another_charger_is_another_transaction(station: Station) -> None:
    await station.send(handle, "TransactionEvent", event("Started", 0, 0, wh=1000))
    station.charger_id = "CP-2"
    await station.send(handle, "TransactionEvent", event("Started", 0, 0, wh=7000))
    transactions = await station.store.list_transactions()
    assert sorted((tx.charger_id, tx.meter_start_wh) for tx in transactions) == [("CP-1", 1000.0), ("CP-2", 7000.0)]


async def test_a_first_heard_updated_creates_the_transaction(station: Station) -> None:
    # the Started event was lost (or the charger was offline longer than its queue): the transaction still exists
    answer = await station.send(handle, "TransactionEvent", event("Updated", 5, 20, wh=3300))
    assert answer == {}
    tx = await station.only_transaction()
    assert (tx.remote_id, tx.started_at, tx.meter_start_wh, tx.active, tx.evse_id) == (
        "TX-1", T0.replace(minute=20), 3300.0, True, 1,
    )  # fmt: skip
    await station.send(handle, "TransactionEvent", event("Ended", 6, 40, wh=5300))
    assert (await station.only_transaction()).energy_wh == 2000.0


async def test_id_token_info_only_when_an_id_token_was_sent(station: Station) -> None:
    await station.central.add_token(IdToken(id_tag="04A2B3C4", status=TokenStatus.BLOCKED))
    assert await station.send(handle, "TransactionEvent", event("Started", 0, 0)) == {}
    assert await station.send(handle, "TransactionEvent", event("Updated", 1, 1)) == {}
    answer = await station.send(handle, "TransactionEvent", event("Updated", 2, 2, idToken=TOKEN))
    assert answer == {"idTokenInfo": {"status": "Blocked"}}
    assert await station.send(handle, "TransactionEvent", event("Ended", 3, 3)) == {}


async def test_started_with_a_refused_token_is_recorded_and_answered(station: Station) -> None:
    answer = await station.send(handle, "TransactionEvent", event("Started", 0, 0, wh=10, idToken=TOKEN))
    assert answer == {"idTokenInfo": {"status": "Invalid"}}
    assert (await station.only_transaction()).id_tag == "04A2B3C4"


async def test_started_with_free_charging() -> None:
    station = await open_station(OcppVersion.V201, policy=Policy(free_charging=True))
    answer = await station.send(handle, "TransactionEvent", event("Started", 0, 0, idToken=TOKEN))
    assert answer == {"idTokenInfo": {"status": "Accepted"}}


@pytest.mark.parametrize("kind", ["Started", "Updated"])
async def test_no_authorization_token_is_accepted(station: Station, kind: str) -> None:
    # a station that needs no authorization sends idToken "" of type NoAuthorization (OCPP 2.0.1 IdTokenEnumType);
    # answering Invalid would make it stop the session (StopTxOnInvalidId)
    free = {"idToken": "", "type": "NoAuthorization"}
    if kind == "Updated":
        await station.send(handle, "TransactionEvent", event("Started", 0, 0))
    answer = await station.send(handle, "TransactionEvent", event(kind, 1, 1, idToken=free))
    assert answer == {"idTokenInfo": {"status": "Accepted"}}


async def test_energy_units_with_multiplier(station: Station) -> None:
    await station.send(handle, "TransactionEvent", event("Started", 0, 0, wh=1.5, unit={"unit": "kWh"}))
    await station.send(handle, "TransactionEvent",
                       event("Ended", 1, 5, wh=32, unit={"unit": "kWh", "multiplier": -1}))  # fmt: skip
    tx = await station.only_transaction()
    assert (tx.meter_start_wh, tx.meter_stop_wh) == (1500.0, pytest.approx(3200.0))
    assert tx.energy_wh == pytest.approx(1700.0)


async def test_an_evse_first_given_later_is_recorded_and_energy_comes_from_the_readings(station: Station) -> None:
    # Started without evse or reading, Updated with the evse at 1000 Wh, Ended at 2500 Wh (a real charger's order)
    started = event("Started", 0, 0)
    del started["evse"]
    await station.send(handle, "TransactionEvent", started)
    assert (await station.only_transaction()).evse_id == 0
    await station.send(handle, "TransactionEvent", event("Updated", 1, 5, wh=1000))
    ended = event("Ended", 2, 30, wh=2500)
    del ended["evse"]
    await station.send(handle, "TransactionEvent", ended)

    tx = await station.only_transaction()
    assert (tx.evse_id, tx.connector_id, tx.meter_start_wh, tx.meter_stop_wh, tx.energy_wh) == (1, 2, 1000.0, 2500.0,
                                                                                                1500.0)  # fmt: skip
    assert [(s.evse_id, s.value) for s in await station.store.meter_samples(tx.id)] == [(1, 1000.0), (1, 2500.0)]


async def test_a_later_evse_does_not_move_a_transaction_that_had_one(station: Station) -> None:
    await station.send(handle, "TransactionEvent", event("Started", 0, 0, wh=100))
    moved = event("Updated", 1, 5, wh=300)
    moved["evse"] = {"id": 3, "connectorId": 1}
    await station.send(handle, "TransactionEvent", moved)
    tx = await station.only_transaction()
    assert (tx.evse_id, tx.connector_id, tx.meter_start_wh) == (1, 2, 100.0)


@pytest.mark.parametrize(("trigger", "info", "seen"), [
    ("CablePluggedIn", {}, True), ("EVDetected", {}, True),
    ("ChargingStateChanged", {"chargingState": "Charging"}, True),
    ("ChargingStateChanged", {"chargingState": "Idle"}, False),
    ("MeterValuePeriodic", {"chargingState": "SuspendedEV"}, True), ("MeterValuePeriodic", {}, False),
])  # fmt: skip
async def test_the_cable_is_seen_from_the_trigger_or_the_charging_state(
    station: Station, trigger: str, info: dict[str, str], seen: bool
) -> None:
    await station.send(handle, "TransactionEvent", event("Started", 0, 0))
    update = event("Updated", 1, 1, triggerReason=trigger)
    update["transactionInfo"].update(info)
    await station.send(handle, "TransactionEvent", update)
    assert (await station.only_transaction()).ev_connected is seen


# --- a remote start links its token and remoteStartId to the transaction it caused ---------------------------

REMOTE = {"idToken": {"idToken": "REMOTE-1", "type": "Central"}, "remoteStartId": 42, "evseId": 1}


async def remote_start(station: Station, request: dict[str, Any] = REMOTE, **answer: Any) -> None:
    """The server sent RequestStartTransaction and the charger answered (Accepted unless ``answer`` says)."""
    await station.central.transactions.observe_call(station.charger_id, "RequestStartTransaction", request,
                                                    {"status": "Accepted"} | answer)  # fmt: skip


async def test_a_remote_start_gives_its_token_to_a_started_that_carries_none(station: Station) -> None:
    await remote_start(station)
    started = event("Started", 0, 0, wh=100, triggerReason="RemoteStart")
    started["transactionInfo"]["remoteStartId"] = 42
    assert await station.send(handle, "TransactionEvent", started) == {}
    tx = await station.only_transaction()
    assert (tx.id_tag, tx.remote_start_id) == ("REMOTE-1", 42)


async def test_without_a_remote_start_id_the_remote_trigger_and_evse_link_it(station: Station) -> None:
    await remote_start(station)
    await station.send(handle, "TransactionEvent", event("Started", 0, 0, triggerReason="RemoteStart"))
    tx = await station.only_transaction()
    assert (tx.id_tag, tx.remote_start_id) == ("REMOTE-1", 42)
    # claimed once: the next transaction on the EVSE is not the remote start's
    await station.send(handle, "TransactionEvent", event("Started", 0, 5, tx="TX-2", triggerReason="RemoteStart"))
    second = await station.store.find_by_remote_id(station.charger_id, "TX-2")
    assert second is not None and (second.id_tag, second.remote_start_id) == (None, None)


async def test_a_remote_start_for_a_transaction_begun_already_links_it_at_once(station: Station) -> None:
    await station.send(handle, "TransactionEvent", event("Started", 0, 0))  # authorized by cable, no token yet
    await remote_start(station, transactionId="TX-1")
    tx = await station.only_transaction()
    assert (tx.id_tag, tx.remote_start_id) == ("REMOTE-1", 42)


@pytest.mark.parametrize("why", ["rejected", "another evse", "too late"])
async def test_a_remote_start_links_nothing_it_did_not_cause(station: Station, why: str) -> None:
    await remote_start(station, status="Rejected" if why == "rejected" else "Accepted")
    started = event("Started", 0, 0, triggerReason="Authorized")
    if why == "another evse":
        started["evse"] = {"id": 2, "connectorId": 1}
    if why == "too late":  # past the EV-connection timeout and its grace minute, the remote start is stale
        station.clock.advance(DEFAULT_TIMEOUT.total_seconds() + GRACE.total_seconds() + 1)
    await station.send(handle, "TransactionEvent", started)
    tx = await station.only_transaction()
    assert (tx.id_tag, tx.remote_start_id) == (None, None)


async def test_a_token_first_given_in_a_later_event_is_recorded(station: Station) -> None:
    # plug in first (no token), then the driver taps a card: Updated with triggerReason Authorized (E03)
    await station.central.add_token(IdToken(id_tag="04A2B3C4"))
    await station.send(handle, "TransactionEvent", event("Started", 0, 0, wh=1000, triggerReason="CablePluggedIn"))
    authorized = event("Updated", 1, 1, triggerReason="Authorized", idToken=TOKEN)
    assert await station.send(handle, "TransactionEvent", authorized) == {"idTokenInfo": {"status": "Accepted"}}
    assert (await station.only_transaction()).id_tag == "04A2B3C4"

    other = event("Updated", 2, 2, triggerReason="Authorized", idToken={"idToken": "OTHER", "type": "ISO14443"})
    await station.send(handle, "TransactionEvent", other)
    assert (await station.only_transaction()).id_tag == "04A2B3C4"  # the first token stays
