"""Run ``chargewise serve`` as a real process (for kill and restart tests)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class PortTaken(RuntimeError):
    """The server could not bind a port picked for it."""


class ServerProcess:
    def __init__(self, data_dir: Path, *extra: str, output: Path | None = None) -> None:
        self.data_dir = data_dir
        self.output = output  # where its log goes (a long run fills a pipe nobody reads); default: a pipe
        self.ocpp_port, self.http_port = free_port(), free_port()
        self.extra = extra
        self.proc: subprocess.Popen[bytes] | None = None
        self.token = "kill-test-token"
        self.started = False  # once it has started, it keeps its ports
        self._log_from = 0  # where in `output` the current run's log begins

    @property
    def ocpp_url(self) -> str:
        return f"ws://127.0.0.1:{self.ocpp_port}/ocpp"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    async def start(self, wait: float = 20) -> None:
        """Serve; unless the data directory has a config file already, with one that turns the 2.0.1 radio
        watch off (like ``tests.conftest.start_server``: the tests script the frames a charger sees).

        A port picked by `free_port` is free only when it is picked: before the first start, an outgoing
        connection (this suite's or another node's) may take it. Then the server says "address already in use"
        and exits, and the first start tries twice more on new ports; a restart keeps its ports (its chargers
        reconnect to them), so there the error stands."""
        for attempt in range(3):
            try:
                await self._launch(wait)
                self.started = True
                return
            except PortTaken:
                if self.started or attempt == 2:
                    raise
                self.ocpp_port, self.http_port = free_port(), free_port()

    async def _launch(self, wait: float) -> None:
        env = {**os.environ, "CHARGEWISE_ADMIN_TOKEN": self.token}
        config = self.data_dir / "chargewise.toml"
        if "--config" not in self.extra and not config.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            config.write_text("[doctor]\nwatch_radio = false\n")
        self._log_from = self.output.stat().st_size if self.output and self.output.exists() else 0
        log = self.output.open("ab") if self.output else None
        self.proc = subprocess.Popen(  # noqa: ASYNC220 - starting it is instant; we poll it below
            [sys.executable, "-m", "chargewise", "serve", "--host", "127.0.0.1", "--ocpp-port", str(self.ocpp_port),
             "--http-port", str(self.http_port), "--data-dir", str(self.data_dir), "--unknown-chargers", "accept",
             "--free-charging", *self.extra],
            env=env, stdout=log or subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
        if log is not None:
            log.close()  # the child has its own copy
        deadline = time.monotonic() + wait
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    printed = self.last_output()
                    error = PortTaken if "address already in use" in printed else RuntimeError
                    raise error(f"server exited ({self.proc.returncode}): {printed}")
                try:
                    async with http.get(f"{self.http_url}/healthz") as r:
                        if r.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError(f"server did not start in {wait:g} s: {self.last_output()}")

    def last_output(self, limit: int = 4000) -> str:
        """What the process printed since its last start (the end of it), for a failure message."""
        if self.output is not None:
            if not self.output.exists():
                return ""
            return self.output.read_bytes()[self._log_from :][-limit:].decode(errors="replace")
        return self.proc.stdout.read().decode(errors="replace")[-limit:] if self.proc and self.proc.stdout else ""

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        if self.proc.stdout:
            self.proc.stdout.close()

    def terminate(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)  # with --workers it stops its children first; SIGKILL would orphan them
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.proc is not None and self.proc.stdout:
            self.proc.stdout.close()

    async def get(self, path: str) -> object:
        async with (
            aiohttp.ClientSession() as http,
            http.get(self.http_url + path, headers={"Authorization": f"Bearer {self.token}"}) as r,
        ):
            assert r.status == 200, await r.text()
            return await r.json()
