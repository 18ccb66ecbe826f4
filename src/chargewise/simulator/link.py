"""The charger's end of the OCPP connection: what may be sent in which phase, the outbox pump, heartbeats,
the answers to the CSMS's calls, and where the CSMS's answers go. Pure, like the firmware that owns it.

Rules:

1. Nothing but BootNotification (and answers to the CSMS) is sent before Accepted (1.6 4.2, 2.0.1 B02);
   anything else asked for meanwhile is lost, as on real chargers.
2. Transaction messages leave the :class:`Outbox` one at a time, in order, while Accepted; an answer
   delivers the head, a timeout leaves it for a resend after the retry interval, a CallError counts as an
   attempt (``outbox.py``). A lost connection leaves every message in the outbox.
3. Every message sent restarts the heartbeat interval; a Heartbeat goes out when it runs out while Accepted.
4. The template's ``answer_delay_s`` quirk holds an answer back (one at a time) before it is sent.
"""

from __future__ import annotations

from typing import Protocol

from chargewise.ocpp.frames import Payload
from chargewise.ocpp.session import (
    CallReceived,
    CallTimedOut,
    ErrorReceived,
    Event,
    MessageRejected,
    ResultReceived,
    Session,
)
from chargewise.simulator.calls import OTHER, AuthorizeCall, BootCall, CallContext, HeartbeatCall, OutboxCall
from chargewise.simulator.lifecycle import Phase
from chargewise.simulator.outbox import Outbox
from chargewise.simulator.ports import Dialect, Reply
from chargewise.simulator.settings import Settings
from chargewise.simulator.templates import Template


class Answers(Protocol):
    """Where the answers that concern the rest of the charger go (the firmware implements it)."""

    def boot_answered(self, payload: Payload, now: float) -> None: ...

    def boot_failed(self, now: float) -> None: ...

    def authorize_answered(self, connector_id: int, id_tag: str, accepted: bool, now: float) -> None: ...

    def note(self, now: float, text: str) -> None: ...


