"""A charging station as the OCTT plays it: raw OCPP-J frames over `websockets`, no library in between.

Calls it sends wait for the CSMS's CallResult or CallError. Calls the CSMS sends are recorded in ``received`` and
answered at once from ``answers`` (a CallResult payload per action, or a CallError code via ``errors``), so a test
can send a command through REST and then look at exactly what reached the station.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

import websockets

ANSWER_WITHIN = 3.0  # seconds a station waits for the CSMS to answer one of its calls


@dataclass(frozen=True, kw_only=True, slots=True)
class Reply:
    """The CSMS's answer to one station call: a CallResult payload, or a CallError code."""

    payload: dict[str, Any] | None = None
    error_code: str | None = None


@dataclass(kw_only=True)
class Station:
    ws: websockets.ClientConnection
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    received: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    _pending: dict[str, asyncio.Future[Reply]] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=itertools.count)
    _reader: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._reader = asyncio.get_running_loop().create_task(self._read())

    async def call(self, action: str, payload: dict[str, Any]) -> Reply:
        """Send a Call and wait for the CSMS's answer (fails the test after ``ANSWER_WITHIN`` seconds)."""
        unique_id = f"st-{next(self._ids)}"
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self._pending[unique_id] = future
        await self.ws.send(json.dumps([2, unique_id, action, payload]))
        return await asyncio.wait_for(future, ANSWER_WITHIN)

    async def close(self) -> None:
        await self.ws.close()
        if self._reader is not None:
            self._reader.cancel()
            with suppress(asyncio.CancelledError):
                await self._reader

    async def _read(self) -> None:
        with suppress(websockets.ConnectionClosed):
            async for raw in self.ws:
                await self._on_frame(json.loads(raw))

    async def _on_frame(self, frame: list[Any]) -> None:
        if frame[0] == 2:  # a command from the CSMS: record it, answer it as told
            _, unique_id, action, payload = frame
            self.received.append((action, payload))
            if action in self.errors:
                await self.ws.send(json.dumps([4, unique_id, self.errors[action], "as the test told", {}]))
            else:
                await self.ws.send(json.dumps([3, unique_id, self.answers.get(action, {"status": "Accepted"})]))
        elif frame[0] in (3, 4) and frame[1] in self._pending:
            future = self._pending.pop(frame[1])
            future.set_result(Reply(payload=frame[2]) if frame[0] == 3 else Reply(error_code=frame[2]))


async def connect(ocpp_url: str, charger_id: str, version: str) -> Station:
    """Open a station's WebSocket (subprotocol ``ocpp1.6`` or ``ocpp2.0.1``) and start answering the CSMS."""
    subprotocol = "ocpp1.6" if version == "1.6" else "ocpp2.0.1"
    ws = await websockets.connect(f"{ocpp_url}/{charger_id}", subprotocols=[subprotocol])  # type: ignore[list-item]
    station = Station(ws=ws)
    station.start()
    return station
