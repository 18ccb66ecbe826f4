"""OCPP-J RPC frames: CALL ``[2, id, action, payload]``, CALLRESULT ``[3, id, payload]``,
CALLERROR ``[4, id, code, description, details]``.

:func:`parse` turns wire text into a frame or raises :class:`RemoteProtocolError`; :func:`encode` is the inverse.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import msgspec

from chargewise.ocpp.errors import ErrorKind, RemoteProtocolError

CALL = 2
CALL_RESULT = 3
CALL_ERROR = 4
MAX_ID_LENGTH = 36
UNREADABLE_ID = "-1"

Payload = dict[str, Any]


@dataclass(frozen=True, kw_only=True, slots=True)
class Call:
    unique_id: str
    action: str
    payload: Payload


@dataclass(frozen=True, kw_only=True, slots=True)
class CallResult:
    unique_id: str
    payload: Payload


@dataclass(frozen=True, kw_only=True, slots=True)
class CallError:
    unique_id: str
    code: str
    description: str = ""
    details: Payload | None = None


Frame = Call | CallResult | CallError

_decoder = msgspec.json.Decoder()
_encoder = msgspec.json.Encoder()
# the head of a frame too deeply nested to decode: its type and id can still be read, so that the answer (or
# the decision not to answer an answer) concerns the right message
_HEAD = re.compile(rb'\s*\[\s*([234])\s*,\s*"([^"\\]{1,36})"\s*,')


def parse(data: bytes | str) -> Frame:
    """Parse one WebSocket text message. On :class:`RemoteProtocolError`, answer with a CallError."""
    try:
        msg = _decoder.decode(data)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise RemoteProtocolError(ErrorKind.MALFORMED, f"not valid JSON: {exc}") from None
    except RecursionError:
        raise _too_deep(data) from None
    if not isinstance(msg, list) or len(msg) < 3:
        raise RemoteProtocolError(ErrorKind.MALFORMED, "an OCPP-J message is a JSON array of 3 to 5 elements")
    type_id, unique_id = msg[0], msg[1]
    if not isinstance(unique_id, str) or not unique_id or len(unique_id) > MAX_ID_LENGTH:
        raise RemoteProtocolError(ErrorKind.MALFORMED, "messageId must be a string of 1 to 36 characters")
    if _has_nul(data, msg):
        raise RemoteProtocolError(
            ErrorKind.PROPERTY_CONSTRAINT, "a string contains NUL (\\u0000), which no charger text has",
            unique_id=unique_id, message_type=type_id if type_id in (CALL_RESULT, CALL_ERROR) else None,
        )  # fmt: skip
    if type_id == CALL:
        return _parse_call(msg, unique_id)
    if type_id == CALL_RESULT:
        return _parse_result(msg, unique_id)
    if type_id == CALL_ERROR:
        return _parse_error(msg, unique_id)
    raise RemoteProtocolError(
        ErrorKind.MESSAGE_TYPE, f"MessageTypeId {type_id!r} is not supported", unique_id=unique_id
    )


def _has_nul(data: bytes | str, msg: Any) -> bool:
    """Whether a decoded string holds NUL (PostgreSQL text cannot): a substring test on the wire text first,
    so that the walk runs only for the rare frame that spells ``\\u0000``."""
    escaped = b"\\u0000" in data if isinstance(data, bytes) else "\\u0000" in data
    try:
        return escaped and _holds_nul(msg)
    except RecursionError:
        raise _too_deep(data) from None


def _holds_nul(node: Any) -> bool:
    if isinstance(node, str):
        return "\x00" in node
    if isinstance(node, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in node.items())
    if isinstance(node, list):
        return any(_holds_nul(v) for v in node)
    return False


def _too_deep(data: bytes | str) -> RemoteProtocolError:
    head = _HEAD.match(data.encode() if isinstance(data, str) else data)
    reason = "JSON nested too deeply to read"
    if head is None:
        return RemoteProtocolError(ErrorKind.MALFORMED, reason)
    type_id, unique_id = int(head[1]), head[2].decode()
    return RemoteProtocolError(ErrorKind.FORMAT, reason, unique_id=unique_id, message_type=type_id)


def _parse_call(msg: list[Any], unique_id: str) -> Call:
    if len(msg) != 4 or not isinstance(msg[2], str):
        raise RemoteProtocolError(ErrorKind.FORMAT, "CALL is [2, id, action, payload]", unique_id=unique_id)
    if not isinstance(msg[3], dict):
        raise RemoteProtocolError(ErrorKind.FORMAT, "CALL payload must be a JSON object", unique_id=unique_id)
    return Call(unique_id=unique_id, action=msg[2], payload=msg[3])


def _parse_result(msg: list[Any], unique_id: str) -> CallResult:
    if len(msg) != 3 or not isinstance(msg[2], dict):
        raise RemoteProtocolError(
            ErrorKind.FORMAT, "CALLRESULT is [3, id, payload]", unique_id=unique_id, message_type=CALL_RESULT
        )
    return CallResult(unique_id=unique_id, payload=msg[2])


def _parse_error(msg: list[Any], unique_id: str) -> CallError:
    if len(msg) != 5 or not isinstance(msg[2], str) or not isinstance(msg[3], str) or not isinstance(msg[4], dict):
        raise RemoteProtocolError(
            ErrorKind.FORMAT,
            "CALLERROR is [4, id, code, description, details]",
            unique_id=unique_id,
            message_type=CALL_ERROR,
        )
    return CallError(unique_id=unique_id, code=msg[2], description=msg[3], details=msg[4] or None)


def encode(frame: Frame) -> bytes:
    """Serialise a frame for a WebSocket text message."""
    if isinstance(frame, Call):
        return _encoder.encode([CALL, frame.unique_id, frame.action, frame.payload])
    if isinstance(frame, CallResult):
        return _encoder.encode([CALL_RESULT, frame.unique_id, frame.payload])
    return _encoder.encode([CALL_ERROR, frame.unique_id, frame.code, frame.description, frame.details or {}])
