"""The OCPP WebSocket port, on picows: a thin pump between sockets and the sans-I/O session.

Each step below is a few lines: the handshake asks ``handshake.admit``; received text goes to
``Session.receive``; calls go to the dispatcher (``handlers.dispatch``: it decides what to answer, and which
commands a charger may be sent), answers to the futures of pending commands; frames the session hands out are
sent. No protocol decision is made here.

Frames are traced at debug level on the ``chargewise.frames`` logger, one line per frame, in (``<-``) and out
(``->``), led by the charger id (``chargewise serve -vv``, or ``--trace ID``).
"""

from __future__ import annotations

import asyncio
import logging
import random
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from picows import (
    WSCloseCode,
    WSFrame,
    WSListener,
    WSMsgType,
    WSTransport,
    WSUpgradeRequest,
    WSUpgradeResponse,
    WSUpgradeResponseWithListener,
)

from chargewise.adapters.admission import Door
from chargewise.adapters.handshake import Admission, Refusal, admit, charger_id_from_path
from chargewise.doctor.signals import ClosedBy
from chargewise.handlers.dispatch import Dispatcher, Peer
from chargewise.ocpp.errors import error_code
from chargewise.ocpp.session import (
    CallReceived,
    CallTimedOut,
    ErrorReceived,
    Event,
    MessageRejected,
    ResultReceived,
    Role,
    Session,
)
from chargewise.services.central import CentralSystem, UnknownChargerPolicy
from chargewise.services.connections import (
    CallOutcome,
    CallTimeout,
    ChargerOffline,
    LinkSettings,
    NotAccepted,
    Registry,
)
from chargewise.services.directory import Directory
from chargewise.services.frame_trace import IN, OUT, FrameTrace
from chargewise.services.gatekeeper import AuthLimits
from chargewise.services.metrics import Metrics

log = logging.getLogger(__name__)
frames_log = logging.getLogger("chargewise.frames")
#: close codes a peer may send and we may echo (RFC 6455 7.4); others (0, 1005, 1006, 1015) never go on the wire
ECHOABLE_CLOSE = frozenset({1000, 1001, 1002, 1003, *range(1007, 1015), *range(3000, 5000)})


@dataclass(kw_only=True)
class ServerDeps:
    central: CentralSystem
    directory: Directory
    registry: Registry
    dispatcher: Dispatcher
    unknown_chargers: UnknownChargerPolicy
    settings: LinkSettings
    per_charger: dict[str, LinkSettings] = field(default_factory=dict)
    auth: AuthLimits = field(default_factory=AuthLimits)  # failed-password throttling (services.gatekeeper)
    trace: FrameTrace | None = None  # the last frames of each charger (services.frame_trace), redacted
    metrics: Metrics | None = None  # counters for /metrics (services.metrics)
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    def spawn(self, coro: Any) -> None:
        """Run ``coro`` in the background, keeping a reference until it ends."""
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)


class Flag:
    """A one-bit ``asyncio.Event`` that allocates nothing until somebody waits (50,000 idle links)."""

    __slots__ = ("_set", "_waiters")

    def __init__(self) -> None:
        self._set = False
        self._waiters: list[asyncio.Future[None]] | None = None

    def is_set(self) -> bool:
        return self._set

    def set(self) -> None:
        self._set = True
        for waiter in self._waiters or ():
            if not waiter.done():
                waiter.set_result(None)
        self._waiters = None

    async def wait(self) -> None:
        if self._set:
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters = [*(self._waiters or ()), waiter]
        await waiter


