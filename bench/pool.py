"""A pool of load generator processes (``bench.loadgen``), each on its own loopback source address."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from bench import procstat
from bench.servers import ROOT

PER_PROCESS = 12_500  # sockets per generator: well under the 20,000 open files a process may hold
COMMAND_TIMEOUT = 900.0


class LoadGenFailed(Exception):
    """A load generator died or did not answer; the message says which and why."""


class Pool:
    """``await Pool.start(url, processes)``; then ``await pool.each(cmd)`` or ``pool.split(...)``."""

    def __init__(self, procs: list[asyncio.subprocess.Process], tag: str) -> None:
        self.procs = procs
        self.tag = tag
        self.chargers = [0] * len(procs)  # connected chargers per generator
        self.uvloop = False

    @classmethod
    async def start(cls, url: str, processes: int, tag: str, payload: str = "realistic") -> Pool:
        procs = []
        for i in range(processes):
            source = f"127.0.0.{10 + i}"  # one source address per process: 28k ephemeral ports each
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bench.loadgen", "--url", url, "--source", source, "--prefix", f"{tag}{i}",
                "--payload", payload,
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, cwd=ROOT, limit=1 << 24,
            )  # fmt: skip
            procs.append(proc)
        pool = cls(procs, tag)
        hello = await asyncio.gather(*(pool._read(p) for p in procs))
        pool.uvloop = all(h.get("uvloop") for h in hello)
        return pool

    def pids(self) -> list[int]:
        return [p.pid for p in self.procs]

    def cpu(self) -> float:
        return procstat.cpu_seconds(self.pids())

    def rss(self) -> int:
        return procstat.rss_kib(self.pids())

    async def each(self, commands: list[dict[str, Any]], limit_s: float = COMMAND_TIMEOUT) -> list[dict[str, Any]]:
        """Send ``commands[i]`` to generator i (all at once) and return their answers."""
        for proc, cmd in zip(self.procs, commands, strict=True):
            assert proc.stdin is not None
            proc.stdin.write(json.dumps(cmd).encode() + b"\n")
        await asyncio.gather(*(p.stdin.drain() for p in self.procs if p.stdin is not None))
        return list(await asyncio.gather(*(self._read(p, limit_s) for p in self.procs)))

    async def all(self, cmd: dict[str, Any]) -> list[dict[str, Any]]:
        return await self.each([cmd] * len(self.procs))

    def split(self, total: int) -> list[int]:
        """``total`` spread over the generators as evenly as possible."""
        n = len(self.procs)
        return [total // n + (1 if i < total % n else 0) for i in range(n)]

    async def connect(
        self, total: int, *, start_tx: bool, concurrency: int = 100, within: float | None = None
    ) -> dict[str, Any]:
        """Connect ``total`` more chargers; with ``within``, none is started after that many seconds."""
        shares = self.split(total)
        answers = await self.each(
            [{"cmd": "connect", "n": n, "start_tx": start_tx, "concurrency": concurrency, "within": within}
             for n in shares],
            limit_s=(within or COMMAND_TIMEOUT) + 120,
        )  # fmt: skip
        errors: dict[str, int] = {}
        for i, answer in enumerate(answers):
            self.chargers[i] = answer["total"]
            for text, count in answer["errors"].items():
                errors[text] = errors.get(text, 0) + count
        return {
            "connected": sum(a["connected"] for a in answers), "failed": sum(a["failed"] for a in answers),
            "skipped": sum(a["skipped"] for a in answers), "errors": errors,
            "seconds": max(a["seconds"] for a in answers),
        }  # fmt: skip

    async def _read(self, proc: asyncio.subprocess.Process, limit_s: float = COMMAND_TIMEOUT) -> dict[str, Any]:
        assert proc.stdout is not None
        try:
            line = await asyncio.wait_for(proc.stdout.readline(), limit_s)
        except TimeoutError:
            raise LoadGenFailed(f"load generator {proc.pid} gave no answer in {limit_s:.0f} s") from None
        if not line:
            raise LoadGenFailed(f"load generator {proc.pid} exited (code {await proc.wait()})")
        answer: dict[str, Any] = json.loads(line)
        return answer

    async def stop(self) -> None:
        for proc in self.procs:
            if proc.returncode is None and proc.stdin is not None:
                try:
                    proc.stdin.write(b'{"cmd": "quit"}\n')
                except (BrokenPipeError, ConnectionResetError):
                    continue
        for proc in self.procs:
            try:
                await asyncio.wait_for(proc.wait(), 15)
            except TimeoutError:
                proc.kill()
                await proc.wait()
