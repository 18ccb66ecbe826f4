"""One OCPP-J connection's RPC state machine, for either end. It never awaits and never reads the clock.

Rules (everything that changes the state lives in this file):

1. Feed every received WebSocket text message to :meth:`Session.receive` with the current time; act on the
   events it returns; then send every frame :meth:`Session.outgoing` hands out, in order.
2. At most one CALL is in flight per direction. :meth:`Session.call` queues; the next queued call is sent
   when the previous one is answered, errors or times out.
3. Inbound CALLs are released one at a time, in arrival order: the next ``CallReceived`` comes out of the
   :meth:`Session.reply` / :meth:`Session.reply_error` that answers the current one. This keeps a charger's
   offline-queued messages in order even when it does not wait for our answers.
4. Every payload in both directions is validated against the version's official schema. An inbound CALL
   that fails is answered with the version's CallError code and never reaches the caller; an outbound
   payload that fails raises :class:`LocalProtocolError` and is not sent. An inbound CALL that conforms
   but carries a number or time out of range (``ocpp.bounds``) is answered PropertyConstraintViolation.
5. Deadlines, not sleeps: call :meth:`Session.expire` at :meth:`Session.next_deadline`.
"""

from __future__ import annotations

import enum
import itertools
from dataclasses import dataclass
from typing import Any

from chargewise.domain.model import OcppVersion
from chargewise.ocpp import frames
from chargewise.ocpp.errors import (
    ErrorKind,
    LocalProtocolError,
    RemoteProtocolError,
    error_code,
    kind_for_schema_rule,
)
from chargewise.ocpp.frames import Call, CallError, CallResult, Payload
from chargewise.ocpp.leniency import conform
from chargewise.ocpp.schemas import Violation, schema_set

MAX_QUEUED_INBOUND = 256


class Role(enum.Enum):
    CSMS = "csms"
    CHARGER = "charger"


@dataclass(frozen=True, kw_only=True, slots=True)
class CallReceived:
    """The peer asks us to do ``action``: answer with :meth:`Session.reply` or :meth:`Session.reply_error`."""

    unique_id: str
    action: str
    payload: Payload
    quirks: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class ResultReceived:
    """The peer answered our call ``action``; ``context`` is what was passed to :meth:`Session.call`."""

    unique_id: str
    action: str
    payload: Payload
    context: Any
    quirks: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class ErrorReceived:
    """Our call failed: a CallError from the peer (``from_peer``) or an answer that broke the schema."""

    unique_id: str
    action: str
    code: str
    description: str
    details: Payload | None
    context: Any
    from_peer: bool = True


@dataclass(frozen=True, kw_only=True, slots=True)
class CallTimedOut:
    """No answer to our call before its deadline; the next queued call has been sent."""

    unique_id: str
    action: str
    context: Any


@dataclass(frozen=True, kw_only=True, slots=True)
class MessageRejected:
    """An inbound message was refused (``answer`` was queued to send) or dropped (``answer`` None)."""

    reason: str
    answer: CallError | None


Event = CallReceived | ResultReceived | ErrorReceived | CallTimedOut | MessageRejected


@dataclass(kw_only=True, slots=True)
class _Pending:
    unique_id: str
    action: str
    payload: Payload
    context: Any
    deadline: float = 0.0


