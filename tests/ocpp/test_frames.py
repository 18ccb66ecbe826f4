"""OCPP-J framing: parse and encode are inverses, and every malformed message names its fault and its id."""

from __future__ import annotations

import json

import pytest

from chargewise.ocpp import frames
from chargewise.ocpp.errors import ErrorKind, RemoteProtocolError
from chargewise.ocpp.frames import Call, CallError, CallResult, Frame

BOOT = {"chargePointVendor": "Elektra", "chargePointModel": "Wallbox-22"}
ID_36 = "0123456789abcdef0123456789abcdef0123"  # the longest id OCPP-J allows

ROUND_TRIPS: list[tuple[Frame, list[object]]] = [
    (Call(unique_id="19223201", action="BootNotification", payload=BOOT), [2, "19223201", "BootNotification", BOOT]),
    (Call(unique_id=ID_36, action="Heartbeat", payload={}), [2, ID_36, "Heartbeat", {}]),
    (
        CallResult(unique_id="19223201", payload={"status": "Accepted", "interval": 300}),
        [3, "19223201", {"status": "Accepted", "interval": 300}],
    ),
    (CallResult(unique_id="7", payload={"vendorName": "Zürich ⚡"}), [3, "7", {"vendorName": "Zürich ⚡"}]),
    (
        CallError(unique_id="162376037", code="NotSupported", description="no", details={"hint": "later"}),
        [4, "162376037", "NotSupported", "no", {"hint": "later"}],
    ),
    (CallError(unique_id="-1", code="RpcFrameworkError"), [4, "-1", "RpcFrameworkError", "", {}]),
]


@pytest.mark.parametrize(("frame", "wire"), ROUND_TRIPS)
def test_encode_writes_the_ocpp_j_array(frame: Frame, wire: list[object]) -> None:
    data = frames.encode(frame)
    assert isinstance(data, bytes)
    assert json.loads(data) == wire


@pytest.mark.parametrize(("frame", "wire"), ROUND_TRIPS)
def test_parse_inverts_encode(frame: Frame, wire: list[object]) -> None:
    assert frames.parse(frames.encode(frame)) == frame
    assert frames.parse(json.dumps(wire)) == frame


def test_parse_accepts_text_and_bytes_with_whitespace() -> None:
    text = '[2,  "19223201" , "BootNotification",\n {"chargePointVendor": "Elektra", "chargePointModel": "Wallbox-22"}]'
    expected = Call(unique_id="19223201", action="BootNotification", payload=BOOT)
    assert frames.parse(text) == expected
    assert frames.parse(text.encode()) == expected


def test_empty_call_error_details_read_as_none() -> None:
    parsed = frames.parse('[4, "5", "GenericError", "boom", {}]')
    assert parsed == CallError(unique_id="5", code="GenericError", description="boom", details=None)
    assert frames.encode(parsed) == b'[4,"5","GenericError","boom",{}]'


MALFORMED = [
    # (case, wire text, kind, unique_id in the error)
    ("not-json", '[2, "1", "Heartbeat", {', ErrorKind.MALFORMED, None),
    ("empty-text", "", ErrorKind.MALFORMED, None),
    ("invalid-utf8", b'[2, "1", "\xff", {}]', ErrorKind.MALFORMED, None),
    ("object-not-array", '{"messageTypeId": 2, "uniqueId": "1"}', ErrorKind.MALFORMED, None),
    ("string-not-array", '"Heartbeat"', ErrorKind.MALFORMED, None),
    ("number-not-array", "2", ErrorKind.MALFORMED, None),
    ("empty-array", "[]", ErrorKind.MALFORMED, None),
    ("too-short", '[2, "1"]', ErrorKind.MALFORMED, None),
    ("id-is-a-number", '[2, 1, "Heartbeat", {}]', ErrorKind.MALFORMED, None),
    ("id-is-null", '[2, null, "Heartbeat", {}]', ErrorKind.MALFORMED, None),
    ("id-is-empty", '[2, "", "Heartbeat", {}]', ErrorKind.MALFORMED, None),
    ("id-is-37-chars", f'[2, "{ID_36}x", "Heartbeat", {{}}]', ErrorKind.MALFORMED, None),
    ("unknown-type-id", '[5, "abc", "Heartbeat", {}]', ErrorKind.MESSAGE_TYPE, "abc"),
    ("type-id-zero", '[0, "abc", {}]', ErrorKind.MESSAGE_TYPE, "abc"),
    ("type-id-is-a-string", '["2", "abc", "Heartbeat", {}]', ErrorKind.MESSAGE_TYPE, "abc"),
    ("call-payload-is-array", '[2, "abc", "Heartbeat", []]', ErrorKind.FORMAT, "abc"),
    ("call-payload-is-null", '[2, "abc", "Heartbeat", null]', ErrorKind.FORMAT, "abc"),
    ("call-payload-is-string", '[2, "abc", "Heartbeat", "{}"]', ErrorKind.FORMAT, "abc"),
    ("call-without-payload", '[2, "abc", "Heartbeat"]', ErrorKind.FORMAT, "abc"),
    ("call-with-extra-element", '[2, "abc", "Heartbeat", {}, {}]', ErrorKind.FORMAT, "abc"),
    ("call-action-not-a-string", '[2, "abc", 17, {}]', ErrorKind.FORMAT, "abc"),
    ("result-payload-is-array", '[3, "abc", []]', ErrorKind.FORMAT, "abc"),
    ("result-with-extra-element", '[3, "abc", {}, {}]', ErrorKind.FORMAT, "abc"),
    ("error-with-4-elements", '[4, "abc", "GenericError", "boom"]', ErrorKind.FORMAT, "abc"),
    ("error-with-6-elements", '[4, "abc", "GenericError", "boom", {}, {}]', ErrorKind.FORMAT, "abc"),
    ("error-code-not-a-string", '[4, "abc", 500, "boom", {}]', ErrorKind.FORMAT, "abc"),
    ("error-details-null", '[4, "abc", "GenericError", "boom", null]', ErrorKind.FORMAT, "abc"),
]


