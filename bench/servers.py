"""Starting and stopping the servers under test, each in its own process group, on free loopback ports."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench import procstat

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 60.0


class ServerFailed(Exception):
    """A server did not start; the message is one line saying which and why."""


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path
    workers: int = 1
    cleanup: list[Path] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"ws://{HOST}:{self.port}/ocpp/"

    def pids(self) -> list[int]:
        return procstat.tree(self.process.pid)

    def cpu(self) -> float:
        return procstat.cpu_seconds(self.pids())

    def rss(self) -> int:
        return procstat.rss_kib(self.pids())

    def loop_sched_ns(self) -> tuple[int, int]:
        """(CPU time, time waited for a CPU) of the main thread, which runs the event loop (of a single-process
        server), in nanoseconds."""
        return procstat.thread_sched_ns(self.process.pid)

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerFailed(f"{self.name} exited with code {self.process.returncode}: {self.last_log_line()}")
            if procstat.listening_sockets(self.port) >= self.workers:
                return
            time.sleep(0.1)
        raise ServerFailed(f"{self.name} did not listen on port {self.port} within {START_TIMEOUT:.0f} s")

    def last_log_line(self) -> str:
        lines = [line for line in self.log.read_text(errors="replace").splitlines() if line.strip()]
        return lines[-1].strip() if lines else "(no output)"

    def stop(self, timeout: float = 20.0) -> None:
        """SIGINT (the servers stop cleanly on it), then SIGKILL what is left of our processes."""
        pids = self.pids()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                continue
        self.process.wait()
        for path in self.cleanup:
            shutil.rmtree(path, ignore_errors=True)


def free_ports(n: int) -> list[int]:
    """``n`` distinct loopback ports free right now (another process may still take one before we bind it:
    the servers are started again on new ports when that happens)."""
    socks = [socket.socket() for _ in range(n)]
    try:
        for sock in socks:
            sock.bind((HOST, 0))
        return [sock.getsockname()[1] for sock in socks]
    finally:
        for sock in socks:
            sock.close()


def chargewise_command() -> list[str]:
    """``chargewise`` from the same virtual environment as this Python (override: $BENCH_CHARGEWISE)."""
    override = os.environ.get("BENCH_CHARGEWISE")
    if override:
        return override.split()
    return [str(Path(sys.executable).parent / "chargewise")]


def start_chargewise(log_dir: Path, *, workers: int = 1, profile_to: Path | None = None) -> Server:
    """``chargewise serve`` on SQLite (WAL) in a fresh data directory; accept unknown chargers, free charging."""
    return _retry_ports(lambda: _start_chargewise(log_dir, workers, profile_to))


def _start_chargewise(log_dir: Path, workers: int, profile_to: Path | None) -> Server:
    data_dir = Path(tempfile.mkdtemp(prefix="chargewise-bench-"))
    port, http_port = free_ports(2)
    command = chargewise_command()
    if profile_to is not None:
        command = [sys.executable, "-m", "bench.profiled_serve", str(profile_to)]
    command += [
        "serve", "--host", HOST, "--ocpp-port", str(port), "--http-port", str(http_port),
        "--data-dir", str(data_dir), "--unknown-chargers", "accept", "--free-charging",
    ]  # fmt: skip
    if workers > 1:  # each worker is a node of a cluster over the local NATS (issue 15)
        command += ["--workers", str(workers), "--bus", "nats://127.0.0.1:4222"]
    name = f"chargewise (--workers {workers})" if workers > 1 else "chargewise"
    return _spawn(name, command, port, log_dir / f"chargewise-w{workers}.log", workers, cleanup=[data_dir])


def start_baseline(log_dir: Path) -> Server:
    return _retry_ports(lambda: _start_baseline(log_dir))


def _start_baseline(log_dir: Path) -> Server:
    (port,) = free_ports(1)
    command = [sys.executable, "-m", "bench.baseline_csms", "--host", HOST, "--port", str(port)]
    return _spawn("baseline (ocpp library)", command, port, log_dir / "baseline.log", 1)


def _retry_ports(start: Callable[[], Server], attempts: int = 3) -> Server:
    for attempt in range(attempts):
        try:
            return start()
        except ServerFailed as exc:
            if "already in use" not in str(exc).lower() or attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def _spawn(
    name: str, command: list[str], port: int, log: Path, workers: int, cleanup: list[Path] | None = None
) -> Server:
    log.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    with log.open("wb") as out:
        try:
            process = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=ROOT, env=env
            )
        except OSError as exc:
            for path in cleanup or []:
                shutil.rmtree(path, ignore_errors=True)
            raise ServerFailed(f"{name}: cannot run {command[0]}: {exc.strerror}") from None
    server = Server(name=name, process=process, port=port, log=log, workers=workers, cleanup=cleanup or [])
    try:
        server.wait_ready()
    except ServerFailed:
        server.stop()
        raise
    return server