class ChargerLink(WSListener):
    """One charger's connection: implements ``services.connections.Link``."""

    def __init__(self, deps: ServerDeps, admission: Admission) -> None:
        self.deps = deps
        self.charger_id = admission.charger_id
        self.version = admission.version
        self.settings = deps.per_charger.get(admission.charger_id, deps.settings)
        self.session = Session(
            version=admission.version,
            role=Role.CSMS,
            supported=deps.dispatcher.actions(admission.version),
            quirks=admission.entry.quirks,
            call_timeout=self.settings.call_timeout,
        )
        self.dispatcher = deps.dispatcher
        register_as = admission.entry.registration if admission.new else None
        self.peer = Peer(charger_id=self.charger_id, version=self.version, register_as=register_as)
        self.connected_at = self.last_seen = deps.central.clock.now()
        self.quirk_counts = self.peer.quirk_counts
        self.opened = Flag()  # set once a known charger's record is marked connected
        self._admission = admission
        self._transport: WSTransport | None = None
        self._loop = asyncio.get_running_loop()
        self._fragments: list[bytes] = []
        self._fragment_size = 0
        self._serving: asyncio.Task[None] | None = None  # the one inbound call in hand (keeps its task alive)
        self._deadline: asyncio.TimerHandle | None = None
        self._ping: asyncio.TimerHandle | None = None
        self._pong_due: asyncio.TimerHandle | None = None
        self._closed = False
        # for the connectivity doctor (``services.link_signals``): ping round trips and how the link ended
        self.signals = deps.central.link_signals
        self._ping_sent: float | None = None  # loop time of the oldest unanswered ping
        self._ping_sent_at = self.connected_at  # and its clock time (a ping sample is dated when it was sent)
        self._ended: tuple[int, ClosedBy, str] | None = None  # close code, who closed, why; None: TCP just ended
        self._last_frame = self.connected_at
        self._longest_quiet = 0.0  # s: the longest stretch without a frame or pong the link lived through

    # ------------------------------------------------------------------ connection lifecycle
    def on_ws_connected(self, transport: WSTransport) -> None:
        self._transport = transport  # certificates and passwords were judged before the upgrade (adapters.admission)
        old = self.deps.registry.register(self)  # the newest authenticated connection wins
        if isinstance(old, ChargerLink):
            old.close("replaced by a newer connection", by=ClosedBy.REPLACED)
        elif old is not None:
            old.close("replaced by a newer connection")
        under = transport.underlying_transport  # where from, and over which TLS version
        peer, tls = under.get_extra_info("peername"), under.get_extra_info("ssl_object")
        self.signals.connected(
            self.charger_id, self.connected_at, remote=str(peer[0]) if peer else None,
            tls_version=tls.version() if tls is not None else None,
            ping_interval_s=self.settings.ping_interval, ping_timeout_s=self.settings.ping_timeout,
        )  # fmt: skip
        self.deps.spawn(self._open())
        self._schedule_ping(first=True)

    async def _open(self) -> None:
        if not self._admission.new:  # a new id gets its record with its first BootNotification, or never
            await self.deps.central.connected(self.charger_id)
        self.opened.set()

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        self._closed = True
        for handle in (self._deadline, self._ping, self._pong_due):
            if handle is not None:
                handle.cancel()
        for lost in self.session.abandon():  # the answers will never come: the caller hears "went offline"
            _settle(lost, ChargerOffline(f"charger {self.charger_id!r} went offline before answering {lost.action}"))
        code, by, why = self._ended or (1006, ClosedBy.TRANSPORT, "TCP ended without a close frame")
        self.signals.disconnected(self.charger_id, self.deps.central.clock.now(), close_code=code, closed_by=by,
                                  detail=why, last_frame_at=self._last_frame,
                                  longest_quiet_s=self._longest_quiet)  # fmt: skip
        unrecorded = self._admission.new and self.peer.register_as is not None  # a new id that never booted
        if self.deps.registry.unregister(self) and not unrecorded:
            self.deps.spawn(self.deps.central.disconnected(self.charger_id))

    def close(self, reason: str, *, by: ClosedBy = ClosedBy.SERVER, going_away: bool = False) -> None:
        """Close politely (1000; 1001 ``going_away``: this server stops, reconnect elsewhere) and drop the link."""
        code = WSCloseCode.GOING_AWAY if going_away else WSCloseCode.OK
        self._ended = self._ended or (1001 if going_away else 1000, by, reason)
        if self._transport is not None and not self._closed:
            self._transport.send_close(code, reason.encode()[:120])
            self._transport.disconnect()

    # ------------------------------------------------------------------ keep-alive
    def _schedule_ping(self, *, first: bool = False) -> None:
        """The next ping in ``ping_interval``; the first one at a random point of the first interval. Chargers
        that connect together (thousands, after a restart of the server or of the network) had all been
        pinged in the same few seconds, every interval: a ping and its pong cost the server about 30 us (6,000
        idle chargers pinged every 2 s: 0.09 core), so 50,000 chargers that connected within 16 s took about
        a tenth of a core for 16 s of every minute. Spread, the same pings are an even trickle. A dead link
        is still found within interval + timeout."""
        if self.settings.ping_interval > 0 and not self._closed:
            delay = self.settings.ping_interval * (random.random() if first else 1.0)
            self._ping = self._loop.call_later(delay, self._send_ping)

    def _send_ping(self) -> None:
        if self._transport is None or self._closed:
            return
        self._transport.send_ping()
        if self._ping_sent is None:
            self._ping_sent, self._ping_sent_at = self._loop.time(), self.deps.central.clock.now()
        if self._pong_due is None:
            self._pong_due = self._loop.call_later(self.settings.ping_timeout, self._dead)
        self._schedule_ping()

    def _dead(self) -> None:
        log.warning("%s: no pong within %.0f s, closing the link", self.charger_id, self.settings.ping_timeout)
        self._ended = self._ended or (1006, ClosedBy.PING_TIMEOUT, f"no pong within {self.settings.ping_timeout:g} s")
        self.signals.ping(self.charger_id, self._ping_sent_at, None)
        if self._transport is not None:
            self._transport.disconnect(graceful=False)

    # ------------------------------------------------------------------ receiving
    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        kind = frame.msg_type
        if kind is WSMsgType.TEXT or kind is WSMsgType.CONTINUATION:
            self._text_frame(frame)
        elif kind is WSMsgType.PONG:
            if self._pong_due is not None:
                self._pong_due.cancel()
                self._pong_due = None
            if self._ping_sent is not None:  # one sample per answered ping: an O(1) append, no I/O
                rtt, self._ping_sent = self._loop.time() - self._ping_sent, None
                self._heard(self.deps.central.clock.now())
                self.signals.ping(self.charger_id, self._ping_sent_at, rtt)
        elif kind is WSMsgType.CLOSE:  # echo the peer's code; none (or one never sent on the wire): 1000
            code = frame.get_close_code()
            reason = frame.get_close_message() or b""
            self._ended = self._ended or (code.value, ClosedBy.CHARGER, reason.decode(errors="replace")[:120])
            transport.send_close(code if code.value in ECHOABLE_CLOSE else WSCloseCode.OK)
            transport.disconnect()
        elif kind is WSMsgType.BINARY:
            self._ended = self._ended or (1003, ClosedBy.SERVER, "binary frame")
            transport.send_close(WSCloseCode.UNSUPPORTED_DATA, b"OCPP-J uses text frames")
            transport.disconnect()

    def _text_frame(self, frame: WSFrame) -> None:
        if frame.fin and not self._fragments:
            self._receive(frame.get_payload_as_bytes())
            return
        self._fragments.append(frame.get_payload_as_bytes())
        self._fragment_size += frame.payload_size
        if self._fragment_size > self.settings.max_message_size:
            self._fragments.clear()
            assert self._transport is not None
            self._ended = self._ended or (1009, ClosedBy.SERVER, "message too big")
            self._transport.send_close(WSCloseCode.MESSAGE_TOO_BIG, b"message too big")
            self._transport.disconnect()
        elif frame.fin:
            data = b"".join(self._fragments)
            self._fragments.clear()
            self._fragment_size = 0
            self._receive(data)

    def _receive(self, data: bytes) -> None:
        self.last_seen = self.deps.central.clock.now()
        self._heard(self.last_seen)
        if frames_log.isEnabledFor(logging.DEBUG):
            frames_log.debug("%s <- %s", self.charger_id, data.decode(errors="replace"))
        if self.deps.trace is not None:
            self.deps.trace.record(self.charger_id, IN, data)
        self._dispatch(self.session.receive(data, self._loop.time()))
        self._flush()

    def _heard(self, now: datetime) -> None:
        self._longest_quiet = max(self._longest_quiet, (now - self._last_frame).total_seconds())
        self._last_frame = now

    def _dispatch(self, events: Sequence[Event]) -> None:
        for event in events:
            if isinstance(event, CallReceived):
                # tracked with the server's tasks: stop() waits for handlers in hand before the store closes
                task = self._serving = self._loop.create_task(self._serve(event))
                self.deps.tasks.add(task)
                task.add_done_callback(self.deps.tasks.discard)
            elif isinstance(event, ResultReceived | ErrorReceived | CallTimedOut):
                _settle(event)
            elif isinstance(event, MessageRejected):
                self.dispatcher.note(self.peer, f"rejected a message: {event.reason}", self.last_seen)

    async def _serve(self, call: CallReceived) -> None:
        if not self.opened.is_set():  # the connection is recorded before the charger's first message
            await self.opened.wait()
        started = self._loop.time()
        answer = await self.dispatcher.dispatch(self.peer, call, self.last_seen)
        if self.deps.metrics is not None:  # the OCPP code of a CallError we answer, else "ok"
            result = "ok" if answer.payload is not None else error_code(answer.error, self.version)
            self.deps.metrics.served(call.action, result, self._loop.time() - started)
        if self._closed:
            return  # the charger left while we worked: what was stored stays, the answer has nowhere to go
        events = self.dispatcher.reply(self.peer, self.session, call, answer, self.last_seen)
        if events:  # calls that queued up behind this one
            self._dispatch(events)
        self._flush()

    # ------------------------------------------------------------------ commands
    async def call(self, action: str, payload: dict[str, Any]) -> CallOutcome:
        """Send a command and return the charger's answer. Raises ChargerOffline (not connected, or the link
        was lost before the answer), NotAccepted (its registration does not allow ``action``), CallTimeout, or
        LocalProtocolError (bad payload)."""
        if self._closed:
            raise ChargerOffline(f"charger {self.charger_id!r} is not connected")
        refusal = self.dispatcher.command_refusal(self.peer, action, payload)
        if refusal is not None:
            raise NotAccepted(refusal)
        future: asyncio.Future[CallOutcome] = self._loop.create_future()
        self.session.call(action, payload, self._loop.time(), context=future)  # LocalProtocolError: bad payload
        self._flush()
        outcome = await future
        if outcome.error_code is not None and self.deps.metrics is not None:
            self.deps.metrics.call_error("received", outcome.error_code)
        return outcome

    def _flush(self) -> None:
        transport = self._transport
        if transport is not None and not self._closed:
            for data in self.session.outgoing():
                if frames_log.isEnabledFor(logging.DEBUG):
                    frames_log.debug("%s -> %s", self.charger_id, data.decode(errors="replace"))
                if self.deps.trace is not None:
                    self.deps.trace.record(self.charger_id, OUT, data)
                transport.send(WSMsgType.TEXT, data)
        self._rearm_deadline()

    def _rearm_deadline(self) -> None:
        deadline = self.session.next_deadline()
        if self._deadline is not None:
            if deadline is not None and self._deadline.when() == deadline:
                return
            self._deadline.cancel()
            self._deadline = None
        if deadline is not None and not self._closed:
            self._deadline = self._loop.call_at(deadline, self._expire)

    def _expire(self) -> None:
        self._deadline = None
        self._dispatch(self.session.expire(self._loop.time()))
        self._flush()


