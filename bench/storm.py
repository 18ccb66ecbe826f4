"""``python -m bench.storm``: a reconnect storm. N simulated chargers connect and boot, the server is killed and
started again on the same ports, and every charger is commanded through REST (TriggerMessage Heartbeat) until
it answers. Prints how long after the restart each share of the chargers was commandable, the REST answers by
status, and the server's InternalError answers and tracebacks (both must be zero).

The chargers are ``chargewise simulate`` in one process: they reconnect with their own back-off
(RetryBackOffWaitMinimum 3 s x 2^n + up to 10 s at random) and, as real firmware does, without a new
BootNotification. Loopback only, on ports picked here; every loop is bounded by ``--within``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from bench.servers import HOST, ROOT, chargewise_command, free_ports

TOKEN = "storm-admin-token"
#: what the server writes when it answers a charger with InternalError, and any traceback
TROUBLE = re.compile(r"InternalError|internal error|Traceback")
#: what it writes when it sheds a message (GenericError "server busy"): not a failure, but counted
SHED = re.compile(r" shed: ")


@dataclass
class Storm:
    """The outcome: seconds from the restart to each charger's first answered command."""

    chargers: int
    answered_after: dict[str, float] = field(default_factory=dict)
    statuses: Counter[int | str] = field(default_factory=Counter)
    internal_errors: int = 0  # after the restart
    internal_errors_first: int = 0  # while the chargers first connected and booted
    shed: int = 0  # messages answered "server busy; retry later", after the restart
    shed_first: int = 0
    restart_s: float = 0.0  # from the kill to the new server listening

    def share_by(self, seconds: float) -> float:
        return sum(1 for t in self.answered_after.values() if t <= seconds) / self.chargers

    def quantile(self, q: float) -> float | None:
        times = sorted(self.answered_after.values())
        if len(times) < self.chargers * q or not times:
            return None
        return times[min(len(times) - 1, max(0, int(q * self.chargers) - 1))]


class Server:
    """``chargewise serve`` on fixed ports and one data directory, so that it can be started again."""

    def __init__(self, data_dir: Path, log: Path, extra: list[str]) -> None:
        self.data_dir, self.log, self.extra = data_dir, log, extra
        self.ocpp_port, self.http_port = free_ports(2)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def http(self) -> str:
        return f"http://{HOST}:{self.http_port}"

    def start(self) -> None:
        command = [*chargewise_command(), "serve", "--host", HOST, "--ocpp-port", str(self.ocpp_port),
                   "--http-port", str(self.http_port), "--data-dir", str(self.data_dir),
                   "--unknown-chargers", "accept", "--free-charging", *self.extra]  # fmt: skip
        env = dict(os.environ, CHARGEWISE_ADMIN_TOKEN=TOKEN)
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            cwd=ROOT, env=env)  # fmt: skip

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()


