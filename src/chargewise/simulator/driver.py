"""One charger on the event loop: the pump between its firmware, its network path and its WebSocket.

No protocol decisions here: the firmware decides what to send and when; the path decides what the network
does to it. Each step below is a callback from the event loop or the link:

- timer: run the path's scripted events and RF steps, network timers (NAT idle, TCP give-up, the
  charger's own WebSocket ping), then the firmware's timers; start a connection when one is due;
- frame / ping / pong from the server: to the firmware (or nowhere, when the flow is half-open);
- after every step: send the firmware's frames (delayed by the path's latency), carry out its effects
  (close for a reboot, HTTP download/upload), re-arm the single timer.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from chargewise.simulator import tls, transport
from chargewise.simulator.clock import SimClock
from chargewise.simulator.faults import ConnectorFault, FlowsBlackholed, LinkLost, NetworkPath
from chargewise.simulator.files import Files
from chargewise.simulator.firmware import Firmware
from chargewise.simulator.ports import Disconnect, Download, Upload

log = logging.getLogger(__name__)
PONG_WAIT_REAL_S = 1.0  # a pong is awaited at least this long in real time, however fast simulated time runs
Connect = Callable[..., Awaitable[transport.Link]]


class _Connection:
    """Routes one link's events to the driver while it is the driver's current link."""

    __slots__ = ("closed_by_server", "driver", "link")

    def __init__(self, driver: ChargerDriver, link: transport.Link) -> None:
        self.driver = driver
        self.link = link
        self.closed_by_server = False

    def on_text(self, data: bytes) -> None:
        self.driver.text(self, data)

    def on_ping(self, payload: bytes) -> None:
        self.driver.ping(self, payload)

    def on_pong(self) -> None:
        self.driver.pong(self)

    def on_close_frame(self) -> None:
        self.closed_by_server = True

    def on_lost(self) -> None:
        self.driver.lost(self)


class ChargerDriver:
    """Runs one :class:`Firmware` against ``url`` through ``path``. :meth:`start`, later :meth:`close`."""

    __slots__ = (
        "_blackholed",
        "_connect_fn",
        "_connecting",
        "_give_up_at",
        "_last_traffic",
        "_loop",
        "_next_ping",
        "_ping_sent_at",
        "_send_at",
        "_tasks",
        "_timer",
        "_timer_at",
        "authorization",
        "clock",
        "closed",
        "conn",
        "error",
        "files",
        "frames",
        "fw",
        "path",
        "ssl_context",
        "url",
    )

    def __init__(
        self,
        *,
        firmware: Firmware,
        path: NetworkPath,
        clock: SimClock,
        url: str,
        authorization: str | None,
        files: Files,
        ssl_context: ssl.SSLContext | None = None,
        connect: Connect = transport.connect,
    ) -> None:
        self.fw = firmware
        self.path = path
        self.clock = clock
        self.url = url
        self.authorization = authorization
        self.files = files
        self.ssl_context = ssl_context
        self._connect_fn = connect
        self._loop = asyncio.get_running_loop()
        self.conn: _Connection | None = None
        self.error: BaseException | None = None
        self.closed = False
        # uvloop answers a call_at less than 1 ms ahead with a plain Handle (no when()): keep the time apart
        self._timer: asyncio.Handle | None = None
        self._timer_at = 0.0
        self._connecting: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._blackholed = False
        self._last_traffic = 0.0
        self._give_up_at: float | None = None
        self._ping_sent_at: float | None = None
        self._next_ping: float | None = None
        self._send_at = 0.0
        self.frames = 0  # text frames sent and received (load-generator accounting)

    def now(self) -> float:
        return self.clock.sim(self._loop.time())

    # ------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Power the charger on; it connects after its boot time."""
        self.fw.power_on(self.now())
        self._after()

    async def close(self) -> None:
        """Stop the charger: cancel its timers and transfers, close its connection."""
        self.closed = True
        if self._timer is not None:
            self._timer.cancel()
        pending = [t for t in (self._connecting, *self._tasks) if t is not None]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        if self.conn is not None:
            conn, self.conn = self.conn, None
            conn.link.close()

    # ------------------------------------------------------------ link events
    def text(self, conn: _Connection, data: bytes) -> None:
        if conn is not self.conn or self._blackholed:
            return
        now = self.now()
        self._last_traffic = now
        self.frames += 1
        self._guard(lambda: self.fw.receive(data, now))

    def ping(self, conn: _Connection, payload: bytes) -> None:
        if conn is not self.conn or self._blackholed:
            return
        self._last_traffic = self.now()
        if self.fw.template.quirks.answers_pings:
            conn.link.send_pong(payload)

    def pong(self, conn: _Connection) -> None:
        if conn is self.conn and not self._blackholed:
            self._last_traffic = self.now()
            self._ping_sent_at = None

    def lost(self, conn: _Connection) -> None:
        if conn is self.conn:
            self._detach(closed_by_server=conn.closed_by_server)

    # ------------------------------------------------------------ steps
    def _guard(self, step: Callable[[], None]) -> None:
        """Run one step and then the pump; a bug stops this charger (kept in ``error``), not the run."""
        if self.closed:
            return
        try:
            step()
            self._after()
        except Exception as exc:  # a simulator bug: record it and park the charger
            log.exception("charger %s stopped by an error", self.fw.charger_id)
            self.error = exc
            self.closed = True
            if self.conn is not None:
                self.conn.link.abort()

    def _wake(self) -> None:
        self._timer = None
        self._guard(self._run_timers)

    def _run_timers(self) -> None:
        now = self.now()
        for event in self.path.advance(now, car_present=self.fw.car_present):
            if isinstance(event, LinkLost):
                self._drop(event.reason)
            elif isinstance(event, FlowsBlackholed):
                self._blackhole(event.reason)
            elif isinstance(event, ConnectorFault):
                self.fw.connector_fault(event.connector, event.error_code, now)
        self._network_timers(now)
        connect_at = self.fw.connect_at
        if self.conn is None and self._connecting is None and connect_at is not None and connect_at <= now:
            self._connecting = self._loop.create_task(self._connect())
        self.fw.tick(now)

    def _network_timers(self, now: float) -> None:
        idle = self.path.scenario.nat_idle_timeout_s
        if self.conn is not None and not self._blackholed and idle and now - self._last_traffic >= idle:
            self._blackhole(f"NAT forgot the flow after {idle:.0f} s idle")
        if self._give_up_at is not None and now >= self._give_up_at:
            self._drop("TCP gave up retransmitting")
        interval = self.fw.settings.int("ws_ping_interval")
        if self.conn is None or interval <= 0:
            return
        if self._ping_sent_at is not None and now - self._ping_sent_at >= self._pong_wait(interval):
            self._drop("WebSocket ping timed out")
        elif self._next_ping is not None and now >= self._next_ping:
            self._ping_sent_at, self._next_ping = now, now + interval
            self._transmit(lambda link: link.send_ping(b"cw"))

    def _pong_wait(self, interval: int) -> float:
        """Simulated seconds to wait for a pong: the ping interval, but at least PONG_WAIT_REAL_S of real time."""
        return max(float(interval), self.clock.speed * PONG_WAIT_REAL_S)

    def _after(self) -> None:
        """Send what the firmware has, carry out its effects, re-arm the timer."""
        for frame in self.fw.outgoing():
            self.frames += 1
            self._transmit(_text(frame))
        for effect in self.fw.effects():
            if isinstance(effect, Disconnect):
                self._drop(effect.reason, graceful=True)
            elif isinstance(effect, Download):
                self._spawn(self._download(effect.url))
            elif isinstance(effect, Upload):
                self._spawn(self._upload(effect))
        self._arm()

    def _arm(self) -> None:
        times = [self.fw.next_deadline(), self.path.next_wakeup(), self._give_up_at]
        if self.conn is None and self._connecting is None:
            times.append(self.fw.connect_at)
        if self.conn is not None:
            idle = self.path.scenario.nat_idle_timeout_s
            if idle and not self._blackholed:
                times.append(self._last_traffic + idle)
            interval = self.fw.settings.int("ws_ping_interval")
            if interval > 0:
                pong_due = None if self._ping_sent_at is None else self._ping_sent_at + self._pong_wait(interval)
                times += [self._next_ping, pong_due]
        due = min((t for t in times if t is not None), default=None)
        if due is None or self.closed:
            return
        at = self.clock.loop_time(due)
        if self._timer is not None:
            if self._timer_at <= at:
                return  # it fires first (perhaps early, which is harmless): no cancelled handle left behind
            self._timer.cancel()
        self._timer, self._timer_at = self._loop.call_at(at, self._wake), at

    # ------------------------------------------------------------ network
    def _transmit(self, send: Callable[[transport.Link], None]) -> None:
        conn = self.conn
        if conn is None:
            return
        if self._blackholed:  # the bytes go out and die at the firewall; TCP keeps retrying them
            if self._give_up_at is None:
                self._give_up_at = self.now() + self.path.scenario.tcp_give_up_s
            return
        self._last_traffic = self.now()
        delay = self.path.latency_s()
        if delay <= 0 and self._send_at <= self._loop.time():
            send(conn.link)
            return
        self._send_at = max(self._send_at, self._loop.time() + delay)  # keep frames in order
        self._loop.call_at(self._send_at, self._late_send, conn, send)

    def _late_send(self, conn: _Connection, send: Callable[[transport.Link], None]) -> None:
        if conn is self.conn and not self._blackholed:
            send(conn.link)

    def _blackhole(self, reason: str) -> None:
        if self.conn is None or self._blackholed:
            return
        self._blackholed = True
        self.conn.link.pause_reading()
        self.fw.note(self.now(), f"link half-open: {reason}")

    def _drop(self, reason: str, *, graceful: bool = False) -> None:
        conn = self.conn
        if conn is None:
            return
        self.fw.note(self.now(), f"link closed: {reason}")
        if graceful:
            conn.link.close()
        else:
            conn.link.abort()
        self._detach(closed_by_server=False)

    def _detach(self, *, closed_by_server: bool) -> None:
        self.conn = None
        self._blackholed = False
        self._give_up_at = self._ping_sent_at = self._next_ping = None
        now = self.now()
        self._guard(lambda: self.fw.disconnected(now, closed_by_server=closed_by_server))

    async def _connect(self) -> None:
        try:
            failure = self.path.attempt()
            if failure is not None:
                self.fw.connect_failed(self.now(), failure.stage, failure.detail)
                return
            # after a WAN address change new flows come from the new address (on loopback: another 127/8 one)
            moved = (
                {"local_addr": (f"127.0.0.{1 + self.path.wan % 250}", 0)}
                if self.path.wan and _loopback(self.url)
                else {}
            )
            url, authorization, ssl_context = self._credentials()
            try:
                link = await self._connect_fn(
                    url,
                    subprotocol=self.fw.version.subprotocol,
                    authorization=authorization,
                    ssl_context=ssl_context,
                    **moved,
                )
            except transport.ConnectError as exc:
                self.fw.connect_failed(self.now(), exc.stage, exc.detail)
                return
            now = self.now()
            wanted = self.fw.connect_at
            if self.closed or wanted is None or wanted > now:  # rebooted (or gave up) while connecting
                link.abort()
                return
            self.conn = _Connection(self, link)
            self._last_traffic = now
            interval = self.fw.settings.int("ws_ping_interval")
            self._next_ping = now + interval if interval > 0 else None
            self.fw.connected(now)
            link.start(self.conn)
        except Exception as exc:  # a simulator bug: record it and park the charger
            log.exception("charger %s stopped by an error while connecting", self.fw.charger_id)
            self.error, self.closed = exc, True
        finally:
            self._connecting = None
            if not self.closed:
                self._guard(lambda: None)

    def _credentials(self) -> tuple[str, str | None, ssl.SSLContext | None]:
        """URL, Authorization header and TLS context of the next connection: the start ones, changed by what
        the CSMS set (the firmware's ``credentials``: network profile, password, client certificate)."""
        plan, cid = self.fw.credentials.plan(), self.fw.charger_id
        url = self.url if plan.url is None else plan.url.rstrip("/") + "/" + cid
        authorization = self.authorization if plan.password is None else transport.basic_auth(cid, plan.password)
        if plan.security_profile >= 2 and url.startswith("ws://"):
            url = "wss://" + url.removeprefix("ws://")  # profiles 2 and 3 are TLS (same host and port assumed)
        if plan.security_profile == 3:
            authorization = None  # the certificate alone says who it is
        context = self.ssl_context
        if plan.certificate is not None and url.startswith("wss:"):
            context = tls.with_client_certificate(self.ssl_context, *plan.certificate)
        return url, authorization, context

    # ------------------------------------------------------------ file transfers
    def _spawn(self, coro: Awaitable[None]) -> None:
        task: asyncio.Task[None] = self._loop.create_task(coro)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _download(self, url: str) -> None:
        ok, body, detail = await self.files.download(url)
        self._guard(lambda: self.fw.download_done(self.now(), ok=ok, body=body, detail=detail))

    async def _upload(self, upload: Upload) -> None:
        ok, detail = await self.files.upload(upload.url, upload.filename, upload.body)
        self._guard(lambda: self.fw.upload_done(self.now(), ok=ok, detail=detail))


def _loopback(url: str) -> bool:
    return urlsplit(url).hostname in ("127.0.0.1", "localhost")


def _text(frame: bytes) -> Callable[[transport.Link], None]:
    def send(link: transport.Link) -> None:
        link.send_text(frame)

    return send