def _settle(event: ResultReceived | ErrorReceived | CallTimedOut, lost: Exception | None = None) -> None:
    future: asyncio.Future[CallOutcome] = event.context
    if future.done():
        return
    if lost is not None:
        future.set_exception(lost)
        return
    if isinstance(event, ResultReceived):
        future.set_result(CallOutcome(action=event.action, payload=event.payload))
    elif isinstance(event, ErrorReceived):
        future.set_result(
            CallOutcome(
                action=event.action, error_code=event.code, error_description=event.description,
                error_details=event.details,
            )
        )  # fmt: skip
    else:
        future.set_exception(CallTimeout(f"no answer to {event.action} in time"))


class OcppServer:
    """The listening OCPP port. ``await start()``, later ``await stop()``."""

    def __init__(
        self,
        deps: ServerDeps,
        *,
        host: str,
        port: int,
        ssl_context: ssl.SSLContext | None = None,
        share_port: bool = False,
    ) -> None:
        """``share_port``: several processes listen on the port (``serve --workers``, SO_REUSEPORT); without it
        a port another process listens on already fails ``start()`` with EADDRINUSE."""
        self.deps = deps
        self.host, self.port = host, port
        self.ssl_context = ssl_context
        self.share_port = share_port
        self._server: asyncio.Server | None = None
        self._door: Door | None = None

    async def start(self) -> None:
        self._door = Door(directory=self.deps.directory, limits=self.deps.auth, refused=self._refused)
        self._server = await self._door.open(
            self._factory, self.host, self.port, ssl_context=self.ssl_context,
            max_frame_size=self.deps.settings.max_message_size, handshake_timeout=10,
            read_buffer_init_size=2048,  # grows on demand; 16 KiB default x 50,000 idle chargers is 800 MiB
            reuse_port=self.share_port, logger_name="chargewise.ws",
        )  # fmt: skip
        if self.port == 0:
            self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening, close every charger link (1001 going away) and wait for handlers to finish."""
        if self._server is None:
            return
        self._server.close()
        for link in self.deps.registry.links():
            if isinstance(link, ChargerLink):
                link.close("server shutting down", going_away=True)  # 1001: the charger reconnects elsewhere
            else:
                link.close("server shutting down")
        await asyncio.sleep(0)
        pending = [t for t in self.deps.tasks if not t.done()]
        if pending:
            await asyncio.wait(pending, timeout=5)
        await self._server.wait_closed()
        self._server = None
        if self._door is not None:
            self._door.close()

    def _factory(self, request: WSUpgradeRequest, cleared: bool = False) -> WSListener | WSUpgradeResponseWithListener:
        decision = admit(
            cleared=cleared,
            path=request.path.decode("latin-1"),
            protocols=request.headers.get("Sec-WebSocket-Protocol"),
            authorization=request.headers.get("Authorization"),
            directory=self.deps.directory,
            policy=self.deps.unknown_chargers,
            newcomer_refusal=self._newcomer_refusal,
        )
        if isinstance(decision, Refusal):
            path = request.path.decode("latin-1")
            log.info("refused %s: %s", path[:120], decision.reason)
            charger_id = charger_id_from_path(path)
            if charger_id is not None:
                self._refused(charger_id, None, decision.reason)
            response = WSUpgradeResponse.create_error_response(
                decision.status, (decision.reason + "\n").encode(), extra_headers=dict(decision.headers)
            )
            return WSUpgradeResponseWithListener(response, None)
        response = WSUpgradeResponse.create_101_response(extra_headers={"Sec-WebSocket-Protocol": decision.subprotocol})
        return WSUpgradeResponseWithListener(response, ChargerLink(self.deps, decision))

    def _refused(self, charger_id: str, address: str | None, reason: str) -> None:
        """A refused handshake of a known charger (unknown ids are not kept: anyone can make them up)."""
        if self.deps.directory.get(charger_id) is None:
            return
        self.deps.central.link_signals.refused(charger_id, self.deps.central.clock.now(), remote=address, detail=reason)

    def _newcomer_refusal(self) -> str | None:
        return self.deps.dispatcher.newcomer_refusal(self.deps.central.clock.now())