async def healthy(http: aiohttp.ClientSession, server: Server, within: float) -> int:
    """Wait for the REST port; return the number of connected chargers it reports."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if server.process is not None and server.process.poll() is not None:
            raise SystemExit(f"the server exited with code {server.process.returncode}; see {server.log}")
        try:
            async with http.get(f"{server.http}/healthz") as response:
                if response.status == 200:
                    return int((await response.json())["connected_chargers"])
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise SystemExit(f"the server did not answer on {server.http} within {within:.0f} s; see {server.log}")


async def wait_connected(http: aiohttp.ClientSession, server: Server, n: int, within: float) -> None:
    deadline = time.monotonic() + within
    connected = 0
    while time.monotonic() < deadline:
        connected = await healthy(http, server, within)
        if connected >= n:
            return
        await asyncio.sleep(0.5)
    raise SystemExit(f"only {connected} of {n} chargers connected within {within:.0f} s")


async def trigger(http: aiohttp.ClientSession, server: Server, charger_id: str) -> int | str:
    """One TriggerMessage through REST; the HTTP status (or the client error's name)."""
    body = {"action": "TriggerMessage", "payload": {"requestedMessage": "Heartbeat"}}
    headers = {"Authorization": f"Bearer {TOKEN}"}
    try:
        async with http.post(f"{server.http}/api/v1/chargers/{charger_id}/calls", json=body, headers=headers) as r:
            await r.read()
            return r.status
    except aiohttp.ClientError as exc:
        return type(exc).__name__


async def command_all(http: aiohttp.ClientSession, server: Server, ids: list[str], storm: Storm, restarted: float,
                      within: float, concurrency: int, progress: bool) -> None:  # fmt: skip
    """Command every charger until it answers (200) or ``within`` s after the restart have passed."""
    todo = list(ids)
    random.Random(1).shuffle(todo)
    queue: asyncio.Queue[str] = asyncio.Queue()
    for charger_id in todo:
        queue.put_nowait(charger_id)
    deadline = restarted + within

    async def worker() -> None:
        while time.monotonic() < deadline:
            try:
                charger_id = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            status = await trigger(http, server, charger_id)
            storm.statuses[status] += 1
            if status == 200:
                storm.answered_after[charger_id] = time.monotonic() - restarted
            else:  # not reconnected yet (409) or the server still starting: try it again later
                queue.put_nowait(charger_id)
                await asyncio.sleep(0.2)

    async def report() -> None:
        while progress:
            await asyncio.sleep(5)
            print(f"  {time.monotonic() - restarted:5.1f} s after the restart: "
                  f"{len(storm.answered_after):,} of {storm.chargers:,} commandable", flush=True)  # fmt: skip

    reporter = asyncio.create_task(report())
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    reporter.cancel()


async def run(args: argparse.Namespace) -> Storm:
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="chargewise-storm-"))
    server = Server(work / "data", work / "server.log", args.serve_arg or [])
    storm = Storm(chargers=args.chargers)
    simulator: subprocess.Popen[bytes] | None = None
    sim_log = (work / "simulator.log").open("wb")
    first_log = 0  # where the server log stood at the kill
    ids = [f"STORM{i}" for i in range(1, args.chargers + 1)]
    timeout = aiohttp.ClientTimeout(total=60)
    connector = aiohttp.TCPConnector(limit=args.concurrency)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as http:
        try:
            server.start()
            await healthy(http, server, 60)
            simulator = subprocess.Popen(  # noqa: ASYNC220 - starting it is instant
                [*chargewise_command(), "simulate", "--url", f"ws://{HOST}:{server.ocpp_port}/ocpp",
                 "--chargers", str(args.chargers), "--ocpp", args.ocpp, "--template", args.template,
                 "--id-prefix", "STORM",
                 "--workload", "none", "--ramp", str(args.ramp), "--seed", "1"],
                stdout=sim_log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=ROOT,
            )  # fmt: skip
            print(f"connecting {args.chargers:,} simulated chargers (OCPP {args.ocpp}) ...", flush=True)
            await wait_connected(http, server, args.chargers, args.connect_within)
            await asyncio.sleep(args.settle)  # their BootNotifications answered
            print(f"all connected; killing the server (SIGKILL) and starting it again; logs in {work}", flush=True)
            killed = time.monotonic()
            server.kill()
            first_log = server.log.stat().st_size
            server.start()
            await healthy(http, server, 60)
            storm.restart_s = time.monotonic() - killed
            await command_all(http, server, ids, storm, killed, args.within, args.concurrency, not args.quiet)
        finally:
            if simulator is not None and simulator.poll() is None:
                simulator.send_signal(signal.SIGINT)
                try:
                    simulator.wait(20)
                except subprocess.TimeoutExpired:
                    simulator.kill()
            server.stop()
            sim_log.close()
    log = server.log.read_bytes()
    storm.internal_errors_first = _trouble(log[:first_log])
    storm.internal_errors = _trouble(log[first_log:])
    storm.shed_first, storm.shed = _trouble(log[:first_log], SHED), _trouble(log[first_log:], SHED)
    return storm


def _trouble(log: bytes, pattern: re.Pattern[str] = TROUBLE) -> int:
    return sum(1 for line in log.decode(errors="replace").splitlines() if pattern.search(line))


def print_storm(storm: Storm, within: float) -> None:
    def seconds(q: float) -> str:
        value = storm.quantile(q)
        return f"{value:.1f} s" if value is not None else f"not within {within:.0f} s"

    print(f"chargers commandable within {within:.0f} s of the restart: {len(storm.answered_after):,} of "
          f"{storm.chargers:,} ({100 * len(storm.answered_after) / storm.chargers:.1f} %)")  # fmt: skip
    print(f"server back up (kill to REST answering): {storm.restart_s:.1f} s")
    print(f"commandable after: 50 % {seconds(0.5)}, 90 % {seconds(0.9)}, 99 % {seconds(0.99)}, all {seconds(1.0)}")
    print("REST answers: " + ", ".join(f"{k}: {v:,}" for k, v in sorted(storm.statuses.items(), key=str)))
    print(f"server log lines with InternalError or a traceback: {storm.internal_errors} after the restart, "
          f"{storm.internal_errors_first} while they first connected and booted")  # fmt: skip
    print(f"messages shed with GenericError 'server busy; retry later' (the charger retries): {storm.shed} after "
          f"the restart, {storm.shed_first} while they first connected and booted")  # fmt: skip


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.storm", description=__doc__.splitlines()[0])
    p.add_argument("--chargers", type=int, default=10_000, help="simulated chargers (default 10000)")
    p.add_argument("--ocpp", choices=["1.6", "2.0.1"], default="1.6", help="their OCPP version (default 1.6)")
    p.add_argument(
        "--template", default="chargepoint-home-flex",
        help="simulator template (default chargepoint-home-flex, which reconnects without a BootNotification)",
    )  # fmt: skip
    p.add_argument("--within", type=float, default=60.0, help="seconds after the restart to wait (default 60)")
    p.add_argument(
        "--concurrency", type=int, default=1000,
        help="REST calls in flight (default 1000: the template answers 1.5 s late, as that charger does)",
    )  # fmt: skip
    p.add_argument("--ramp", type=float, default=60.0, help="simulated seconds over which chargers power on")
    p.add_argument("--connect-within", type=float, default=300.0, help="seconds for the first connection")
    p.add_argument("--settle", type=float, default=5.0, help="seconds between all connected and the kill")
    p.add_argument("--serve-arg", action="append", help="an extra argument for chargewise serve (repeatable)")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.add_argument("--work-dir", type=Path, help="where the data directory and the logs go (default: a new one)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    storm = asyncio.run(run(args))
    print_storm(storm, args.within)
    ok = len(storm.answered_after) == storm.chargers and storm.internal_errors == storm.internal_errors_first == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