class Session:
    """RPC state of one connection. Build with the peer's version, our role and what we handle."""

    def __init__(
        self,
        *,
        version: OcppVersion,
        role: Role,
        supported: frozenset[str] | None = None,
        quirks: frozenset[str] = frozenset(),
        call_timeout: float = 30.0,
    ) -> None:
        self.version = version
        self.role = role
        self.quirks = quirks
        self.call_timeout = call_timeout
        self._schemas = schema_set(version)
        catalog = self._schemas.catalog
        self._inbound_actions = catalog.CHARGER_ACTIONS if role is Role.CSMS else catalog.CSMS_ACTIONS
        self._outbound_actions = catalog.CSMS_ACTIONS if role is Role.CSMS else catalog.CHARGER_ACTIONS
        self._supported = self._inbound_actions if supported is None else supported
        self._ids = itertools.count(1)
        self._out: list[bytes] = []
        self._queued: list[_Pending] = []  # lists, not deques: short, and 300 bytes less per idle connection
        self._in_flight: _Pending | None = None
        self._inbound: list[Call] = []
        self._current: Call | None = None

    # ------------------------------------------------------------------ receiving
    def receive(self, data: bytes | str, now: float) -> list[Event]:
        """Process one received text message; return what happened, in order."""
        try:
            frame = frames.parse(data)
        except RemoteProtocolError as exc:
            if exc.message_type in (frames.CALL_RESULT, frames.CALL_ERROR):
                return self._receive_broken_answer(exc, now)  # an answer is never answered
            return [self._reject(exc.unique_id or frames.UNREADABLE_ID, exc.kind, exc.description)]
        if isinstance(frame, Call):
            return self._receive_call(frame)
        return self._receive_answer(frame, now)

    def _receive_call(self, call: Call) -> list[Event]:
        if len(self._inbound) >= MAX_QUEUED_INBOUND:
            reason = f"more than {MAX_QUEUED_INBOUND} calls unanswered; wait for each CallResult"
            return [self._reject(call.unique_id, ErrorKind.GENERIC, reason)]
        self._inbound.append(call)
        return self._release_inbound() if self._current is None else []

    def _release_inbound(self) -> list[Event]:
        events: list[Event] = []
        while self._current is None and self._inbound:
            call = self._inbound.pop(0)
            event = self._admit(call)
            events.append(event)
            if isinstance(event, CallReceived):
                self._current = call
        return events

    def _admit(self, call: Call) -> Event:
        if not self._schemas.knows(call.action):
            return self._reject(call.unique_id, ErrorKind.NOT_IMPLEMENTED, f"unknown action {call.action!r}")
        if call.action not in self._supported:
            return self._reject(call.unique_id, ErrorKind.NOT_SUPPORTED, f"{call.action} is not supported here")
        violation = self._schemas.check_request(call.action, call.payload)
        applied: list[str] = []
        if violation is not None and self.quirks:  # a second look, coercing what this charger may deviate in
            violation, applied = conform(
                call.payload, lambda p: self._schemas.check_request(call.action, p), self.quirks
            )
        if violation is not None:
            return self._reject(call.unique_id, _kind(violation), describe(violation))
        out_of_range = self._schemas.check_bounds(call.action, call.payload)
        if out_of_range is not None:
            return self._reject(call.unique_id, ErrorKind.PROPERTY_CONSTRAINT, out_of_range)
        return CallReceived(unique_id=call.unique_id, action=call.action, payload=call.payload, quirks=tuple(applied))

    def _receive_answer(self, frame: CallResult | CallError, now: float) -> list[Event]:
        pending = self._in_flight
        if pending is None or pending.unique_id != frame.unique_id:
            return [MessageRejected(reason=f"answer to unknown call {frame.unique_id!r} dropped", answer=None)]
        self._in_flight = None
        self._send_next(now)
        if isinstance(frame, CallError):
            return [self._error(pending, frame.code, frame.description, frame.details, from_peer=True)]
        check = lambda p: self._schemas.check_response(pending.action, p)  # noqa: E731
        violation, applied = conform(frame.payload, check, self.quirks)
        if violation is not None:
            code = error_code(_kind(violation), self.version)
            return [self._error(pending, code, f"invalid answer: {describe(violation)}", None, from_peer=False)]
        return [
            ResultReceived(
                unique_id=pending.unique_id,
                action=pending.action,
                payload=frame.payload,
                context=pending.context,
                quirks=tuple(applied),
            )
        ]

    def _receive_broken_answer(self, exc: RemoteProtocolError, now: float) -> list[Event]:
        pending = self._in_flight
        if pending is None or pending.unique_id != exc.unique_id:
            return [MessageRejected(reason=f"malformed answer dropped: {exc.description}", answer=None)]
        self._in_flight = None
        self._send_next(now)
        code = error_code(exc.kind, self.version)
        return [self._error(pending, code, f"invalid answer: {exc.description}", None, from_peer=False)]

    # ------------------------------------------------------------------ answering
    def reply(self, unique_id: str, payload: Payload) -> list[Event]:
        """Answer the current inbound call. Raises :class:`LocalProtocolError` (nothing sent) if the payload
        breaks the response schema: then answer with :meth:`reply_error` ``ErrorKind.INTERNAL`` instead."""
        action = self._current_action(unique_id)
        violation = self._schemas.check_response(action, payload)
        if violation is not None:
            raise LocalProtocolError(f"our {action} answer is invalid: {describe(violation)}")
        self._out.append(frames.encode(CallResult(unique_id=unique_id, payload=payload)))
        return self._finish_current()

    def reply_error(self, unique_id: str, kind: ErrorKind, description: str) -> list[Event]:
        """Answer the current inbound call with a CallError of ``kind``."""
        self._current_action(unique_id)
        self._out.append(frames.encode(self._call_error(unique_id, kind, description)))
        return self._finish_current()

    def _current_action(self, unique_id: str) -> str:
        if self._current is None or self._current.unique_id != unique_id:
            raise LocalProtocolError(f"call {unique_id!r} is not the one awaiting an answer")
        return self._current.action

    def _finish_current(self) -> list[Event]:
        self._current = None
        return self._release_inbound()

    # ------------------------------------------------------------------ calling
    def call(self, action: str, payload: Payload, now: float, context: Any = None) -> str:
        """Queue a call to the peer and return its unique id; its answer comes back as an event carrying
        ``context``. Raises :class:`LocalProtocolError` if ``action`` is not ours to send or the payload is
        invalid."""
        if action not in self._outbound_actions:
            raise LocalProtocolError(f"{action!r} is not an OCPP {self.version} action this side may send")
        violation = self._schemas.check_request(action, payload)
        if violation is not None:
            raise LocalProtocolError(f"invalid {action} payload: {describe(violation)}")
        unique_id = str(next(self._ids))
        self._queued.append(_Pending(unique_id=unique_id, action=action, payload=payload, context=context))
        if self._in_flight is None:
            self._send_next(now)
        return unique_id

    def _send_next(self, now: float) -> None:
        if self._in_flight is not None or not self._queued:
            return
        pending = self._queued.pop(0)
        pending.deadline = now + self.call_timeout
        self._in_flight = pending
        self._out.append(
            frames.encode(Call(unique_id=pending.unique_id, action=pending.action, payload=pending.payload))
        )

    def next_deadline(self) -> float | None:
        """When :meth:`expire` must next be called, or None if nothing is waiting."""
        return self._in_flight.deadline if self._in_flight is not None else None

    def expire(self, now: float) -> list[Event]:
        """Time out the call in flight if its deadline has passed, and send the next one."""
        pending = self._in_flight
        if pending is None or pending.deadline > now:
            return []
        self._in_flight = None
        self._send_next(now)
        return [CallTimedOut(unique_id=pending.unique_id, action=pending.action, context=pending.context)]

    def abandon(self) -> list[CallTimedOut]:
        """The connection is gone: give up every call in flight or queued (as timeouts) and forget inbound ones."""
        lost = ([self._in_flight] if self._in_flight is not None else []) + list(self._queued)
        self._in_flight = None
        self._queued.clear()
        self._inbound.clear()
        self._current = None
        return [CallTimedOut(unique_id=p.unique_id, action=p.action, context=p.context) for p in lost]

    def outgoing(self) -> list[bytes]:
        """Frames to send now, in order; the list is handed over and the session forgets it."""
        out, self._out = self._out, []
        return out

    # ------------------------------------------------------------------ helpers
    def _reject(self, unique_id: str, kind: ErrorKind, description: str) -> MessageRejected:
        answer = self._call_error(unique_id, kind, description)
        self._out.append(frames.encode(answer))
        return MessageRejected(reason=description, answer=answer)

    def _call_error(self, unique_id: str, kind: ErrorKind, description: str) -> CallError:
        return CallError(unique_id=unique_id, code=error_code(kind, self.version), description=description[:255])

    def _error(
        self, p: _Pending, code: str, description: str, details: Payload | None, *, from_peer: bool
    ) -> ErrorReceived:
        return ErrorReceived(
            unique_id=p.unique_id,
            action=p.action,
            code=code,
            description=description,
            details=details,
            context=p.context,
            from_peer=from_peer,
        )


def _kind(violation: Violation) -> ErrorKind:
    return kind_for_schema_rule(violation.rule)


def describe(violation: Violation) -> str:
    """A short, readable account of a schema violation, naming the field."""
    where = ".".join(violation.path) or "payload"
    if violation.rule == "enum":
        allowed = list(violation.definition)
        shown = ", ".join(map(str, allowed[:6])) + (", ..." if len(allowed) > 6 else "")
        return f"{where}: value not allowed (one of {shown})"
    if violation.rule == "required":
        present = violation.value if isinstance(violation.value, dict) else {}
        missing = [str(name) for name in violation.definition if name not in present]
        return f"{where}: missing required {', '.join(missing)}"
    # fastjsonschema starts its message with the value's own name ("data.meterValue[0]"): put ours instead
    name = "data" + "".join(f"[{part}]" if part.isdigit() else f".{part}" for part in violation.path)
    return f"{where} {violation.message.removeprefix(name).lstrip()}"
