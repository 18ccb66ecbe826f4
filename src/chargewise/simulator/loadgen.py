"""Load-generator mode: many simulated chargers in one process, and what each costs the simulator.

``python -m chargewise.simulator.loadgen --chargers 10000`` starts a *sink* CSMS in a child process (a
picows server answering every charger message with a minimal valid answer, so that only the simulator is
measured), connects the chargers, then reports for this process:

- resident memory per charger: (RSS with every charger connected - RSS before) / chargers, after
  ``gc.collect()``;
- CPU per charger: process CPU time (user + system) over a steady window / window / chargers, in
  microseconds per charger-second, and per frame sent or received.

``--url`` measures against another CSMS instead (e.g. ``chargewise serve``). Chargers run the template's
timers (heartbeat, meter values, RSSI reports, WebSocket pings); ``--charging`` puts an EV on that share of
them so MeterValues flow.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import msgspec
from picows import WSFrame, WSListener, WSMsgType, WSTransport, WSUpgradeRequest, ws_create_server
from picows.common import WSUpgradeResponse, WSUpgradeResponseWithListener

from chargewise.domain.model import OcppVersion
from chargewise.simulator import workload
from chargewise.simulator.runner import Runner, plan

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_bytes() -> int:
    """This process's resident set size now."""
    return int(Path("/proc/self/statm").read_text().split()[1]) * PAGE


def cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


@dataclass(frozen=True, kw_only=True, slots=True)
class LoadReport:
    chargers: int
    connected: int
    version: str
    template: str
    connect_seconds: float
    window_seconds: float
    rss_kib_per_charger: float
    cpu_us_per_charger_second: float
    frames_per_second: float
    cpu_us_per_frame: float

    def lines(self) -> list[str]:
        return [
            f"chargers            {self.connected}/{self.chargers} connected ({self.template}, OCPP {self.version})",
            f"time to connect all {self.connect_seconds:.1f} s",
            f"memory              {self.rss_kib_per_charger:.1f} KiB RSS per charger",
            f"CPU                 {self.cpu_us_per_charger_second:.1f} us per charger-second "
            f"({self.frames_per_second:.0f} OCPP frames/s"
            + (f", {self.cpu_us_per_frame:.0f} us of all CPU per frame)" if self.frames_per_second else ")"),
        ]


async def measure(
    url: str,
    *,
    chargers: int,
    version: OcppVersion = OcppVersion.V16,
    template: str = "esp32-generic",
    speed: float = 1.0,
    ramp_s: float = 30.0,
    window_s: float = 20.0,
    charging_share: float = 0.5,
    connect_timeout_s: float = 300.0,
) -> LoadReport:
    """Connect ``chargers`` simulated chargers to ``url`` and measure this process (see the module notes)."""
    start = time.time()
    specs = plan(
        chargers=chargers, version=version, template=template, scenario="healthy", seed=1, id_prefix="LOAD",
        start=start, workload_kind="none", ramp_s=ramp_s * speed, password="",
    )  # fmt: skip
    rng = random.Random("loadgen")
    specs = [
        replace(s, visits=(_parked(start, s.template.phases),)) if rng.random() < charging_share else s for s in specs
    ]
    gc.collect()
    rss0 = rss_bytes()
    runner = Runner(specs, url=url, speed=speed, start=start, call_timeout=60.0)
    t0 = time.monotonic()
    await runner.start()
    try:
        async with asyncio.timeout(connect_timeout_s):
            while True:
                if runner.summary().boots >= chargers:
                    break
                await asyncio.sleep(0.5)
        connect_s = time.monotonic() - t0
        await asyncio.sleep(2.0)
        gc.collect()
        rss1 = rss_bytes()
        frames0, cpu0, w0 = _frames(runner), cpu_seconds(), time.monotonic()
        await asyncio.sleep(window_s)
        frames1, cpu1, w1 = _frames(runner), cpu_seconds(), time.monotonic()
        connected = runner.summary().connected
    finally:
        await runner.stop()
    window = w1 - w0
    frames = frames1 - frames0
    return LoadReport(
        chargers=chargers,
        connected=connected,
        version=version.value,
        template=template,
        connect_seconds=round(connect_s, 1),
        window_seconds=round(window, 1),
        rss_kib_per_charger=round((rss1 - rss0) / chargers / 1024, 1),
        cpu_us_per_charger_second=round((cpu1 - cpu0) / window / chargers * 1e6, 2),
        frames_per_second=round(frames / window, 1),
        cpu_us_per_frame=round((cpu1 - cpu0) / frames * 1e6, 1) if frames else 0.0,
    )


