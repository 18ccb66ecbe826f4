"""The OCPP port's gate: request heads read, judged, answered or handed to picows with every byte."""

from __future__ import annotations

import asyncio
import base64
import json
import os
from typing import Any

import pytest

from chargewise.adapters.admission import feed, http_response, knock_from
from chargewise.domain.model import Registration
from chargewise.services.directory import entry_for
from chargewise.services.gatekeeper import Denial
from chargewise.services.passwords import hash_password
from tests.conftest import RunningServer

UPGRADE = (
    "GET /ocpp/{cid} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ocpp1.6\r\n"
)


class FakeTransport:
    def __init__(self, extra: dict[str, Any]) -> None:
        self.extra = extra

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self.extra.get(name, default)


def test_knock_from_a_request_head() -> None:
    auth = base64.b64encode(b"CP-1:secret:with:colons").decode()
    head = (UPGRADE.format(cid="CP-1") + f"authorization:  Basic {auth}").encode()
    cert = {"subject": ((("countryName", "DE"),), (("commonName", "CP-1"),))}
    knock = knock_from(head, FakeTransport({"peername": ("10.1.2.3", 5000), "ssl_object": object(), "peercert": cert}))  # type: ignore[arg-type]
    assert knock is not None
    assert (knock.charger_id, knock.credentials, knock.address) == ("CP-1", ("CP-1", "secret:with:colons"), "10.1.2.3")
    assert (knock.secure, knock.certificate_names) == (True, ("CP-1",))
    plain = knock_from(UPGRADE.format(cid="CP%2D2").encode(), FakeTransport({}))  # type: ignore[arg-type]
    assert plain is not None and (plain.charger_id, plain.credentials, plain.secure) == ("CP-2", None, False)
    assert knock_from(b"GET /a/b/c HTTP/1.1\r\nHost: x", FakeTransport({})) is None  # type: ignore[arg-type]
    assert knock_from(b"garbage", FakeTransport({})) is None  # type: ignore[arg-type]


def test_http_response() -> None:
    denial = Denial(status=429, reason="too many wrong passwords", headers=(("Retry-After", "7"),))
    head, _, body = http_response(denial).partition(b"\r\n\r\n")
    assert head.split(b"\r\n") == [b"HTTP/1.1 429 Too Many Requests", b"Content-Type: text/plain",
                                   b"Content-Length: 25", b"Connection: close", b"Retry-After: 7"]  # fmt: skip
    assert body == b"too many wrong passwords\n"


def test_feed_fills_a_buffered_protocol_in_its_buffer_sizes() -> None:
    class Small(asyncio.BufferedProtocol):
        def __init__(self) -> None:
            self.buffer = bytearray(7)
            self.got = b""

        def get_buffer(self, sizehint: int) -> bytearray:
            return self.buffer

        def buffer_updated(self, nbytes: int) -> None:
            self.got += bytes(self.buffer[:nbytes])

    protocol = Small()
    data = os.urandom(50)
    feed(protocol, data)
    assert protocol.got == data


def frame(text: str) -> bytes:
    """A masked client text frame (payload under 126 bytes)."""
    payload, mask = text.encode(), os.urandom(4)
    return bytes([0x81, 0x80 | len(payload)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


@pytest.mark.parametrize("password", [None, "the-password-of-cp-pieces"], ids=["judged-at-once", "after-scrypt"])
async def test_head_in_pieces_and_a_frame_right_behind_it(server: RunningServer, password: str | None) -> None:
    """Bytes read before the hand-over reach picows: a head sent in pieces and a frame sent with it."""
    port = int(server.ocpp_url.split(":")[2].split("/")[0])
    auth = ""
    if password is not None:
        charger = await server.app.store.add_charger("CP-PIECES", registration=Registration.ACCEPTED,
                                                     password_hash=hash_password(password))  # fmt: skip
        server.app.directory.put(entry_for(charger))
        auth = "Authorization: Basic " + base64.b64encode(f"CP-PIECES:{password}".encode()).decode() + "\r\n"
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = (UPGRADE.format(cid="CP-PIECES") + auth + "\r\n").encode()
    for piece in (head[:10], head[10:60]):
        writer.write(piece)
        await writer.drain()
        await asyncio.sleep(0.05)
    boot = json.dumps([2, "b", "BootNotification", {"chargePointVendor": "Acme", "chargePointModel": "X"}])
    writer.write(head[60:] + frame(boot))
    status = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    assert status.startswith(b"HTTP/1.1 101")
    answer = await asyncio.wait_for(reader.read(2), 5)  # the BootNotification's answer frame begins
    assert answer[0] == 0x81
    writer.close()


async def test_an_oversized_head_is_refused(server: RunningServer) -> None:
    port = int(server.ocpp_url.split(":")[2].split("/")[0])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(UPGRADE.format(cid="CP-1").encode() + b"X-Filler: " + b"a" * 20_000)
    assert (await asyncio.wait_for(reader.readline(), 5)).startswith(b"HTTP/1.1 431")
    writer.close()
