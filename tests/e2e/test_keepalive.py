"""A dead link (the charger stops answering WebSocket pings) is marked offline within interval + timeout."""

from __future__ import annotations

import asyncio
import base64
import os
import time
from pathlib import Path

import aiohttp

from chargewise.services.connections import LinkSettings
from tests.conftest import add_chargers, start_server


async def silent_charger(host: str, port: int, charger_id: str) -> asyncio.StreamWriter:
    """Complete a WebSocket handshake by hand, then never read or answer anything (a half-open link)."""
    return (await raw_charger(host, port, charger_id))[1]


async def raw_charger(host: str, port: int, charger_id: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A WebSocket handshake by hand; the caller reads the frames that follow."""
    reader, writer = await asyncio.open_connection(host, port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        f"GET /ocpp/{charger_id} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ocpp1.6\r\n\r\n".encode()
    )
    status = await reader.readline()
    assert b"101" in status, status
    while (await reader.readline()) not in (b"\r\n", b""):  # the rest of the upgrade response
        pass
    return reader, writer


async def test_dead_link_is_marked_offline(tmp_path: Path) -> None:
    link = LinkSettings(ping_interval=0.5, ping_timeout=0.5)
    server = await start_server(tmp_path / "data", link=link)
    await add_chargers(server.app, "HALFOPEN")  # known: a new id that never boots gets no record at all
    # taken before the connection opens: the server's first ping deadline starts when it accepts the link,
    # which is before silent_charger returns, so a clock started afterwards could see the link go a little
    # sooner than ping_timeout after it
    connected_at = time.monotonic()
    writer = await silent_charger("127.0.0.1", server.app.ocpp.port, "HALFOPEN")
    try:
        async with aiohttp.ClientSession(headers=server.headers) as http:
            charger: dict[str, object] = {}
            while time.monotonic() - connected_at < 5:
                async with http.get(f"{server.http_url}/api/v1/chargers/HALFOPEN") as r:
                    charger = await r.json() if r.status == 200 else {}
                if charger and not charger["connected"]:
                    break
                await asyncio.sleep(0.1)
            offline_after = time.monotonic() - connected_at
        assert charger["connected"] is False and charger["offline_since"] is not None
        # marked offline within interval + timeout (+ scheduling slack), and not before a pong was overdue (the
        # first ping goes out at a random point of the first interval)
        assert link.ping_timeout <= offline_after <= link.ping_interval + link.ping_timeout + 0.6, offline_after
    finally:
        writer.close()
        await server.app.stop()


async def test_answering_charger_stays_online(tmp_path: Path) -> None:
    import websockets

    server = await start_server(tmp_path / "data", link=LinkSettings(ping_interval=0.3, ping_timeout=0.3))
    await add_chargers(server.app, "ALIVE")
    try:
        async with websockets.connect(f"{server.ocpp_url}/ALIVE", subprotocols=["ocpp1.6"]):  # type: ignore[list-item]
            await asyncio.sleep(1.5)  # several ping rounds, answered by the client library
            async with (
                aiohttp.ClientSession(headers=server.headers) as http,
                http.get(f"{server.http_url}/api/v1/chargers/ALIVE") as r,
            ):
                charger = await r.json()
            assert charger["connected"] is True and charger["offline_since"] is None
    finally:
        await server.app.stop()


async def test_chargers_that_connect_together_are_first_pinged_at_spread_times(tmp_path: Path) -> None:
    link = LinkSettings(ping_interval=1.0, ping_timeout=5.0)
    server = await start_server(tmp_path / "data", link=link)
    chargers = []

    async def first_ping(reader: asyncio.StreamReader) -> float:
        while True:  # frames from the server: 2 header bytes (payloads here are under 126 bytes), then payload
            head = await reader.readexactly(2)
            await reader.readexactly(head[1] & 0x7F)
            if head[0] & 0x0F == 0x9:  # a ping
                return time.monotonic()

    try:
        chargers = [await raw_charger("127.0.0.1", server.app.ocpp.port, f"CP-{i}") for i in range(20)]
        connected = time.monotonic()
        pinged = await asyncio.wait_for(asyncio.gather(*(first_ping(r) for r, _ in chargers)), 5)
        after = [t - connected for t in pinged]
        # each within the first interval, at its own point of it: not all together one interval after connecting
        assert max(after) <= link.ping_interval + 0.3, after
        assert max(after) - min(after) >= 0.3, after
    finally:
        for _, writer in chargers:
            writer.close()
        await server.app.stop()
