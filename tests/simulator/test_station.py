"""The station on its own, through fakes of its two ports (the firmware's uplink and a dialect)."""

from __future__ import annotations

from dataclasses import dataclass, field

from chargewise.domain.model import OcppVersion
from chargewise.ocpp.frames import Payload
from chargewise.simulator.calls import OTHER, AuthorizeCall, CallContext
from chargewise.simulator.connector import Connector, Transaction
from chargewise.simulator.outbox import Kind, Outbox, Queued
from chargewise.simulator.rng import Rng
from chargewise.simulator.settings import Settings
from chargewise.simulator.station import Station
from chargewise.simulator.templates import load_template
from chargewise.simulator.workload import Visit

T0 = 1_700_000_000.0


@dataclass
class FakeUplink:
    accepted: bool = True
    offline_since: float | None = None
    calls: list[tuple[str, CallContext]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def call(self, action: str, payload: Payload, now: float, ctx: CallContext = OTHER) -> None:
        self.calls.append((action, ctx))

    def pump(self, now: float) -> None:
        pass

    def note(self, now: float, text: str) -> None:
        self.notes.append(text)


class FakeReporter:
    """Reports a connector's status whenever it differs from the last one reported."""

    def status(self, c: Connector | None, now: float) -> list[tuple[str, Payload]]:
        if c is None or c.reported == (c.status().value, ""):
            return []
        c.reported = (c.status().value, "")
        return [("StatusNotification", {"connectorId": c.id, "status": c.status().value})]

    def authorize(self, id_tag: str) -> tuple[str, Payload]:
        return "Authorize", {"idTag": id_tag}

    def tx_message(
        self, c: Connector, tx: Transaction, kind: Kind, now: float, trigger: str, reason: str | None = None
    ) -> Queued | None:
        return Queued(action=kind.value, payload={"trigger": trigger}, kind=kind, tx_local=tx.local, created=now)


def station(uplink: FakeUplink, *visits: Visit) -> Station:
    template = load_template("esp32-generic")
    s = Station(template=template, version=OcppVersion.V16, settings=Settings(template), rng=Rng("station"),
                outbox=Outbox(60), reporter=FakeReporter(), uplink=uplink, visits=list(visits))  # fmt: skip
    s.power_on(T0)
    return s


def ev(at: float, tag: str | None = "TAG1") -> Visit:
    return Visit(charger=0, connector=1, arrive_s=at, depart_s=at + 3600, energy_wh=10_000, capacity_wh=60_000,
                 soc=0.3, obc_max_a=32, phases=1, id_tag=tag)  # fmt: skip


def test_offline_an_id_tag_is_accepted_at_once_and_the_start_waits_in_the_outbox() -> None:
    uplink = FakeUplink(accepted=False, offline_since=T0)
    s = station(uplink, ev(T0 + 10))
    s.run_visits(T0 + 10)
    assert s.connectors[0].tx is not None and uplink.calls == []  # no Authorize, no status while offline
    assert [q.action for q in s.outbox] == ["start"]


def test_online_the_id_tag_is_authorized_first_and_the_answer_starts_the_transaction() -> None:
    uplink = FakeUplink()
    s = station(uplink, ev(T0 + 10))
    s.run_visits(T0 + 10)
    assert ("Authorize", AuthorizeCall(connector_id=1, id_tag="TAG1")) in uplink.calls
    assert s.connectors[0].tx is None
    s.authorize_answered(1, "TAG1", True, T0 + 11)
    assert s.connectors[0].tx is not None and s.transactions == 1


def test_a_remote_start_without_an_ev_lapses_after_the_connection_timeout() -> None:
    uplink = FakeUplink()
    s = station(uplink)
    c = s.connectors[0]
    assert s.remote_start(c, "APP", None, None)
    s.after_remote_start(c)(T0)
    s.refresh(T0 + 119)
    assert c.authorized_tag == "APP"
    s.refresh(T0 + 120)  # ConnectionTimeOut is 120 s
    assert c.authorized_tag is None and any("ConnectionTimeOut" in n for n in uplink.notes)


def test_an_ev_at_a_faulted_connector_is_turned_away() -> None:
    uplink = FakeUplink()
    s = station(uplink, ev(T0 + 10))
    s.connectors[0].fault = "GroundFailure"
    s.run_visits(T0 + 10)
    assert s.connectors[0].ev is None and "EV turned away at connector 1" in uplink.notes


def test_departure_stops_the_transaction_and_reports_the_connector_free() -> None:
    uplink = FakeUplink()
    s = station(uplink, ev(T0 + 10))
    s.run_visits(T0 + 10)
    s.authorize_answered(1, "TAG1", True, T0 + 11)
    s.run_visits(T0 + 3610)
    assert s.connectors[0].tx is None and [q.action for q in s.outbox][-1] == "stop"
    statuses = [ctx for action, ctx in uplink.calls if action == "StatusNotification"]
    assert statuses and s.connectors[0].reported == ("Available", "")