def _frames(runner: Runner) -> int:
    return sum(d.frames for d in runner.drivers)


def _parked(start: float, phases: int) -> workload.Visit:
    return workload.Visit(
        charger=0, connector=1, arrive_s=start + 5, depart_s=start + 86_400, energy_wh=1e9, capacity_wh=1e12,
        soc=0.2, obc_max_a=16, phases=phases, id_tag="LOADTAG",
    )  # fmt: skip


# ---------------------------------------------------------------- the sink CSMS (a child process)
_decoder = msgspec.json.Decoder()
_encoder = msgspec.json.Encoder()
_tx = iter(range(1, 1 << 62))


def _answer(action: str, payload: dict[str, object]) -> dict[str, object]:
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    if action == "BootNotification":
        return {"currentTime": now, "interval": 300, "status": "Accepted"}
    if action == "Heartbeat":
        return {"currentTime": now}
    if action == "Authorize":
        return (
            {"idTokenInfo": {"status": "Accepted"}} if "idToken" in payload else {"idTagInfo": {"status": "Accepted"}}
        )
    if action == "StartTransaction":
        return {"transactionId": next(_tx), "idTagInfo": {"status": "Accepted"}}
    if action == "DataTransfer":
        return {"status": "Accepted"}
    return {}


class _SinkListener(WSListener):
    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if frame.msg_type is WSMsgType.PING:
            transport.send_pong(frame.get_payload_as_bytes())
        elif frame.msg_type is WSMsgType.CLOSE:
            transport.send_close(frame.get_close_code())
            transport.disconnect()
        elif frame.msg_type is WSMsgType.TEXT:
            message = _decoder.decode(frame.get_payload_as_bytes())
            if message[0] == 2:
                body = _encoder.encode([3, message[1], _answer(message[2], message[3])])
                transport.send(WSMsgType.TEXT, body)


def _sink_factory(request: WSUpgradeRequest) -> WSUpgradeResponseWithListener:
    offered = (request.headers.get("Sec-WebSocket-Protocol") or "ocpp1.6").split(",")[0].strip()
    response = WSUpgradeResponse.create_101_response(extra_headers={"Sec-WebSocket-Protocol": offered})
    return WSUpgradeResponseWithListener(response, _SinkListener())


async def serve_sink(port: int) -> None:
    """Run the sink CSMS on 127.0.0.1:``port`` until cancelled; prints ``ready`` once listening."""
    server = await ws_create_server(_sink_factory, "127.0.0.1", port, websocket_handshake_timeout=30)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


@contextlib.contextmanager
def sink_process(port: int) -> Iterator[str]:  # pragma: no cover - tooling
    proc = subprocess.Popen(
        [sys.executable, "-m", "chargewise.simulator.loadgen", "--sink", "--port", str(port)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != "ready":
            raise RuntimeError("the sink CSMS did not start")
        yield f"ws://127.0.0.1:{port}/ocpp"
    finally:
        proc.terminate()
        proc.wait(10)


def main(argv: list[str] | None = None) -> int:  # pragma: no cover - tooling
    p = argparse.ArgumentParser(prog="python -m chargewise.simulator.loadgen", description=__doc__.splitlines()[0])
    p.add_argument("--chargers", type=int, default=10_000)
    p.add_argument("--ocpp", choices=["1.6", "2.0.1"], default="1.6")
    p.add_argument("--template", default="esp32-generic")
    p.add_argument("--url", help="measure against this CSMS instead of a sink child process")
    p.add_argument("--ramp", type=float, default=30.0, help="seconds over which chargers power on")
    p.add_argument("--window", type=float, default=20.0, help="seconds of steady state measured")
    p.add_argument("--charging", type=float, default=0.5, help="share of chargers with an EV charging")
    p.add_argument("--port", type=int, default=9911)
    p.add_argument("--sink", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    _use_uvloop()
    if args.sink:
        asyncio.run(serve_sink(args.port))
        return 0
    context = contextlib.nullcontext(args.url) if args.url else sink_process(args.port)
    with context as url:
        report = asyncio.run(
            measure(url, chargers=args.chargers, version=OcppVersion(args.ocpp), template=args.template,
                    ramp_s=args.ramp, window_s=args.window, charging_share=args.charging)
        )  # fmt: skip
    print("\n".join(report.lines()))
    return 0


def _use_uvloop() -> None:  # pragma: no cover - tooling
    with contextlib.suppress(ImportError):
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
