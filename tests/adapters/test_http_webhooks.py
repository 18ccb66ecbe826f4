"""Webhooks end to end: created over REST, fed by a real charger's connection, POSTed signed to a real aiohttp
receiver on loopback that fails the first attempts; the retries and the delivery status are visible."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import websockets
from aiohttp import web

from chargewise.bootstrap import App, Settings, start
from chargewise.services.deliveries import SIGNATURE, Backoff, verify


class Receiver:
    """Answers 500 to the first ``failures`` POSTs, then 204; keeps what it was sent."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.attempts = 0
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.app = web.Application()
        self.app.router.add_post("/hook", self.hook)
        self.runner = web.AppRunner(self.app)
        self.url = ""

    async def hook(self, request: web.Request) -> web.Response:
        self.attempts += 1
        if self.attempts <= self.failures:
            return web.Response(status=500)
        self.received.append((dict(request.headers), await request.read()))
        return web.Response(status=204)

    async def start(self) -> None:
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/hook"


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[App]:
    settings = Settings(data_dir=tmp_path, db_url=f"sqlite+aiosqlite:///{tmp_path / 'cw.db'}", host="127.0.0.1",
                        ocpp_port=0, http_port=0, admin_token="t",
                        webhook_backoff=Backoff(first_s=0.05, max_s=0.2, attempts=5))  # fmt: skip
    running = await start(settings)
    try:
        yield running
    finally:
        await running.stop()


async def rest(app: App, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    assert app.http is not None
    async with (
        aiohttp.ClientSession(headers={"Authorization": "Bearer t"}) as http,
        http.request(method, f"http://127.0.0.1:{app.http.port}{path}", json=body) as r,
    ):
        return r.status, None if r.status == 204 else await r.json()


async def until(check: Any, within_s: float = 10.0) -> None:
    deadline = time.monotonic() + within_s
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_events_reach_a_receiver_signed_after_its_failures(app: App) -> None:
    receiver = Receiver(failures=2)
    await receiver.start()
    try:
        status, made = await rest(app, "POST", "/api/v1/webhooks",
                                  {"url": receiver.url, "kinds": ["connection"], "chargers": ["HOOK-1"]})  # fmt: skip
        assert status == 201 and made["secret"] and made["kinds"] == ["connection"]
        app.central.events.publish(*_other_charger_event())  # filtered out: another charger
        async with websockets.connect(f"ws://127.0.0.1:{app.ocpp.port}/ocpp/HOOK-1", subprotocols=["ocpp1.6"]) as ws:  # type: ignore[list-item]
            await ws.send(json.dumps([2, "b", "BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"}]))
            await ws.recv()
            await until(lambda: receiver.received)
        headers, body = receiver.received[0]
        assert verify(made["secret"], body, headers[SIGNATURE])
        assert not verify("another secret", body, headers[SIGNATURE])
        event = json.loads(body)
        assert event["kind"] == "connection" and event["charger_id"] == "HOOK-1" and event["data"]["connected"]
        assert event["at"].endswith("Z") and headers["X-Chargewise-Event"] == "connection"
        assert receiver.attempts == 3  # two refused, then accepted
        status, seen = await rest(app, "GET", f"/api/v1/webhooks/{made['id']}")
        delivery = seen["delivery"]
        assert status == 200 and "secret" not in seen
        assert delivery["failed_attempts"] == 2 and delivery["last_error"].startswith("HTTP 500")
        assert delivery["delivered"] >= 1 and delivery["consecutive_failures"] == 0
        await until(lambda: len(receiver.received) >= 2)  # the disconnection follows
        assert json.loads(receiver.received[1][1])["data"] == {"connected": False}
        assert (await rest(app, "DELETE", f"/api/v1/webhooks/{made['id']}"))[0] == 204
        assert (await rest(app, "GET", "/api/v1/webhooks"))[1] == []
    finally:
        await receiver.runner.cleanup()


async def test_bad_webhooks_are_refused(app: App) -> None:
    for bad, what in (({"url": "ftp://x/y"}, "http"), ({"url": "http://x/y", "kinds": ["weather"]}, "weather"),
                      ({"kinds": []}, "url")):  # fmt: skip
        status, problem = await rest(app, "POST", "/api/v1/webhooks", bad)
        assert status == 422 and what in problem["message"], bad
    assert (await rest(app, "GET", "/api/v1/webhooks/nope"))[0] == 404


def _other_charger_event() -> tuple[Any, Any, str, dict[str, Any]]:
    from datetime import UTC, datetime

    from chargewise.services.events import Kind

    return Kind.CONNECTION, datetime.now(UTC), "SOMEONE-ELSE", {"connected": True}
