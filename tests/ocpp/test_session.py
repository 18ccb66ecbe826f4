"""The RPC state machine, both ends at once: a CSMS-role and a CHARGER-role Session joined by a fake link,
for each OCPP version. Raw text is injected only for what a well-behaved Session never sends."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chargewise.domain.model import OcppVersion
from chargewise.ocpp.errors import ErrorKind, LocalProtocolError
from chargewise.ocpp.frames import CallError
from chargewise.ocpp.schemas import schema_set
from chargewise.ocpp.session import (
    MAX_QUEUED_INBOUND,
    CallReceived,
    CallTimedOut,
    ErrorReceived,
    MessageRejected,
    ResultReceived,
    Role,
    Session,
    describe,
)

from .casefile import load, params, sample
from .link import Link

CSMS, CHARGER = Role.CSMS, Role.CHARGER


@pytest.fixture(params=list(OcppVersion), ids=[v.value for v in OcppVersion])
def link(request: pytest.FixtureRequest) -> Link:
    return Link(request.param, now=1000.0, call_timeout=30.0)


def msg(link: Link, action: str, part: str) -> dict[str, Any]:
    return sample(link.version.value, action, part)


def call_text(unique_id: str, action: str, payload: Any) -> str:
    return json.dumps([2, unique_id, action, payload])


# ---------------------------------------------------------------------------------------------- round trip
def test_boot_notification_round_trip(link: Link) -> None:
    request, response = msg(link, "BootNotification", "request"), msg(link, "BootNotification", "response")

    assert link.charger.call("BootNotification", request, link.now, context="boot") == "1"
    assert link.charger.next_deadline() == 1030.0
    assert link.transmit(CHARGER) == [CallReceived(unique_id="1", action="BootNotification", payload=request)]

    assert link.csms.reply("1", response) == []
    link.now = 1000.4
    assert link.transmit(CSMS) == [
        ResultReceived(unique_id="1", action="BootNotification", payload=response, context="boot")
    ]
    assert link.wire == [(CHARGER, [2, "1", "BootNotification", request]), (CSMS, [3, "1", response])]
    assert (link.charger.next_deadline(), link.csms.next_deadline()) == (None, None)


# ---------------------------------------------------------------------------------------------- rule 2
def test_one_call_in_flight_per_direction(link: Link) -> None:
    reset, trigger = msg(link, "Reset", "request"), msg(link, "TriggerMessage", "request")
    assert link.csms.call("Reset", reset, link.now, context="r") == "1"
    assert link.csms.call("TriggerMessage", trigger, link.now, context="t") == "2"
    assert link.charger.call("Heartbeat", {}, link.now) == "1"  # the other direction has its own slot

    assert link.queued(CSMS) == [[2, "1", "Reset", reset]]  # the trigger waits for the reset's answer
    assert link.transmit(CSMS) == [CallReceived(unique_id="1", action="Reset", payload=reset)]
    assert link.transmit(CHARGER) == [CallReceived(unique_id="1", action="Heartbeat", payload={})]

    assert link.charger.reply("1", msg(link, "Reset", "response")) == []
    assert link.csms.reply("1", msg(link, "Heartbeat", "response")) == []
    assert link.queued(CSMS) == [[3, "1", msg(link, "Heartbeat", "response")]]  # still no trigger
    assert link.transmit(CHARGER) == [
        ResultReceived(unique_id="1", action="Reset", payload=msg(link, "Reset", "response"), context="r")
    ]
    assert link.transmit(CSMS) == [
        ResultReceived(unique_id="1", action="Heartbeat", payload=msg(link, "Heartbeat", "response"), context=None),
        CallReceived(unique_id="2", action="TriggerMessage", payload=trigger),
    ]
    assert link.wire == [
        (CSMS, [2, "1", "Reset", reset]),
        (CHARGER, [2, "1", "Heartbeat", {}]),
        (CHARGER, [3, "1", msg(link, "Reset", "response")]),
        (CSMS, [3, "1", msg(link, "Heartbeat", "response")]),
        (CSMS, [2, "2", "TriggerMessage", trigger]),
    ]


def test_pump_runs_a_conversation_to_the_end(link: Link) -> None:
    link.charger.call("BootNotification", msg(link, "BootNotification", "request"), link.now)
    link.charger.call("Heartbeat", {}, link.now)
    link.transmit(CHARGER)
    link.csms.reply("1", msg(link, "BootNotification", "response"))
    link.pump()
    assert [type(e) for e in link.take(CHARGER)] == [ResultReceived]
    assert [(e.unique_id, e.action) for e in link.take(CSMS) if isinstance(e, CallReceived)] == [
        ("1", "BootNotification"),
        ("2", "Heartbeat"),
    ]
    assert [frame[:2] for _, frame in link.wire] == [[2, "1"], [3, "1"], [2, "2"]]


# ---------------------------------------------------------------------------------------------- rule 3
def test_inbound_calls_are_released_one_at_a_time_in_order(link: Link) -> None:
    heartbeat, status = msg(link, "Heartbeat", "request"), msg(link, "StatusNotification", "request")
    meter = msg(link, "MeterValues", "request")
    assert link.inject(CSMS, call_text("a", "Heartbeat", heartbeat)) == [
        CallReceived(unique_id="a", action="Heartbeat", payload=heartbeat)
    ]
    assert link.inject(CSMS, call_text("b", "StatusNotification", status)) == []
    assert link.inject(CSMS, call_text("c", "MeterValues", meter)) == []
    assert link.queued(CSMS) == []

    assert link.csms.reply("a", msg(link, "Heartbeat", "response")) == [
        CallReceived(unique_id="b", action="StatusNotification", payload=status)
    ]
    assert link.csms.reply_error("b", ErrorKind.INTERNAL, "database down") == [
        CallReceived(unique_id="c", action="MeterValues", payload=meter)
    ]
    assert link.csms.reply("c", {}) == []
    assert link.queued(CSMS) == [
        [3, "a", msg(link, "Heartbeat", "response")],
        [4, "b", "InternalError", "database down", {}],
        [3, "c", {}],
    ]


def test_a_refused_queued_call_does_not_hold_up_the_next(link: Link) -> None:
    link.inject(CSMS, call_text("a", "Heartbeat", {}))
    link.inject(CSMS, call_text("x", "FlyToTheMoon", {}))
    link.inject(CSMS, call_text("c", "Heartbeat", {}))
    events = link.csms.reply("a", msg(link, "Heartbeat", "response"))
    assert [type(e) for e in events] == [MessageRejected, CallReceived]
    assert isinstance(events[0], MessageRejected) and events[0].answer is not None
    assert (events[0].answer.unique_id, events[0].answer.code) == ("x", "NotImplemented")
    assert events[1] == CallReceived(unique_id="c", action="Heartbeat", payload={})
    assert [frame[:3] for frame in link.queued(CSMS)] == [[3, "a", msg(link, "Heartbeat", "response")],
                                                         [4, "x", "NotImplemented"]]  # fmt: skip


def test_inbound_backlog_is_bounded(link: Link) -> None:
    assert len(link.inject(CSMS, call_text("0", "Heartbeat", {}))) == 1
    for n in range(1, MAX_QUEUED_INBOUND + 1):
        assert link.inject(CSMS, call_text(str(n), "Heartbeat", {})) == []
    [rejected] = link.inject(CSMS, call_text("overflow", "Heartbeat", {}))
    assert isinstance(rejected, MessageRejected)
    assert rejected.answer == CallError(unique_id="overflow", code="GenericError", description=rejected.reason)
    assert rejected.reason == "more than 256 calls unanswered; wait for each CallResult"
    assert link.queued(CSMS) == [[4, "overflow", "GenericError", rejected.reason, {}]]


# ---------------------------------------------------------------------------------------------- rule 5
def test_timeout_releases_the_next_queued_call(link: Link) -> None:
    reset, trigger = msg(link, "Reset", "request"), msg(link, "TriggerMessage", "request")
    link.csms.call("Reset", reset, 1000.0, context="r")
    link.csms.call("TriggerMessage", trigger, 1000.0, context="t")
    link.transmit(CSMS)  # the charger takes the reset and never answers
    assert link.csms.next_deadline() == 1030.0

    assert link.csms.expire(1029.999) == []
    assert link.queued(CSMS) == []
    assert link.csms.expire(1030.0) == [CallTimedOut(unique_id="1", action="Reset", context="r")]
    assert link.queued(CSMS) == [[2, "2", "TriggerMessage", trigger]]
    assert link.csms.next_deadline() == 1060.0

    assert link.csms.expire(1060.0) == [CallTimedOut(unique_id="2", action="TriggerMessage", context="t")]
    assert link.csms.next_deadline() is None
    assert link.csms.expire(5000.0) == []


def test_a_late_answer_after_timeout_is_dropped(link: Link) -> None:
    link.csms.call("Reset", msg(link, "Reset", "request"), 1000.0)
    link.transmit(CSMS)
    link.csms.expire(1030.0)
    link.charger.reply("1", msg(link, "Reset", "response"))
    link.now = 1031.0
    assert link.transmit(CHARGER) == [MessageRejected(reason="answer to unknown call '1' dropped", answer=None)]
    assert link.queued(CSMS) == []


def test_a_queued_call_deadline_starts_when_it_is_sent(link: Link) -> None:
    link.csms.call("Reset", msg(link, "Reset", "request"), 1000.0)
    link.csms.call("TriggerMessage", msg(link, "TriggerMessage", "request"), 1000.0)
    link.transmit(CSMS)
    link.charger.reply("1", msg(link, "Reset", "response"))
    link.now = 1012.5
    link.transmit(CHARGER)
    assert link.csms.next_deadline() == 1042.5


def test_abandon_gives_up_every_call_and_forgets_inbound(link: Link) -> None:
    link.csms.call("Reset", msg(link, "Reset", "request"), link.now, context="r")
    link.csms.call("TriggerMessage", msg(link, "TriggerMessage", "request"), link.now, context="t")
    link.charger.call("Heartbeat", {}, link.now)
    link.pump()  # the CSMS now has the charger's heartbeat to answer

    assert link.csms.abandon() == [
        CallTimedOut(unique_id="1", action="Reset", context="r"),
        CallTimedOut(unique_id="2", action="TriggerMessage", context="t"),
    ]
    assert link.csms.next_deadline() is None
    with pytest.raises(LocalProtocolError):
        link.csms.reply("1", msg(link, "Heartbeat", "response"))
    assert link.csms.abandon() == []
    assert link.queued(CSMS) == []

    assert link.csms.call("Reset", msg(link, "Reset", "request"), 2000.0) == "3"
    assert link.queued(CSMS) == [[2, "3", "Reset", msg(link, "Reset", "request")]]
    assert link.csms.next_deadline() == 2030.0


# ---------------------------------------------------------------------------------------------- our faults
def test_reply_to_a_call_that_is_not_current_raises(link: Link) -> None:
    with pytest.raises(LocalProtocolError, match="call 'a' is not the one awaiting an answer"):
        link.csms.reply("a", msg(link, "Heartbeat", "response"))
    with pytest.raises(LocalProtocolError):
        link.csms.reply_error("a", ErrorKind.INTERNAL, "nothing to answer")

    link.inject(CSMS, call_text("a", "Heartbeat", {}))
    link.inject(CSMS, call_text("b", "Heartbeat", {}))
    with pytest.raises(LocalProtocolError, match="call 'b' is not the one"):
        link.csms.reply("b", msg(link, "Heartbeat", "response"))  # queued behind "a"
    link.csms.reply("a", msg(link, "Heartbeat", "response"))
    with pytest.raises(LocalProtocolError, match="call 'a' is not the one"):
        link.csms.reply("a", msg(link, "Heartbeat", "response"))  # answered already
    assert link.queued(CSMS) == [[3, "a", msg(link, "Heartbeat", "response")]]


def test_invalid_outbound_payload_raises_and_nothing_is_sent(link: Link) -> None:
    with pytest.raises(LocalProtocolError, match="invalid Reset payload: type: value not allowed"):
        link.csms.call("Reset", {"type": "Sideways"}, link.now)
    with pytest.raises(LocalProtocolError, match="invalid TriggerMessage payload"):
        link.csms.call("TriggerMessage", {}, link.now)
    assert link.queued(CSMS) == []
    assert link.csms.next_deadline() is None
    assert link.csms.call("Reset", msg(link, "Reset", "request"), link.now) == "1"  # no id was used up


@pytest.mark.parametrize(
    ("role", "action"),
    [(CSMS, "BootNotification"), (CHARGER, "Reset"), (CSMS, "FlyToTheMoon"), (CHARGER, "FlyToTheMoon")],
)
def test_an_action_this_side_may_not_send_raises(link: Link, role: Role, action: str) -> None:
    with pytest.raises(LocalProtocolError, match=f"'{action}' is not an OCPP {link.version} action this side"):
        link.sessions[role].call(action, {}, link.now)
    assert link.queued(role) == []


def test_invalid_reply_payload_raises_and_the_call_can_still_be_answered(link: Link) -> None:
    link.inject(CSMS, call_text("a", "Heartbeat", {}))
    with pytest.raises(LocalProtocolError, match="our Heartbeat answer is invalid: currentTime"):
        link.csms.reply("a", {"currentTime": "noon"})
    with pytest.raises(LocalProtocolError, match="our Heartbeat answer is invalid: payload: missing required"):
        link.csms.reply("a", {})
    assert link.queued(CSMS) == []
    assert link.csms.reply_error("a", ErrorKind.INTERNAL, "clock unavailable") == []
    assert link.queued(CSMS) == [[4, "a", "InternalError", "clock unavailable", {}]]


# ---------------------------------------------------------------------------------------------- peer's answers
def test_invalid_answer_from_the_peer_is_an_error_not_from_the_peer(link: Link) -> None:
    link.csms.call("Reset", msg(link, "Reset", "request"), link.now, context="r")
    link.csms.call("TriggerMessage", msg(link, "TriggerMessage", "request"), link.now)
    link.transmit(CSMS)
    assert link.inject(CSMS, '[3, "1", {"status": "Sideways"}]') == [
        ErrorReceived(
            unique_id="1",
            action="Reset",
            code="PropertyConstraintViolation",
            description=describe_prefix("invalid answer: status: value not allowed (one of ", link.version),
            details=None,
            context="r",
            from_peer=False,
        )
    ]
    assert link.queued(CSMS) == [[2, "2", "TriggerMessage", msg(link, "TriggerMessage", "request")]]


def describe_prefix(prefix: str, version: OcppVersion) -> str:
    allowed = schema_set(version).check_response("Reset", {"status": "?"})
    assert allowed is not None
    return f"{prefix}{', '.join(allowed.definition)})"


def test_call_error_from_the_peer(link: Link) -> None:
    link.csms.call("Reset", msg(link, "Reset", "request"), link.now, context="r")
    link.csms.call("TriggerMessage", msg(link, "TriggerMessage", "request"), link.now, context="t")
    link.transmit(CSMS)
    assert link.charger.reply_error("1", ErrorKind.NOT_SUPPORTED, "reset is disabled") == []
    assert link.transmit(CHARGER) == [
        ErrorReceived(
            unique_id="1",
            action="Reset",
            code="NotSupported",
            description="reset is disabled",
            details=None,
            context="r",
            from_peer=True,
        )
    ]
    link.transmit(CSMS)  # the trigger went out once the reset failed
    assert link.inject(CSMS, '[4, "2", "GenericError", "busy", {"retryAfter": 30}]') == [
        ErrorReceived(
            unique_id="2",
            action="TriggerMessage",
            code="GenericError",
            description="busy",
            details={"retryAfter": 30},
            context="t",
            from_peer=True,
        )
    ]
    assert link.csms.next_deadline() is None


@pytest.mark.parametrize("answer", ['[3, "99", {}]', '[4, "99", "GenericError", "", {}]'])
def test_answer_with_unknown_id_is_dropped(link: Link, answer: str) -> None:
    expected = [MessageRejected(reason="answer to unknown call '99' dropped", answer=None)]
    assert link.inject(CSMS, answer) == expected  # nothing in flight
    link.csms.call("Reset", msg(link, "Reset", "request"), link.now)
    link.transmit(CSMS)
    assert link.inject(CSMS, answer) == expected  # something else in flight
    assert link.queued(CSMS) == []
    assert link.csms.next_deadline() == 1030.0
    link.charger.reply("1", msg(link, "Reset", "response"))
    assert [type(e) for e in link.transmit(CHARGER)] == [ResultReceived]


# ---------------------------------------------------------------------------------------------- leniency, support
def test_quirks_are_applied_and_reported_both_ways(link: Link) -> None:
    link.csms.quirks = frozenset({"enum-case", "extra-properties"})
    assert link.inject(CSMS, call_text("a", "Heartbeat", {"uptime": 12})) == [
        CallReceived(unique_id="a", action="Heartbeat", payload={}, quirks=("extra-properties",))
    ]
    link.csms.call("Reset", msg(link, "Reset", "request"), link.now, context="r")
    link.transmit(CSMS)
    assert link.inject(CSMS, '[3, "1", {"status": "ACCEPTED"}]') == [
        ResultReceived(unique_id="1", action="Reset", payload={"status": "Accepted"}, context="r",
                       quirks=("enum-case",))
    ]  # fmt: skip


def test_a_strict_session_refuses_what_a_lenient_one_coerces(link: Link) -> None:
    [rejected] = link.inject(CSMS, call_text("a", "Heartbeat", {"uptime": 12}))
    assert isinstance(rejected, MessageRejected) and rejected.answer is not None
    format_code = {OcppVersion.V16: "FormationViolation", OcppVersion.V201: "FormatViolation"}[link.version]
    assert rejected.answer.code == format_code


def test_an_action_outside_supported_is_not_supported(link: Link) -> None:
    session = Session(version=link.version, role=CSMS, supported=frozenset({"Heartbeat"}))
    [rejected] = session.receive(call_text("b", "BootNotification", msg(link, "BootNotification", "request")), 0.0)
    assert isinstance(rejected, MessageRejected)
    assert rejected.answer == CallError(unique_id="b", code="NotSupported",
                                        description="BootNotification is not supported here")  # fmt: skip
    assert session.receive(call_text("h", "Heartbeat", {}), 0.0) == [
        CallReceived(unique_id="h", action="Heartbeat", payload={})
    ]


def test_a_rejection_description_is_capped_at_255_characters(link: Link) -> None:
    [rejected] = link.inject(CSMS, call_text("a", "X" * 300, {}))
    assert isinstance(rejected, MessageRejected) and rejected.answer is not None
    assert rejected.answer.description == ("unknown action '" + "X" * 300)[:255]
    assert link.queued(CSMS)[0][3] == rejected.answer.description


# ---------------------------------------------------------------------------------------------- bad inbound table
@pytest.mark.parametrize("case", params(load("bad_inbound.json")["cases"]))
def test_bad_inbound_message_is_answered_with_the_version_code(case: dict[str, Any]) -> None:
    link = Link(OcppVersion(case["version"]))
    receiver = Role(case["receiver"])
    events = link.inject(receiver, case["text"])

    assert len(events) == 1
    [rejected] = events
    assert isinstance(rejected, MessageRejected)
    assert rejected.answer is not None
    assert (rejected.answer.code, rejected.answer.unique_id) == (case["code"], case["unique_id"])
    assert 0 < len(rejected.answer.description) <= 255
    assert link.queued(receiver) == [[4, case["unique_id"], case["code"], rejected.answer.description, {}]]

    # The session is not wedged: the next good call reaches the application.
    good = "Heartbeat" if receiver is CSMS else "Reset"
    payload = sample(case["version"], good, "request")
    assert link.inject(receiver, call_text("next", good, payload)) == [
        CallReceived(unique_id="next", action=good, payload=payload)
    ]


# ---------------------------------------------------------------------------------------------- describe
def violation_text(version: OcppVersion, action: str, payload: Any) -> str:
    violation = schema_set(version).check_request(action, payload)
    assert violation is not None
    return describe(violation)


def test_describe_an_enum_lists_the_first_six_values() -> None:
    payload = {"connectorId": 1, "errorCode": "NoError", "status": "Sleeping"}
    assert violation_text(OcppVersion.V16, "StatusNotification", payload) == (
        "status: value not allowed (one of Available, Preparing, Charging, SuspendedEVSE, SuspendedEV, Finishing, ...)"
    )


def test_describe_a_long_string_and_a_wrong_type() -> None:
    boot = {"chargePointVendor": "ElektraElektraElektra", "chargePointModel": "Wallbox-22"}
    assert violation_text(OcppVersion.V16, "BootNotification", boot) == (
        "chargePointVendor must be shorter than or equal to 20 characters"
    )
    status = {"connectorId": "one", "errorCode": "NoError", "status": "Available"}
    assert violation_text(OcppVersion.V16, "StatusNotification", status) == "connectorId must be integer"


def test_describe_an_extra_property_at_the_root() -> None:
    text = violation_text(OcppVersion.V16, "Heartbeat", {"uptime": 12})
    assert text == "payload must not contain {'uptime'} properties"


def test_describe_names_only_the_missing_fields() -> None:
    text = violation_text(OcppVersion.V16, "StatusNotification", {"connectorId": 1, "status": "Available"})
    assert text.startswith("payload: missing required")
    assert "errorCode" in text
    assert "connectorId" not in text and "status" not in text


def test_describe_a_field_named_data() -> None:
    text = violation_text(OcppVersion.V16, "DataTransfer", {"vendorId": "com.elektra", "data": 5})
    assert text == "data must be string"


def test_describe_an_extra_property_in_a_nested_object() -> None:
    payload = {
        "connectorId": 1,
        "meterValue": [{"timestamp": "2024-05-01T10:15:00Z", "sampledValue": [{"value": "1", "quality": "good"}]}],
    }
    text = violation_text(OcppVersion.V16, "MeterValues", payload)
    assert text == "meterValue.0.sampledValue.0 must not contain {'quality'} properties"


# ---------------------------------------------------------------------------------------------- found bugs
@pytest.mark.parametrize(
    "malformed_answer",
    ['[3, "1", "Accepted"]', '[4, "1", "InternalError", "reset failed", null]'],
    ids=["result-payload-not-an-object", "error-details-null"],
)
def test_a_malformed_answer_fails_our_call_and_is_never_answered(link: Link, malformed_answer: str) -> None:
    """OCPP-J answers CALLs only. A CallError sent back for a broken CALLRESULT carries the id of *our* call,
    which the charger reads as the answer to *its own* call with that id (both ends count from "1")."""
    link.charger.call("BootNotification", msg(link, "BootNotification", "request"), link.now)
    link.transmit(CHARGER)  # the CSMS has the boot to answer; the charger's "1" is in flight
    link.csms.call("Reset", msg(link, "Reset", "request"), link.now, context="r")
    link.csms.call("TriggerMessage", msg(link, "TriggerMessage", "request"), link.now)
    link.transmit(CSMS)  # the charger has the reset; the CSMS's "1" is in flight

    [event] = link.inject(CSMS, malformed_answer)  # the charger's firmware botches its answer to the reset
    assert isinstance(event, ErrorReceived)
    format_code = {OcppVersion.V16: "FormationViolation", OcppVersion.V201: "FormatViolation"}[link.version]
    assert (event.unique_id, event.action, event.code, event.context, event.from_peer) == (
        "1", "Reset", format_code, "r", False,
    )  # fmt: skip
    assert event.description.startswith("invalid answer: ")
    assert link.queued(CSMS) == [[2, "2", "TriggerMessage", msg(link, "TriggerMessage", "request")]]
    # Only the trigger crosses (it waits there behind the unanswered reset): no CallError fails the charger's boot.
    assert link.transmit(CSMS) == []
    assert link.charger.next_deadline() == 1030.0


def test_a_malformed_answer_to_no_call_is_dropped_silently(link: Link) -> None:
    [event] = link.inject(CSMS, '[3, "7", []]')
    assert event == MessageRejected(reason="malformed answer dropped: CALLRESULT is [3, id, payload]", answer=None)
    assert link.queued(CSMS) == []


def test_an_outbound_frame_carries_the_payload_as_given() -> None:
    """A voltage sample the charger reports without a multiplier must go out as built, not with schema
    defaults filled in (the caller's dict must not change either)."""
    link = Link(OcppVersion.V201)
    payload = {
        "evseId": 1,
        "meterValue": [
            {
                "timestamp": "2024-05-01T10:15:00Z",
                "sampledValue": [{"value": 229.8, "measurand": "Voltage", "unitOfMeasure": {"unit": "V"}}],
            }
        ],
    }
    built = json.loads(json.dumps(payload))
    link.charger.call("MeterValues", payload, link.now)
    assert link.queued(CHARGER) == [[2, "1", "MeterValues", built]]
    assert payload == built
