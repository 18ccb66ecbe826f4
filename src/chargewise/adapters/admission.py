"""The OCPP port's door: holds each new connection until its upgrade request has been judged off the loop.

picows asks its listener factory synchronously, inside the read of the HTTP request, so a check that takes
time (scrypt: ~40 ms of CPU per password) would stall every charger on the event loop. A :class:`Gate` is the
connection's first protocol instead: it buffers the request head, asks the :class:`Gatekeeper` (which runs
scrypt in a worker thread), answers a denial itself (401, 403, 429, 503), and otherwise hands the connection
and the bytes read so far to picows, whose factory then decides path, subprotocol and policy at once.

picows has no public way to build its server protocol for our own server; :func:`picows_protocol` mirrors
what ``picows.ws_create_server`` (2.3) does, and the e2e tests exercise it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import ssl
from collections.abc import Callable
from functools import partial
from http import HTTPStatus
from typing import Any, cast

from picows import WSAutoPingStrategy, WSListener, WSUpgradeRequest, WSUpgradeResponseWithListener
from picows.picows import WSProtocol  # type: ignore[attr-defined]  # not in picows's stubs

from chargewise.adapters.handshake import basic_credentials, charger_id_from_path
from chargewise.services.directory import Directory
from chargewise.services.gatekeeper import AuthLimits, Deferred, Denial, Gatekeeper, Knock

log = logging.getLogger(__name__)
MAX_HEAD = 16 * 1024  # picows's own limit on an upgrade request
# the picows listener factory, told whether the gatekeeper cleared the request's credentials
ListenerFactory = Callable[[WSUpgradeRequest, bool], WSListener | WSUpgradeResponseWithListener]
InnerFactory = Callable[[bool], asyncio.BaseProtocol]
#: told of every denied handshake that named a charger: ``(charger_id, remote address, reason)``
Refused = Callable[[str, str, str], None]

try:  # picows serves on aiofastnet transports when that package is installed; so do we
    import aiofastnet as _fastnet

    fastnet: Any = _fastnet
except ImportError:  # pragma: no cover - depends on the environment
    fastnet = None


class Gate(asyncio.Protocol):
    """One new connection until its upgrade request is judged; then picows's protocol takes over."""

    def __init__(self, *, gatekeeper: Gatekeeper, inner: InnerFactory, timeout: float,
                 refused: Refused | None = None) -> None:  # fmt: skip
        self._gatekeeper = gatekeeper
        self._refused = refused
        self._inner = inner
        self._timeout = timeout
        self._head = b""
        self._transport: asyncio.Transport | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # aiofastnet's transports do not subclass it
        self._timer = asyncio.get_running_loop().call_later(self._timeout, self._transport.abort)

    def data_received(self, data: bytes) -> None:
        transport = self._transport
        if transport is None or transport.is_closing():
            return  # being answered: late bytes have no reader
        self._head += data
        if self._task is not None:
            return  # in judgement (bytes a transport had already read before the pause): kept for picows
        end = self._head.find(b"\r\n\r\n")
        if end >= 0:
            self._judge(transport, knock_from(self._head[:end], transport))
        elif len(self._head) > MAX_HEAD:
            self._answer(Denial(status=431, reason="request head too large"))

    def eof_received(self) -> bool:
        return False  # the peer gave up: close

    def connection_lost(self, exc: Exception | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self._task is not None and not self._task.done():
            self._task.cancel()

    def _judge(self, transport: asyncio.Transport, knock: Knock | None) -> None:
        if knock is None:  # no charger id in the path: picows answers
            self._hand_over(transport, cleared=False)
            return
        verdict = self._gatekeeper.judge(knock)
        if isinstance(verdict, Deferred):  # scrypt on a worker thread; nothing more is read until then
            transport.pause_reading()
            self._task = asyncio.get_running_loop().create_task(self._check(transport, knock))
        else:
            self._decided(transport, knock, verdict)

    async def _check(self, transport: asyncio.Transport, knock: Knock) -> None:
        try:
            denial = await self._gatekeeper.check(knock)
        except Exception:  # our bug, or the worker pool shut down under a stopping server
            log.exception("%s: password check failed", knock.charger_id)
            denial = Denial(status=503, reason="cannot check the password now; retry later")
        if not transport.is_closing():
            self._decided(transport, knock, denial)

    def _decided(self, transport: asyncio.Transport, knock: Knock, denial: Denial | None) -> None:
        if denial is None:
            self._hand_over(transport, cleared=True)
        else:
            log.info("refused %s from %s: %s", knock.charger_id, knock.address, denial.reason)
            if self._refused is not None:
                self._refused(knock.charger_id, knock.address, denial.reason)
            self._answer(denial)

    def _hand_over(self, transport: asyncio.Transport, *, cleared: bool) -> None:
        if self._timer is not None:
            self._timer.cancel()
        inner = self._inner(cleared)
        transport.set_protocol(inner)
        inner.connection_made(transport)
        head, self._head = self._head, b""
        feed(inner, head)
        if self._task is not None and not transport.is_closing():
            transport.resume_reading()

    def _answer(self, denial: Denial) -> None:
        assert self._transport is not None
        self._transport.write(http_response(denial))
        self._transport.resume_reading()  # TLS: the shutdown needs the peer's close_notify (or EOF) read
        self._transport.close()


def knock_from(head: bytes, transport: asyncio.BaseTransport) -> Knock | None:
    """What the gatekeeper needs from a request head, or None if it names no charger (picows answers)."""
    lines = head.decode("latin-1").split("\r\n")
    request = lines[0].split(" ")
    charger_id = charger_id_from_path(request[1]) if len(request) == 3 else None
    if charger_id is None:
        return None
    authorization = None
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "authorization":
            authorization = value.strip()
    return Knock(
        charger_id=charger_id, credentials=basic_credentials(authorization), address=peer_address(transport),
        secure=transport.get_extra_info("ssl_object") is not None, certificate_names=certificate_names(transport),
    )  # fmt: skip


def certificate_names(transport: asyncio.BaseTransport) -> tuple[str, ...]:
    """The common names of the peer's client certificate (verified by TLS against the client CA), if any."""
    cert = transport.get_extra_info("peercert")
    if not cert:
        return ()
    return tuple(value for rdn in cert.get("subject", ()) for key, value in rdn if key == "commonName")


def peer_address(transport: asyncio.BaseTransport) -> str:
    peer = transport.get_extra_info("peername")
    return str(peer[0]) if peer else "?"


def feed(protocol: asyncio.BaseProtocol, data: bytes) -> None:
    """Deliver ``data`` to a (buffered) protocol as the transport would have."""
    if not isinstance(protocol, asyncio.BufferedProtocol):
        assert isinstance(protocol, asyncio.Protocol)
        protocol.data_received(data)
        return
    view = memoryview(data)
    while view:
        buffer = memoryview(protocol.get_buffer(len(view)))
        size = min(len(buffer), len(view))
        buffer[:size] = view[:size]
        protocol.buffer_updated(size)
        view = view[size:]


def http_response(denial: Denial) -> bytes:
    body = (denial.reason + "\n").encode()
    lines = [f"HTTP/1.1 {denial.status} {HTTPStatus(denial.status).phrase}", "Content-Type: text/plain",
             f"Content-Length: {len(body)}", "Connection: close",
             *(f"{name}: {value}" for name, value in denial.headers)]  # fmt: skip
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def picows_protocol(factory: ListenerFactory, cleared: bool, *, max_frame_size: int, handshake_timeout: float,
                    read_buffer_init_size: int, logger_name: str) -> WSProtocol:  # fmt: skip
    """picows's server protocol for one connection, built as ``picows.ws_create_server`` builds it."""
    return WSProtocol(
        None, None, False, lambda request: factory(request, cleared), logging.getLogger(f"picows.{logger_name}"),
        True, handshake_timeout, False, 20, 20, WSAutoPingStrategy.PING_WHEN_IDLE, True, max_frame_size, None,
        read_buffer_init_size,
    )  # fmt: skip


class Door:
    """The listening socket with a :class:`Gate` on every connection; owns the scrypt worker thread."""

    def __init__(self, *, directory: Directory, limits: AuthLimits, workers: int = 1,
                 refused: Refused | None = None) -> None:  # fmt: skip
        self._refused = refused
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="scrypt")
        loop = asyncio.get_running_loop()
        self.gatekeeper = Gatekeeper(directory=directory, offload=partial(loop.run_in_executor, self._pool),
                                     monotonic=loop.time, limits=limits)  # fmt: skip

    async def open(self, factory: ListenerFactory, host: str, port: int, *, ssl_context: ssl.SSLContext | None,
                   max_frame_size: int, handshake_timeout: float, read_buffer_init_size: int,
                   logger_name: str, **kwargs: Any) -> asyncio.Server:  # fmt: skip
        """Listen on ``host:port``; each admitted connection is served by a picows protocol asking ``factory``."""
        inner = partial(picows_protocol, factory, max_frame_size=max_frame_size, handshake_timeout=handshake_timeout,
                        read_buffer_init_size=read_buffer_init_size, logger_name=logger_name)  # fmt: skip

        def gate() -> Gate:
            return Gate(gatekeeper=self.gatekeeper, inner=inner, timeout=handshake_timeout, refused=self._refused)

        loop = asyncio.get_running_loop()
        create: Any = partial(fastnet.create_server, loop) if fastnet is not None else loop.create_server
        server: asyncio.Server = await create(gate, host=host, port=port, ssl=ssl_context, **kwargs)
        return server

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