@pytest.mark.parametrize(("data", "kind", "unique_id"), [pytest.param(d, k, u, id=case) for case, d, k, u in MALFORMED])
def test_malformed_message_raises_remote_error(data: str | bytes, kind: ErrorKind, unique_id: str | None) -> None:
    with pytest.raises(RemoteProtocolError) as caught:
        frames.parse(data)
    assert caught.value.kind is kind
    assert caught.value.unique_id == unique_id
    assert caught.value.description
    assert str(caught.value) == caught.value.description


def test_unreadable_id_constant_is_minus_one() -> None:
    assert frames.UNREADABLE_ID == "-1"
    assert frames.MAX_ID_LENGTH == 36


DEEP = "[" * 999 + "]" * 999


@pytest.mark.parametrize(
    ("data", "kind", "unique_id", "message_type"),
    [
        (DEEP, ErrorKind.MALFORMED, None, None),
        (f'[2, "d1", "DataTransfer", {{"vendorId": "x", "data": {DEEP}}}]', ErrorKind.FORMAT, "d1", 2),
        (f'[3, "d2", {{"data": {DEEP}}}]', ErrorKind.FORMAT, "d2", 3),
        (f'[4, "d3", "GenericError", "", {{"x": {DEEP}}}]'.encode(), ErrorKind.FORMAT, "d3", 4),
    ],
)
def test_too_deep_to_decode_is_a_remote_error_with_the_id_when_readable(
    data: str | bytes, kind: ErrorKind, unique_id: str | None, message_type: int | None
) -> None:
    with pytest.raises(RemoteProtocolError) as raised:  # not RecursionError: that closed the link with 1011
        frames.parse(data)
    assert (raised.value.kind, raised.value.unique_id, raised.value.message_type) == (kind, unique_id, message_type)


@pytest.mark.parametrize(
    ("data", "message_type"),
    [
        ('[2, "n1", "Authorize", {"idTag": "A\\u0000B"}]', None),
        (b'[2, "n1", "DataTransfer", {"vendorId": "x", "data": {"k\\u0000": 1}}]', None),
        ('[3, "n1", {"status": "\\u0000"}]', 3),
        ('[2, "n1", "DataTransfer", {"vendorId": "x", "data": [' + "[" * 900 + '"\\u0000"' + "]" * 900 + "]}]", 2),
    ],
)
def test_nul_in_a_string_is_refused_with_the_id(data: str | bytes, message_type: int | None) -> None:
    """PostgreSQL text cannot hold NUL: storing it had failed the write with InternalError."""
    with pytest.raises(RemoteProtocolError) as raised:
        frames.parse(data)
    assert raised.value.unique_id == "n1" and raised.value.message_type == message_type
    assert raised.value.kind in (ErrorKind.PROPERTY_CONSTRAINT, ErrorKind.FORMAT)


def test_a_literal_backslash_u0000_is_text() -> None:
    assert frames.parse('[2, "n2", "Authorize", {"idTag": "A\\\\u0000"}]') == Call(
        unique_id="n2", action="Authorize", payload={"idTag": "A\\u0000"}
    )