class Link:
    """One charger's OCPP connection (rules in the module docstring). The firmware sets :attr:`phase`."""

    __slots__ = ("_delayed", "answers", "dialect", "heartbeat_at", "outbox", "phase", "session", "settings", "template")

    def __init__(
        self,
        *,
        session: Session,
        dialect: Dialect,
        outbox: Outbox,
        settings: Settings,
        template: Template,
        answers: Answers,
    ) -> None:
        self.session = session
        self.dialect = dialect
        self.outbox = outbox
        self.settings = settings
        self.template = template
        self.answers = answers
        self.phase = Phase.OFF
        self.heartbeat_at: float | None = None
        self._delayed: tuple[float, str, Reply] | None = None

    @property
    def accepted(self) -> bool:
        return self.phase is Phase.ACCEPTED

    # ================================================================ sending
    def call(self, action: str, payload: Payload, now: float, ctx: CallContext = OTHER) -> None:
        """Send ``action`` if the phase allows it (rule 1); else it is lost."""
        if self.phase is not Phase.ACCEPTED and action != "BootNotification":
            return
        self.session.call(action, payload, now, ctx)
        self._restart_heartbeat(now)

    def send_boot(self, action: str, payload: Payload, now: float) -> None:
        self.session.call(action, payload, now, BootCall())

    def pump(self, now: float) -> None:
        """Send the outbox head if nothing of it is in flight (rule 2)."""
        while self.phase is Phase.ACCEPTED:
            head = self.outbox.head()
            if head is None or head.in_flight is not None or head.not_before > now:
                return
            payload = self.dialect.resolve(head)
            if payload is None:
                self.answers.note(now, f"{head.action} discarded: its transaction was never started at the CSMS")
                self.outbox.delivered(head)
                self.outbox.discarded += 1
                continue
            head.in_flight = self.session.call(head.action, payload, now, OutboxCall(item=head))
            self._restart_heartbeat(now)
            return

    def start_heartbeats(self, now: float) -> None:
        """Accepted: the first Heartbeat is due one interval from now."""
        self._restart_heartbeat(now)

    def _restart_heartbeat(self, now: float) -> None:
        self.heartbeat_at = now + max(1, self.settings.int("heartbeat_interval"))

    # ================================================================ timers
    def expire(self, now: float) -> None:
        """Time out the calls that waited too long."""
        self._handle(self.session.expire(now), now)

    def send_delayed(self, now: float) -> None:
        """Send the answer held back by the ``answer_delay_s`` quirk once it is due (rule 4)."""
        if self._delayed is not None and self._delayed[0] <= now:
            _, unique_id, reply = self._delayed
            self._delayed = None
            self._send_reply(unique_id, reply, now)

    def heartbeat(self, now: float) -> None:
        """Send a Heartbeat if nothing was sent for an interval (rule 3)."""
        if self.phase is Phase.ACCEPTED and self.heartbeat_at is not None and self.heartbeat_at <= now:
            self.call("Heartbeat", {}, now, HeartbeatCall())

    def deadlines(self) -> list[float | None]:
        """When the link's timers next need :meth:`expire`, :meth:`send_delayed`, :meth:`heartbeat` or :meth:`pump`."""
        times = [
            self.session.next_deadline(),
            self._delayed[0] if self._delayed else None,
            self.heartbeat_at if self.phase is Phase.ACCEPTED else None,
        ]
        head = self.outbox.head()
        if self.phase is Phase.ACCEPTED and head is not None and head.in_flight is None:
            times.append(head.not_before)
        return times

    # ================================================================ the connection's end
    def drop(self) -> None:
        """The connection is gone (or the charger reboots): calls in flight are lost, their messages stay queued."""
        for event in self.session.abandon():
            self._lost(event)
        self.outbox.reset_in_flight()
        self._delayed = None
        self.heartbeat_at = None

    # ================================================================ session events
    def receive(self, data: bytes | str, now: float) -> None:
        """One WebSocket text message from the CSMS."""
        self._handle(self.session.receive(data, now), now)

    def _handle(self, events: list[Event], now: float) -> None:
        for event in events:
            if isinstance(event, CallReceived):
                self._answer(event, now)
            elif isinstance(event, ResultReceived):
                self._result(event.context, event.payload, now)
            elif isinstance(event, ErrorReceived):
                self._failed(event.context, f"{event.code}: {event.description}", now)
            elif isinstance(event, CallTimedOut):
                self._failed(event.context, "timed out", now)
            elif isinstance(event, MessageRejected):
                self.answers.note(now, f"message rejected: {event.reason}")

    def _answer(self, call: CallReceived, now: float) -> None:
        reply = self.dialect.answer(call.action, call.payload, now)
        delay = self.template.quirks.answer_delay_s
        if delay > 0:
            self._delayed = (now + delay, call.unique_id, reply)
        else:
            self._send_reply(call.unique_id, reply, now)

    def _send_reply(self, unique_id: str, reply: Reply, now: float) -> None:
        events = self.session.reply(unique_id, reply.payload)
        if reply.after is not None:
            reply.after(now)
        self._handle(events, now)

    def _result(self, ctx: CallContext, payload: Payload, now: float) -> None:
        if isinstance(ctx, BootCall):
            self.answers.boot_answered(payload, now)
        elif isinstance(ctx, AuthorizeCall):
            self.answers.authorize_answered(ctx.connector_id, ctx.id_tag, self.dialect.authorized(payload), now)
        elif isinstance(ctx, OutboxCall):
            self.dialect.tx_answered(ctx.item, payload, now)
            self.outbox.delivered(ctx.item)
            self.pump(now)

    def _failed(self, ctx: CallContext, why: str, now: float) -> None:
        self.answers.note(now, f"{ctx.name} call failed: {why}")
        if isinstance(ctx, BootCall):
            self.answers.boot_failed(now)
        elif isinstance(ctx, AuthorizeCall):
            self.answers.authorize_answered(ctx.connector_id, ctx.id_tag, False, now)
        elif isinstance(ctx, OutboxCall):
            item = ctx.item
            interval = float(self.settings.int("tx_retry_interval"))
            if why == "timed out":
                self.outbox.unsent(item)
                item.not_before = now + interval
            elif self.outbox.failed(item, now=now, attempts=self.settings.int("tx_attempts"), retry_interval=interval):
                self.answers.note(now, f"{item.action} discarded after {item.errors} errors")
            self.pump(now)

    def _lost(self, event: CallTimedOut) -> None:
        if isinstance(event.context, OutboxCall):
            self.outbox.unsent(event.context.item)
