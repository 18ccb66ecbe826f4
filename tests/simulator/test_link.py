"""The charger's OCPP connection on its own: what may leave in which phase, the outbox head, heartbeats."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from chargewise.domain.model import OcppVersion
from chargewise.ocpp.frames import Payload
from chargewise.ocpp.session import Role, Session
from chargewise.simulator.clock import iso
from chargewise.simulator.lifecycle import Phase
from chargewise.simulator.link import Link
from chargewise.simulator.outbox import Kind, Outbox, Queued
from chargewise.simulator.ports import Reply
from chargewise.simulator.settings import Settings
from chargewise.simulator.templates import load_template

T0 = 1_700_000_000.0


class FakeDialect:
    supported = frozenset({"Reset"})

    def answer(self, action: str, payload: Payload, now: float) -> Reply:
        return Reply(payload={"status": "Accepted"})

    def resolve(self, item: Queued) -> Payload | None:
        return item.payload

    def authorized(self, answer: Payload) -> bool:
        return True

    def tx_answered(self, item: Queued, answer: Payload, now: float) -> None:
        pass


@dataclass
class FakeAnswers:
    notes: list[str] = field(default_factory=list)

    def boot_answered(self, payload: Payload, now: float) -> None:
        pass

    def boot_failed(self, now: float) -> None:
        pass

    def authorize_answered(self, connector_id: int, id_tag: str, accepted: bool, now: float) -> None:
        pass

    def note(self, now: float, text: str) -> None:
        self.notes.append(text)


def link() -> Link:
    template = load_template("esp32-generic")
    session = Session(version=OcppVersion.V16, role=Role.CHARGER, supported=FakeDialect.supported)
    return Link(session=session, dialect=FakeDialect(), outbox=Outbox(10), settings=Settings(template),  # type: ignore[arg-type]
                template=template, answers=FakeAnswers())  # fmt: skip


def meter(n: int) -> Queued:
    payload = {"connectorId": 1, "meterValue": [{"timestamp": iso(T0 + n), "sampledValue": [{"value": str(n)}]}]}
    return Queued(action="MeterValues", payload=payload, kind=Kind.METER, tx_local=1, created=T0 + n)


def sent(lk: Link) -> list[str]:
    return [json.loads(frame)[2] for frame in lk.session.outgoing()]


def test_before_accepted_only_boot_notification_leaves() -> None:
    lk = link()
    lk.phase = Phase.BOOTING
    lk.call("StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Available"}, T0)
    lk.outbox.put(meter(1))
    lk.pump(T0)
    assert sent(lk) == []
    lk.send_boot("BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"}, T0)
    assert sent(lk) == ["BootNotification"]


def test_the_outbox_head_leaves_alone_and_a_drop_keeps_it_for_the_next_connection() -> None:
    lk = link()
    lk.phase = Phase.ACCEPTED
    first, second = meter(1), meter(2)
    lk.outbox.put(first)
    lk.outbox.put(second)
    lk.pump(T0)
    lk.pump(T0)
    assert first.in_flight is not None and second.in_flight is None
    lk.drop()
    assert first.in_flight is None and len(lk.outbox) == 2  # nothing lost with the connection


def test_a_heartbeat_follows_an_interval_of_silence() -> None:
    lk = link()
    lk.phase = Phase.ACCEPTED
    interval = lk.settings.int("heartbeat_interval")
    lk.start_heartbeats(T0)
    lk.heartbeat(T0 + interval - 1)
    assert sent(lk) == []
    lk.heartbeat(T0 + interval)
    assert sent(lk) == ["Heartbeat"]
    assert lk.heartbeat_at == T0 + 2 * interval  # sending restarts the interval
