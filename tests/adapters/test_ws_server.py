"""The OCPP transport adapter over real sockets: closing handshakes, one listener per port unless shared, one
log line per rejected frame within each charger's budget, and frame tracing."""

from __future__ import annotations

import asyncio
import base64
import errno
import json
import logging
import os
import struct
from dataclasses import replace
from pathlib import Path

import pytest
import websockets

from chargewise.bootstrap import start
from chargewise.cli import ChargerFilter, build_parser
from chargewise.handlers.dispatch import LogBudget
from tests.conftest import RunningServer, start_server


async def handshake(port: int, charger_id: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        f"GET /ocpp/{charger_id} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ocpp1.6\r\n\r\n".encode()
    )
    assert b" 101 " in await reader.readline()
    while (await reader.readline()) not in (b"\r\n", b""):
        pass
    return reader, writer


def masked_close(payload: bytes) -> bytes:
    """A client's CLOSE frame (clients mask; the mask of zeros leaves the payload as it is)."""
    return bytes([0x88, 0x80 | len(payload)]) + b"\0\0\0\0" + payload


async def server_close_frame(reader: asyncio.StreamReader) -> bytes:
    """The payload of the next CLOSE frame the server sends (its frames are small and unmasked)."""
    while True:
        head = await asyncio.wait_for(reader.readexactly(2), 5)
        payload = await reader.readexactly(head[1] & 0x7F)
        if head[0] & 0x0F == 0x8:
            return payload


@pytest.mark.parametrize(
    ("sent", "echoed"),
    [(b"", 1000), (struct.pack("!H", 1000), 1000), (struct.pack("!H", 1001) + b"bye", 1001),
     (struct.pack("!H", 4000), 4000)],
)  # fmt: skip
async def test_a_close_is_answered_with_a_real_code(server: RunningServer, sent: bytes, echoed: int) -> None:
    reader, writer = await handshake(server.app.ocpp.port, "CLOSER")
    try:
        writer.write(masked_close(sent))  # RFC 6455 5.5.1: a close frame may carry no code at all
        payload = await server_close_frame(reader)
        assert len(payload) >= 2 and struct.unpack("!H", payload[:2])[0] == echoed, payload  # never code 0
    finally:
        writer.close()


async def test_a_second_server_on_the_same_port_fails_unless_shared(server: RunningServer, tmp_path: Path) -> None:
    taken = replace(server.app.settings, data_dir=tmp_path / "other", db_url=f"sqlite+aiosqlite:///{tmp_path}/o.db",
                    ocpp_port=server.app.ocpp.port)  # fmt: skip
    with pytest.raises(OSError) as failed:
        await start(taken, with_http=False)
    assert failed.value.errno == errno.EADDRINUSE


async def test_servers_that_share_the_port_both_listen(tmp_path: Path) -> None:
    first = await start_server(tmp_path / "a")
    await first.app.stop()
    shared = replace(first.app.settings, share_port=True, http_port=0)
    one = await start(shared, with_http=False)
    try:
        other = replace(shared, ocpp_port=one.ocpp.port, data_dir=tmp_path / "b",
                        db_url=f"sqlite+aiosqlite:///{tmp_path}/b.db")  # fmt: skip
        two = await start(other, with_http=False)
        await two.stop()
    finally:
        await one.stop()


async def test_a_flood_of_bad_frames_writes_a_few_log_lines(
    server: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    async with websockets.connect(f"{server.ocpp_url}/FLOOD", subprotocols=["ocpp1.6"]) as ws:  # type: ignore[list-item]
        with caplog.at_level(logging.DEBUG, logger="chargewise.handlers.dispatch"):
            for i in range(50):
                await ws.send(f'[2, "{i}", "Heartbeat", {{')  # unreadable JSON, answered each time
                assert json.loads(await ws.recv())[2] == "FormationViolation"
    lines = [r for r in caplog.records if r.name == "chargewise.handlers.dispatch"]
    assert len(lines) == LogBudget.BURST  # one line per rejected frame, until the charger's budget is spent
    assert all(r.getMessage().startswith("FLOOD: rejected a message: ") and r.exc_info is None for r in lines)


async def test_frames_are_traced_per_charger(server: RunningServer, caplog: pytest.LogCaptureFixture) -> None:
    async with websockets.connect(f"{server.ocpp_url}/TRACED", subprotocols=["ocpp1.6"]) as ws:  # type: ignore[list-item]
        with caplog.at_level(logging.DEBUG, logger="chargewise.frames"):
            await ws.send('[2,"h1","Heartbeat",{}]')
            await ws.recv()
    frames = [r.getMessage() for r in caplog.records if r.name == "chargewise.frames"]
    assert frames[0] == 'TRACED <- [2,"h1","Heartbeat",{}]'
    assert frames[1].startswith('TRACED -> [4,"h1","SecurityError",')  # not booted: refused, and traced


def test_trace_options_pick_chargers() -> None:
    args = build_parser().parse_args(["serve", "-vv", "--trace", "CP-1", "--trace", "CP-2"])
    assert (args.verbose, args.trace) == (2, ["CP-1", "CP-2"])
    only = ChargerFilter({"CP-1"})
    record = logging.LogRecord("chargewise.frames", logging.DEBUG, __file__, 1, "%s <- %s", ("CP-1", "[]"), None)
    other = logging.LogRecord("chargewise.frames", logging.DEBUG, __file__, 1, "%s <- %s", ("CP-3", "[]"), None)
    assert only.filter(record) and not only.filter(other)
