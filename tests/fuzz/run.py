"""Fuzz a running server over real WebSockets with raw clients, and count what came back.

One fuzzing charger per version sends :mod:`tests.fuzz.frames` one at a time and reads the reply (if one is
due) before the next frame; a bystander charger sends Heartbeats meanwhile and times them. With ``db_path``
(the server's SQLite file), each refused frame is checked to have stored nothing: the rows are compared
before the frame and after its CallError.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection

from tests.fuzz.frames import SEEDS, Fuzzed, generate

PROTOCOL = {"1.6": "ocpp1.6", "2.0.1": "ocpp2.0.1"}
REPLY_TIMEOUT = 10.0
KEEP = 5  # example frames kept per kind of failure
ROTATE = 2000  # frames per charger id: each charger's rows stay few, so comparing them stays cheap


@dataclass
class Figures:
    frames: int = 0
    replies: Counter[str] = field(default_factory=Counter)  # "CallResult" or the CallError code
    internal_errors: list[str] = field(default_factory=list)  # frames answered InternalError
    missing: list[str] = field(default_factory=list)  # frames whose reply never came
    strays: list[str] = field(default_factory=list)  # replies nothing asked for (answers to answers, wrong ids)
    closed: list[str] = field(default_factory=list)  # frames after which the server closed the link
    stored: list[str] = field(default_factory=list)  # refused frames that changed the charger's rows
    bystander: list[float] = field(default_factory=list)  # Heartbeat round trips, s

    def internal_error_count(self) -> int:
        return self.replies["InternalError"]

    def percentile(self, share: float) -> float:
        times = sorted(self.bystander)
        return times[min(len(times) - 1, int(share * len(times)))] if times else float("nan")

    def summary(self) -> str:
        codes = ", ".join(f"{code} {count}" for code, count in self.replies.most_common())
        return "\n".join([
            f"frames sent: {self.frames}",
            f"replies by code: {codes}",
            f"InternalError: {self.internal_error_count()}",
            f"missing replies: {len(self.missing)}, unexpected replies: "
            f"{len(self.strays)}, links closed: {len(self.closed)}, refused but stored: {len(self.stored)}",
            f"bystander Heartbeat: {len(self.bystander)} round trips, p50 {self.percentile(0.5) * 1000:.1f} ms, "
            f"p99 {self.percentile(0.99) * 1000:.1f} ms, max {max(self.bystander, default=0) * 1000:.1f} ms",
        ])  # fmt: skip

    def examples(self) -> dict[str, list[str]]:
        found = {"InternalError": self.internal_errors, "missing": self.missing, "stray": self.strays, "closed": self.closed, "stored": self.stored}  # fmt: skip
        return {name: frames[:KEEP] for name, frames in found.items() if frames}


class Rows:
    """A charger's rows in the server's SQLite file, read on a connection of our own."""

    def __init__(self, db_path: Path) -> None:
        self._db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, isolation_level=None)

    def of(self, charger_id: str) -> tuple[Any, ...]:
        """The charger's transactions, connectors and registration, and the newest meter value and
        transaction event of anyone (append-only tables; read by rowid, which costs nothing however long the
        run: so only one charger may write meanwhile)."""
        one = (charger_id,)
        return (
            self._db.execute("SELECT max(id) FROM meter_values").fetchall(),
            self._db.execute("SELECT max(rowid) FROM transaction_events").fetchall(),
            self._db.execute("SELECT * FROM transactions WHERE charger_id = ? ORDER BY id", one).fetchall(),
            self._db.execute("SELECT * FROM connectors WHERE charger_id = ? ORDER BY 1, 2, 3", one).fetchall(),
            self._db.execute(
                "SELECT registration, vendor, model, serial_number, firmware_version FROM chargers WHERE id = ?", one
            ).fetchall(),
            self._db.execute("SELECT count(*) FROM id_tokens").fetchall(),
        )  # fmt: skip

    def close(self) -> None:
        self._db.close()


async def connect(url: str, charger_id: str, version: str) -> ClientConnection:
    """A raw client for ``charger_id``, booted (Accepted) before it returns."""
    ws = await websockets.connect(f"{url}/{charger_id}", subprotocols=[PROTOCOL[version]], max_size=2**20)  # type: ignore[list-item]
    await ws.send(json.dumps([2, "boot", "BootNotification", SEEDS[version]["BootNotification"][0]]))
    answer = json.loads(await asyncio.wait_for(ws.recv(), REPLY_TIMEOUT))
    assert answer[0] == 3 and answer[2]["status"] == "Accepted", answer
    return ws


async def fuzz_charger(
    url: str, charger_id: str, version: str, frames: list[Fuzzed], figures: Figures, rows: Rows | None
) -> None:
    """Send each frame, read its reply if one is due, and account for it in ``figures``. Every
    :data:`ROTATE` frames the charger reconnects under a new id (``charger_id-N``)."""
    ws: ClientConnection | None = None
    try:
        for n, frame in enumerate(frames):
            name = f"{charger_id}-{n // ROTATE}"
            if ws is None or n % ROTATE == 0:
                if ws is not None:
                    await _finish(ws, figures)
                ws = await connect(url, name, version)
            before = rows.of(name) if rows is not None else None
            figures.frames += 1
            try:
                await ws.send(frame.text)
                reply = await _reply(ws, frame, figures) if frame.reply_ids is not None else None
            except websockets.ConnectionClosed:
                figures.closed.append(frame.text[:300])
                ws = await connect(url, name, version)
                continue
            if reply is not None and reply[0] == 4 and rows is not None and rows.of(name) != before:
                figures.stored.append(frame.text[:300])
        if ws is not None:
            await _finish(ws, figures)
            ws = None
    finally:
        if ws is not None:
            await ws.close()


async def _finish(ws: ClientConnection, figures: Figures) -> None:
    """A last Heartbeat: any stray reply arrives before its answer. Then close."""
    await ws.send(json.dumps([2, "end", "Heartbeat", {}]))
    await _reply(ws, Fuzzed(text="", reply_ids=frozenset({"end"}), kind="end"), figures)
    await ws.close()


async def _reply(ws: ClientConnection, frame: Fuzzed, figures: Figures) -> list[Any] | None:
    assert frame.reply_ids is not None
    while True:
        try:
            message = json.loads(await asyncio.wait_for(ws.recv(), REPLY_TIMEOUT))
        except TimeoutError:
            figures.missing.append(frame.text[:300])
            return None
        if not isinstance(message, list) or message[0] == 2:
            continue  # a command from the server: not ours to judge here
        if message[1] not in frame.reply_ids:  # an answer to an answer, or to the wrong call
            figures.strays.append(f"{json.dumps(message)[:150]} while waiting after {frame.text[:150]}")
            continue
        code = "CallResult" if message[0] == 3 else str(message[2])
        figures.replies[code] += 1
        if code == "InternalError":
            figures.internal_errors.append(frame.text[:300])
        return message


async def bystander(url: str, stop: asyncio.Event, figures: Figures, *, pause: float = 0.01) -> None:
    """Heartbeat round trips of an innocent charger until ``stop`` is set."""
    ws = await connect(url, "BYSTANDER", "1.6")
    try:
        n = 0
        while not stop.is_set():
            n += 1
            started = time.perf_counter()
            await ws.send(json.dumps([2, f"hb{n}", "Heartbeat", {}]))
            answer = json.loads(await asyncio.wait_for(ws.recv(), REPLY_TIMEOUT))
            figures.bystander.append(time.perf_counter() - started)
            assert answer[:2] == [3, f"hb{n}"], answer
            await asyncio.sleep(pause)
    finally:
        await ws.close()


async def run(
    url: str, *, seed: int, frames: int, versions: tuple[str, ...] = ("1.6", "2.0.1"), db_path: Path | None = None
) -> Figures:
    """Fuzz one charger per version (``frames`` each) with a bystander beside them: at once, or one version
    after the other when ``db_path`` asks for the rows of refused frames to be compared."""
    figures = Figures()
    rows = Rows(db_path) if db_path is not None else None
    stop = asyncio.Event()
    watcher = asyncio.create_task(bystander(url, stop, figures))
    fuzzers = [
        fuzz_charger(url, f"FUZZ-{version}", version, list(generate(version, seed, frames)), figures, rows)
        for version in versions
    ]
    try:
        if rows is None:
            await asyncio.gather(*fuzzers)
        else:
            for fuzzer in fuzzers:
                await fuzzer
    finally:
        if rows is not None:
            for fuzzer in fuzzers:
                fuzzer.close()  # those not awaited because an earlier one failed (a no-op for the others)
        stop.set()
        await watcher
        if rows is not None:
            rows.close()
    return figures
