"""The dispatcher without sockets: registration gates (1.6 section 4.2, 2.0.1 B01-B03), rows created by the first
BootNotification within the newcomer bounds, the command gate, exception mapping and the per-charger log budget."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from chargewise.domain.model import OcppVersion, Registration
from chargewise.domain.ports import StoreBusy
from chargewise.handlers.context import Context, Payload
from chargewise.handlers.dispatch import Answer, Dispatcher, LogBudget, Peer, command_refusal
from chargewise.handlers.v16.routing import routes as v16_routes
from chargewise.handlers.v201.routing import routes as v201_routes
from chargewise.ocpp.errors import ErrorKind, RemoteProtocolError
from chargewise.ocpp.session import CallReceived, Role, Session
from chargewise.services.directory import Directory
from chargewise.services.newcomers import Newcomers
from tests.domain.clock import T0
from tests.handlers.station import CHARGER_ID, Station, open_station

BOOT16 = {"chargePointVendor": "Acme", "chargePointModel": "M"}
BOOT201 = {"reason": "PowerUp", "chargingStation": {"vendorName": "Acme", "model": "M"}}
BOOT = {OcppVersion.V16: BOOT16, OcppVersion.V201: BOOT201}
# what a Pending or Rejected charger must not send, and would be stored if it were let through
FORBIDDEN16 = [
    ("Heartbeat", {}),
    ("StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Charging"}),
    ("StartTransaction", {"connectorId": 1, "idTag": "TAG", "meterStart": 0, "timestamp": "2024-05-01T11:00:00Z"}),
    ("MeterValues", {"connectorId": 1, "meterValue": [{"timestamp": "2024-05-01T11:00:00Z",
                                                        "sampledValue": [{"value": "10"}]}]}),
]  # fmt: skip
FORBIDDEN201 = [
    ("Heartbeat", {}),
    ("StatusNotification", {"timestamp": "2024-05-01T11:00:00Z", "connectorStatus": "Occupied", "evseId": 1,
                            "connectorId": 1}),
    ("TransactionEvent", {"eventType": "Started", "timestamp": "2024-05-01T11:00:00Z", "triggerReason": "Authorized",
                          "seqNo": 0, "transactionInfo": {"transactionId": "T1"}, "evse": {"id": 1, "connectorId": 1},
                          "meterValue": [{"timestamp": "2024-05-01T11:00:00Z",
                                          "sampledValue": [{"value": 10.0}]}]}),
]  # fmt: skip
FORBIDDEN = {OcppVersion.V16: FORBIDDEN16, OcppVersion.V201: FORBIDDEN201}


def call(action: str, payload: Payload, unique_id: str = "1", quirks: tuple[str, ...] = ()) -> CallReceived:
    return CallReceived(unique_id=unique_id, action=action, payload=payload, quirks=quirks)


async def setup(
    version: OcppVersion, registration: Registration, *, max_pending: int = 1000, per_minute: int = 60
) -> tuple[Station, Dispatcher]:
    station = await open_station(version, registration=registration)
    directory = Directory()
    directory.load(await station.store.list_chargers())
    dispatcher = Dispatcher(
        central=station.central, directory=directory,
        routes={OcppVersion.V16: v16_routes(), OcppVersion.V201: v201_routes()},
        newcomers=Newcomers(max_pending=max_pending, per_minute=per_minute),
    )  # fmt: skip
    return station, dispatcher


async def assert_nothing_stored(station: Station, charger_id: str = CHARGER_ID) -> None:
    await station.central.drain()
    charger = await station.store.get_charger(charger_id)
    assert charger is not None
    assert charger.connectors == [] and charger.last_seen is None
    assert await station.store.list_transactions() == [] and station.store.samples == []


# ---------------------------------------------------------------------- charger to CSMS
@pytest.mark.parametrize("version", list(OcppVersion))
@pytest.mark.parametrize("registration", [Registration.PENDING, Registration.REJECTED])
async def test_a_charger_not_accepted_may_send_only_boot(version: OcppVersion, registration: Registration) -> None:
    station, dispatcher = await setup(version, registration)
    peer = Peer(charger_id=CHARGER_ID, version=version)
    for action, payload in FORBIDDEN[version]:
        answer = await dispatcher.dispatch(peer, call(action, payload), T0)
        assert (answer.payload, answer.error) == (None, ErrorKind.SECURITY), action
        assert "send only BootNotification" in answer.description
    await assert_nothing_stored(station)
    answer = await dispatcher.dispatch(peer, call("BootNotification", BOOT[version]), T0)
    assert answer.payload is not None and answer.payload["status"] == registration.value


@pytest.mark.parametrize("version", list(OcppVersion))
async def test_an_accepted_charger_is_served(version: OcppVersion) -> None:
    station, dispatcher = await setup(version, Registration.ACCEPTED)
    peer = Peer(charger_id=CHARGER_ID, version=version)
    for action, payload in FORBIDDEN[version]:
        answer = await dispatcher.dispatch(peer, call(action, payload), T0)
        assert answer.payload is not None, (action, answer)
    await station.central.drain()
    assert (await station.charger()).connectors != [] and await station.store.list_transactions() != []


async def test_a_pending_station_may_send_the_report_it_was_asked_for() -> None:
    report = {"requestId": 1, "generatedAt": "2024-05-01T11:00:00Z", "seqNo": 0}
    for registration, allowed in ((Registration.PENDING, True), (Registration.REJECTED, False)):
        _station, dispatcher = await setup(OcppVersion.V201, registration)
        answer = await dispatcher.dispatch(Peer(charger_id=CHARGER_ID, version=OcppVersion.V201),
                                           call("NotifyReport", report), T0)  # fmt: skip
        assert (answer.payload == {}) is allowed, (registration, answer)


# ---------------------------------------------------------------------- rows created by the first boot
@pytest.mark.parametrize("version", list(OcppVersion))
@pytest.mark.parametrize("register_as", [Registration.ACCEPTED, Registration.PENDING])
async def test_a_new_id_is_recorded_by_its_first_boot_only(version: OcppVersion, register_as: Registration) -> None:
    station, dispatcher = await setup(version, Registration.ACCEPTED)
    peer = Peer(charger_id="NEW", version=version, register_as=register_as)
    for action, payload in FORBIDDEN[version]:
        assert (await dispatcher.dispatch(peer, call(action, payload), T0)).error is ErrorKind.SECURITY
    await station.central.drain()
    assert await station.store.get_charger("NEW") is None and dispatcher.directory.get("NEW") is None
    answer = await dispatcher.dispatch(peer, call("BootNotification", BOOT[version]), T0)
    assert answer.payload is not None and answer.payload["status"] == register_as.value
    charger = await station.store.get_charger("NEW")
    assert charger is not None and charger.registration is register_as and charger.connected
    assert charger.boot is not None and charger.last_seen == T0
    assert dispatcher.registration("NEW") is register_as and peer.register_as is None


async def test_pending_newcomers_are_bounded_in_number() -> None:
    station, dispatcher = await setup(OcppVersion.V16, Registration.ACCEPTED, max_pending=2)
    answers = []
    for charger_id in ("N1", "N2", "N3"):
        peer = Peer(charger_id=charger_id, version=OcppVersion.V16, register_as=Registration.PENDING)
        answer = await dispatcher.dispatch(peer, call("BootNotification", BOOT16), T0)
        answers.append(answer.payload["status"] if answer.payload else None)
    assert answers == ["Pending", "Pending", "Rejected"]
    assert await station.store.get_charger("N3") is None and dispatcher.directory.pending_count() == 2
    assert dispatcher.newcomer_refusal(T0) is not None and "max_pending" in (dispatcher.newcomer_refusal(T0) or "")
    # an accepting policy is not bounded: the operator chose it
    peer = Peer(charger_id="A1", version=OcppVersion.V16, register_as=Registration.ACCEPTED)
    assert (await dispatcher.dispatch(peer, call("BootNotification", BOOT16), T0)).payload["status"] == "Accepted"  # type: ignore[index]


async def test_pending_newcomers_are_bounded_in_rate() -> None:
    station, dispatcher = await setup(OcppVersion.V16, Registration.ACCEPTED, per_minute=2)

    async def boot(charger_id: str, seconds: float) -> str:
        peer = Peer(charger_id=charger_id, version=OcppVersion.V16, register_as=Registration.PENDING)
        answer = await dispatcher.dispatch(peer, call("BootNotification", BOOT16), T0 + timedelta(seconds=seconds))
        assert answer.payload is not None
        return str(answer.payload["status"])

    assert [await boot("N1", 0), await boot("N2", 1), await boot("N3", 2)] == ["Pending", "Pending", "Rejected"]
    assert await boot("N3", 31) == "Pending"  # one token back every 30 s
    assert await station.store.get_charger("N4") is None


async def test_the_boot_answer_keeps_the_directory_in_step_with_the_store() -> None:
    station, dispatcher = await setup(OcppVersion.V16, Registration.PENDING)
    await station.store.set_registration(CHARGER_ID, Registration.ACCEPTED)  # approved by another process
    peer = Peer(charger_id=CHARGER_ID, version=OcppVersion.V16)
    assert (await dispatcher.dispatch(peer, call("BootNotification", BOOT16), T0)).payload["status"] == "Accepted"  # type: ignore[index]
    assert dispatcher.registration(CHARGER_ID) is Registration.ACCEPTED
    assert (await dispatcher.dispatch(peer, call("Heartbeat", {}), T0)).payload is not None


# ---------------------------------------------------------------------- CSMS to charger
@pytest.mark.parametrize(
    ("version", "registration", "action", "payload", "allowed"),
    [
        (OcppVersion.V16, Registration.ACCEPTED, "RemoteStartTransaction", {"idTag": "T"}, True),
        (OcppVersion.V16, Registration.PENDING, "GetConfiguration", {}, True),
        (OcppVersion.V16, Registration.PENDING, "ChangeConfiguration", {"key": "K", "value": "V"}, True),
        (OcppVersion.V16, Registration.PENDING, "Reset", {"type": "Soft"}, True),
        (OcppVersion.V16, Registration.PENDING, "TriggerMessage", {"requestedMessage": "BootNotification"}, True),
        (OcppVersion.V16, Registration.PENDING, "TriggerMessage", {"requestedMessage": "StatusNotification"}, False),
        (OcppVersion.V16, Registration.PENDING, "RemoteStartTransaction", {"idTag": "T"}, False),
        (OcppVersion.V16, Registration.PENDING, "ChangeAvailability", {"connectorId": 0, "type": "Inoperative"}, False),
        (OcppVersion.V16, Registration.REJECTED, "GetConfiguration", {}, False),
        (OcppVersion.V16, None, "GetConfiguration", {}, False),
        (OcppVersion.V201, Registration.PENDING, "GetVariables", {}, True),
        (OcppVersion.V201, Registration.PENDING, "SetVariables", {}, True),
        (OcppVersion.V201, Registration.PENDING, "GetBaseReport", {}, True),
        (OcppVersion.V201, Registration.PENDING, "GetReport", {}, True),
        (OcppVersion.V201, Registration.PENDING, "TriggerMessage", {"requestedMessage": "BootNotification"}, True),
        (OcppVersion.V201, Registration.PENDING, "TriggerMessage", {"requestedMessage": "Heartbeat"}, False),
        (OcppVersion.V201, Registration.PENDING, "RequestStartTransaction", {}, False),  # B02.FR: not while Pending
        (OcppVersion.V201, Registration.PENDING, "RequestStopTransaction", {}, False),
        (OcppVersion.V201, Registration.REJECTED, "GetBaseReport", {}, False),
        (OcppVersion.V201, Registration.ACCEPTED, "RequestStartTransaction", {}, True),
    ],
)
def test_command_gate(
    version: OcppVersion, registration: Registration | None, action: str, payload: Payload, allowed: bool
) -> None:
    refusal = command_refusal("CP-1", version, registration, action, payload)
    assert (refusal is None) is allowed, refusal
    if refusal is not None:
        assert refusal.startswith("charger 'CP-1' ")


# ---------------------------------------------------------------------- errors, quirks, log lines
async def test_a_handler_error_is_the_chargers_fault_and_any_other_is_ours(caplog: pytest.LogCaptureFixture) -> None:
    _station, dispatcher = await setup(OcppVersion.V16, Registration.ACCEPTED)

    async def picky(ctx: Context, payload: Payload) -> Payload:
        raise RemoteProtocolError(ErrorKind.PROPERTY_CONSTRAINT, "meterStart: not a number")

    async def broken(ctx: Context, payload: Payload) -> Payload:
        raise RuntimeError("database on fire")

    dispatcher.routes[OcppVersion.V16].update(Heartbeat=picky, Authorize=broken)
    peer = Peer(charger_id=CHARGER_ID, version=OcppVersion.V16)
    with caplog.at_level(logging.DEBUG, logger="chargewise.handlers.dispatch"):
        theirs = await dispatcher.dispatch(peer, call("Heartbeat", {}), T0)
        ours = await dispatcher.dispatch(peer, call("Authorize", {"idTag": "T"}), T0)
    assert theirs == Answer(error=ErrorKind.PROPERTY_CONSTRAINT, description="meterStart: not a number")
    assert ours == Answer(error=ErrorKind.INTERNAL, description="internal error; retry later")
    lines = [(r.levelno, r.getMessage(), r.exc_info is not None) for r in caplog.records]
    assert lines == [
        (logging.INFO, "CP-1: Heartbeat refused: meterStart: not a number", False),
        (logging.ERROR, "CP-1: Authorize failed: RuntimeError: database on fire", False),  # one line, no traceback
        (logging.DEBUG, "CP-1: Authorize failed", True),  # the traceback, at debug level only
    ]


async def test_an_invalid_answer_of_ours_is_an_internal_error() -> None:
    _station, dispatcher = await setup(OcppVersion.V16, Registration.ACCEPTED)
    session = Session(version=OcppVersion.V16, role=Role.CSMS)
    session.receive(b'[2,"7","Heartbeat",{}]', 0.0)
    peer = Peer(charger_id=CHARGER_ID, version=OcppVersion.V16)
    dispatcher.reply(peer, session, call("Heartbeat", {}, "7"), Answer(payload={"currentTime": 5}), T0)
    assert session.outgoing() == [b'[4,"7","InternalError","internal error",{}]']


async def test_quirks_are_counted_per_link() -> None:
    _station, dispatcher = await setup(OcppVersion.V16, Registration.ACCEPTED)
    peer = Peer(charger_id=CHARGER_ID, version=OcppVersion.V16)
    for _ in range(2):
        await dispatcher.dispatch(peer, call("Heartbeat", {}, quirks=("long-strings",)), T0)
    assert peer.quirk_counts == {"long-strings": 2}


async def test_a_flood_of_refused_messages_writes_a_few_lines_a_minute(caplog: pytest.LogCaptureFixture) -> None:
    _station, dispatcher = await setup(OcppVersion.V16, Registration.PENDING)
    flooder = Peer(charger_id=CHARGER_ID, version=OcppVersion.V16)
    other = Peer(charger_id="CP-2", version=OcppVersion.V16)
    with caplog.at_level(logging.INFO, logger="chargewise.handlers.dispatch"):
        for i in range(100):
            await dispatcher.dispatch(flooder, call("Heartbeat", {}, str(i)), T0 + timedelta(milliseconds=i))
        dispatcher.note(other, "rejected a message: not JSON", T0)  # another charger's budget is its own
        await dispatcher.dispatch(flooder, call("Heartbeat", {}), T0 + timedelta(seconds=61))
    lines = [r.getMessage() for r in caplog.records]
    flood = [line for line in lines if line.startswith("CP-1: ")]
    assert len(flood) == LogBudget.BURST + 1
    assert all("Heartbeat refused, Pending: send only BootNotification" in line for line in flood)
    assert flood[-1].endswith(f"({100 - LogBudget.BURST} similar lines held back)")
    assert "CP-2: rejected a message: not JSON" in lines


def test_log_budget_refills_at_its_burst_a_minute() -> None:
    budget = LogBudget()
    assert [budget.spend(T0) for _ in range(LogBudget.BURST)] == [0] * LogBudget.BURST
    assert budget.spend(T0) is None and budget.spend(T0 + timedelta(seconds=1)) is None
    assert budget.spend(T0 + timedelta(seconds=7)) == 2  # 6 s: one line back
    assert budget.spend(T0 + timedelta(seconds=7)) is None


async def test_a_directory_reload_during_the_first_boot_does_not_lose_the_newcomer() -> None:
    station, dispatcher = await setup(OcppVersion.V16, Registration.ACCEPTED)
    write = station.central.connected

    async def reload_first(charger_id: str, *, register_as: Registration | None = None) -> None:
        dispatcher.directory.load(await station.store.list_chargers())  # another process changed a charger
        await write(charger_id, register_as=register_as)

    station.central.connected = reload_first  # type: ignore[method-assign]
    peer = Peer(charger_id="NEW", version=OcppVersion.V16, register_as=Registration.PENDING)
    assert (await dispatcher.dispatch(peer, call("BootNotification", BOOT16), T0)).payload["status"] == "Pending"  # type: ignore[index]
    assert dispatcher.registration("NEW") is Registration.PENDING


async def test_a_store_too_busy_in_a_storm_is_a_generic_error_not_ours(caplog: pytest.LogCaptureFixture) -> None:
    _station, dispatcher = await setup(OcppVersion.V16, Registration.ACCEPTED)

    async def swamped(ctx: Context, payload: Payload) -> Payload:
        raise StoreBusy("no database connection free within 60 s")

    dispatcher.routes[OcppVersion.V16].update(Heartbeat=swamped)
    peer = Peer(charger_id=CHARGER_ID, version=OcppVersion.V16)
    with caplog.at_level(logging.DEBUG, logger="chargewise.handlers.dispatch"):
        answer = await dispatcher.dispatch(peer, call("Heartbeat", {}), T0)
    assert answer == Answer(error=ErrorKind.GENERIC, description="server busy; retry later")
    assert [(r.levelno, r.exc_info is None) for r in caplog.records] == [(logging.WARNING, True)]
