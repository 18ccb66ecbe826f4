"""Independent charger implementations: the `ocpp` package's ChargePoint client over `websockets`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

import websockets
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v201 import ChargePoint as ChargePoint201


@asynccontextmanager
async def connect(
    url: str, charger_id: str, version: str, **kwargs: Any
) -> AsyncIterator[ChargePoint16 | ChargePoint201]:
    """Connect an `ocpp` library client to ``url/charger_id`` and run its receive loop while in the block."""
    subprotocol = "ocpp1.6" if version == "1.6" else "ocpp2.0.1"
    async with websockets.connect(f"{url}/{charger_id}", subprotocols=[subprotocol], **kwargs) as ws:
        cls = ChargePoint16 if version == "1.6" else ChargePoint201
        cp = cls(charger_id, ws)
        task = asyncio.create_task(cp.start())
        try:
            yield cp
        finally:
            task.cancel()
            with suppress(asyncio.CancelledError, websockets.ConnectionClosed):
                await task
