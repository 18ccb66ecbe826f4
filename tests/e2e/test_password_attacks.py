"""Wrong passwords cost their senders, never the chargers already served (scrypt off the loop, throttling)."""

from __future__ import annotations

import asyncio
import base64
import json
import statistics
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import websockets
import websockets.sync.client

from chargewise.adapters.ws_server import LinkSettings
from chargewise.bootstrap import App, Settings, start
from chargewise.domain.model import Registration
from chargewise.services import directory as directory_module
from chargewise.services.central import Policy, UnknownChargerPolicy
from chargewise.services.directory import entry_for
from chargewise.services.gatekeeper import AuthLimits
from chargewise.services.passwords import hash_password, verify_password

ATTACKERS = 8
ATTACK_SECONDS = 3.0
BOOT = json.dumps([2, "b", "BootNotification", {"chargePointVendor": "Acme", "chargePointModel": "X"}])


async def serve(data_dir: Path, auth: AuthLimits) -> App:
    settings = Settings(
        data_dir=data_dir, db_url=f"sqlite+aiosqlite:///{data_dir / 'chargewise.db'}", host="127.0.0.1",
        ocpp_port=0, http_port=0, policy=Policy(unknown_chargers=UnknownChargerPolicy.ACCEPT),
        link=LinkSettings(call_timeout=5.0), admin_token="test-token", auth=auth,
    )  # fmt: skip
    return await start(settings, with_http=False)


@pytest.fixture
async def unthrottled(tmp_path: Path) -> AsyncIterator[App]:
    """A server with throttling off: only moving scrypt off the loop protects the bystander."""
    app = await serve(tmp_path / "data", AuthLimits(charger_failures=0, address_failures=0))
    try:
        yield app
    finally:
        await app.stop()


async def add_secured(app: App, charger_id: str, password: str) -> None:
    charger = await app.store.add_charger(charger_id, registration=Registration.ACCEPTED,
                                          password_hash=hash_password(password))  # fmt: skip
    app.directory.put(entry_for(charger))


async def knock(port: int, charger_id: str, password: str, source: str = "127.0.0.1") -> int:
    """One upgrade request with Basic auth; the HTTP status it got."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
    auth = base64.b64encode(f"{charger_id}:{password}".encode()).decode()
    writer.write(
        f"GET /ocpp/{charger_id} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        f"Sec-WebSocket-Protocol: ocpp1.6\r\nAuthorization: Basic {auth}\r\n\r\n".encode()
    )
    status = int((await reader.readline()).split()[1])
    writer.close()
    return status


async def attack(port: int, charger_id: str, until: float, statuses: list[int]) -> None:
    attempt = 0
    while time.monotonic() < until:
        attempt += 1
        statuses.append(await knock(port, charger_id, f"wrong-password-number-{attempt}"))


def heartbeat_round_trips(port: int, attack_started: threading.Event, until: float) -> list[float]:
    """The bystander, on its own thread (the server's event loop is the test's): boots, then times Heartbeats."""
    trips: list[float] = []
    with websockets.sync.client.connect(f"ws://127.0.0.1:{port}/ocpp/BYSTANDER", subprotocols=["ocpp1.6"]) as ws:  # type: ignore[list-item]
        ws.send(BOOT)
        ws.recv(timeout=5)
        attack_started.wait(5)
        while time.monotonic() < until:
            sent = time.perf_counter()
            ws.send(json.dumps([2, f"hb{len(trips)}", "Heartbeat", {}]))
            ws.recv(timeout=10)
            trips.append(time.perf_counter() - sent)
            time.sleep(0.02)
    return trips


async def test_wrong_passwords_do_not_slow_down_other_chargers(unthrottled: App) -> None:
    """Before the fix, scrypt ran on the event loop: 8 attackers raised every charger's Heartbeat p50 to
    ~250 ms. Now the bystander's round trip stays that of an idle server."""
    port = unthrottled.ocpp.port
    for n in range(ATTACKERS):
        await add_secured(unthrottled, f"VICTIM-{n}", "the-real-password-of-victim")
    started = threading.Event()
    until = time.monotonic() + ATTACK_SECONDS + 1.0
    bystander = asyncio.create_task(asyncio.to_thread(heartbeat_round_trips, port, started, until))
    await asyncio.sleep(1.0)  # the bystander connects and boots on a quiet server
    statuses: list[int] = []
    attackers = [asyncio.create_task(attack(port, f"VICTIM-{n}", until, statuses)) for n in range(ATTACKERS)]
    started.set()
    trips = await bystander
    await asyncio.gather(*attackers)
    p50 = statistics.median(trips)
    print(f"\n{len(statuses)} wrong passwords refused, bystander Heartbeat p50 {p50 * 1000:.1f} ms "
          f"max {max(trips) * 1000:.1f} ms over {len(trips)}")  # fmt: skip
    assert set(statuses) == {401}
    assert len(statuses) >= ATTACKERS * 2  # every attacker got answers: the attack really ran
    assert p50 < 0.050


async def test_a_charger_id_over_its_limit_is_refused_without_scrypt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scrypts: list[str] = []

    def counting(password: str, stored: str) -> bool:
        scrypts.append(password)
        return verify_password(password, stored)

    monkeypatch.setattr(directory_module, "verify_password", counting)
    app = await serve(tmp_path / "data", AuthLimits(charger_failures=3, address_failures=100, window=60))
    try:
        await add_secured(app, "CP-1", "the-real-password-of-cp-1")
        port = app.ocpp.port
        assert [await knock(port, "CP-1", f"wrong-{n}") for n in range(3)] == [401, 401, 401]
        assert await knock(port, "CP-1", "wrong-again") == 429
        assert await knock(port, "CP-1", "the-real-password-of-cp-1") == 429  # no scrypt for anyone now
        assert scrypts == ["wrong-0", "wrong-1", "wrong-2"]
        assert await knock(port, "CP-2", "anything") == 101  # unknown chargers (policy accept) are not throttled
    finally:
        await app.stop()


async def test_a_known_good_password_is_admitted_while_its_address_is_throttled(tmp_path: Path) -> None:
    app = await serve(tmp_path / "data", AuthLimits(charger_failures=100, address_failures=2, window=60))
    try:
        await add_secured(app, "CP-1", "the-real-password-of-cp-1")
        await add_secured(app, "CP-2", "the-real-password-of-cp-2")
        port = app.ocpp.port
        assert await knock(port, "CP-1", "the-real-password-of-cp-1") == 101  # cached from now on
        assert [await knock(port, "CP-2", "wrong"), await knock(port, "CP-2", "wrong")] == [401, 401]
        assert await knock(port, "CP-2", "the-real-password-of-cp-2") == 429  # the address is over its limit
        assert await knock(port, "CP-1", "the-real-password-of-cp-1") == 101  # a neighbour behind the same NAT
        assert await knock(port, "CP-2", "wrong", source="127.0.0.2") == 401  # another address is not throttled
    finally:
        await app.stop()
