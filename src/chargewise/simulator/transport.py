"""The WebSocket seam: open a charger's connection and pump frames to a :class:`LinkEvents` receiver.

The driver only sees :class:`Link` and :class:`LinkEvents`; :func:`connect` is the one picows-specific
function (picows: ~7x less CPU per frame and less memory per connection than ``websockets``, which matters
at 10,000 chargers in one process). picows would use ``aiofastnet`` transports when that package is
installed; we ask for the event loop's own (uvloop's) transports instead: 18 KiB instead of 23 KiB RSS per
simulated charger at 10,000. Pings and pongs are not answered automatically: the driver decides
(a charger may ignore pings, and a half-open link must not answer them). ``pause_reading`` makes a flow go
silent in both directions without telling the peer, which is how a half-open link is emulated.
"""

from __future__ import annotations

import asyncio
import base64
import ssl
from typing import Protocol

from picows import WSFrame, WSListener, WSMsgType, WSTransport, ws_connect
from picows.common import WSHandshakeError


class ConnectError(Exception):
    """The connection could not be opened; ``stage`` says where (tcp, tls, handshake, subprotocol)."""

    def __init__(self, stage: str, detail: str) -> None:
        super().__init__(f"{stage}: {detail}")
        self.stage = stage
        self.detail = detail


class LinkEvents(Protocol):
    def on_text(self, data: bytes) -> None: ...

    def on_ping(self, payload: bytes) -> None: ...

    def on_pong(self) -> None: ...

    def on_close_frame(self) -> None: ...

    def on_lost(self) -> None: ...


class Link(Protocol):
    def send_text(self, data: bytes) -> None: ...

    def send_ping(self, payload: bytes) -> None: ...

    def send_pong(self, payload: bytes) -> None: ...

    def close(self) -> None: ...

    def abort(self) -> None: ...

    def pause_reading(self) -> None: ...

    def start(self, events: LinkEvents) -> None: ...


class _Listener(WSListener):
    """picows callbacks -> :class:`LinkEvents`; frames that arrive before :meth:`start` are held."""

    __slots__ = ("_events", "_held", "_parts", "transport")

    def __init__(self) -> None:
        self.transport: WSTransport | None = None
        self._events: LinkEvents | None = None
        self._held: list[tuple[WSMsgType, bytes]] = []
        self._parts: list[bytes] = []

    # Link ----------------------------------------------------------
    def start(self, events: LinkEvents) -> None:
        self._events = events
        held, self._held = self._held, []
        for kind, payload in held:
            self._dispatch(kind, payload)
        if self.transport is None or self.transport.is_disconnected:
            events.on_lost()

    def send_text(self, data: bytes) -> None:
        if self.transport is not None:
            self.transport.send(WSMsgType.TEXT, data)

    def send_ping(self, payload: bytes) -> None:
        if self.transport is not None:
            self.transport.send_ping(payload)

    def send_pong(self, payload: bytes) -> None:
        if self.transport is not None:
            self.transport.send_pong(payload)

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_disconnected:
            self.transport.send_close()
            self.transport.disconnect(graceful=True)

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.disconnect(graceful=False)

    def pause_reading(self) -> None:
        if self.transport is not None:
            self.transport.underlying_transport.pause_reading()

    # picows --------------------------------------------------------
    def on_ws_connected(self, transport: WSTransport) -> None:
        self.transport = transport

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        kind = frame.msg_type
        if kind is WSMsgType.TEXT or kind is WSMsgType.CONTINUATION:
            self._parts.append(frame.get_payload_as_bytes())
            if not frame.fin:
                return
            payload, self._parts = b"".join(self._parts), []
            self._deliver(WSMsgType.TEXT, payload)
        elif kind is WSMsgType.CLOSE:
            transport.send_close(frame.get_close_code())
            transport.disconnect()
            self._deliver(kind, b"")
        elif kind in (WSMsgType.PING, WSMsgType.PONG):
            self._deliver(kind, frame.get_payload_as_bytes())

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        if self._events is not None:
            self._events.on_lost()

    def _deliver(self, kind: WSMsgType, payload: bytes) -> None:
        if self._events is None:
            self._held.append((kind, payload))
        else:
            self._dispatch(kind, payload)

    def _dispatch(self, kind: WSMsgType, payload: bytes) -> None:
        events = self._events
        assert events is not None
        if kind is WSMsgType.TEXT:
            events.on_text(payload)
        elif kind is WSMsgType.PING:
            events.on_ping(payload)
        elif kind is WSMsgType.PONG:
            events.on_pong()
        elif kind is WSMsgType.CLOSE:
            events.on_close_frame()


def basic_auth(username: str, password: str) -> str:
    """The ``Authorization`` header value for OCPP security profiles 1 and 2."""
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


async def connect(
    url: str,
    *,
    subprotocol: str,
    authorization: str | None = None,
    ssl_context: ssl.SSLContext | None = None,
    handshake_timeout: float = 10.0,
    local_addr: tuple[str, int] | None = None,
) -> Link:
    """Open ``url`` offering ``subprotocol``; raise :class:`ConnectError` when that fails or the server picks
    another subprotocol. Call :meth:`Link.start` with the receiver once the caller is ready for frames."""
    headers = {"Sec-WebSocket-Protocol": subprotocol}
    if authorization:
        headers["Authorization"] = authorization
    try:
        async with asyncio.timeout(handshake_timeout):
            transport, listener = await ws_connect(
                _Listener,
                url,
                ssl_context=ssl_context,
                enable_auto_pong=False,
                extra_headers=headers,
                websocket_handshake_timeout=handshake_timeout,
                read_buffer_init_size=2048,
                max_redirects=0,
                use_aiofastnet=False,
                local_addr=local_addr,
            )
    except WSHandshakeError as exc:
        status = exc.response.status if exc.response is not None else "?"
        raise ConnectError("handshake", f"HTTP {status}") from None
    except ssl.SSLError as exc:
        raise ConnectError("tls", exc.reason or str(exc)) from None
    except (TimeoutError, OSError) as exc:
        raise ConnectError("tcp", str(exc) or type(exc).__name__) from None
    if transport.response is None:  # closed before the upgrade answer: with TLS 1.3, a refused client certificate
        stage = "tls" if ssl_context is not None or url.startswith("wss:") else "handshake"
        raise ConnectError(stage, "connection closed before the upgrade was answered")
    chosen = transport.response.headers.get("Sec-WebSocket-Protocol")
    if chosen != subprotocol:
        transport.disconnect(graceful=False)
        raise ConnectError("subprotocol", f"server chose {chosen!r}, not {subprotocol!r}")
    assert isinstance(listener, _Listener)
    return listener
