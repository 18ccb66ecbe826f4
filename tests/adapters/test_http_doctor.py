"""``GET /api/v1/chargers/{id}/doctor`` over a real link: what the WebSocket port recorded (connection, ping
round trips, who closed) and what the handlers recorded (boot, RSSI) come back as findings and a timeline."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import websockets

from chargewise.doctor.findings import Cause
from chargewise.services.connections import LinkSettings
from tests.adapters.test_http_api import request
from tests.conftest import RunningServer, add_chargers, start_server

BOOT = [2, "b1", "BootNotification", {"chargePointVendor": "Elektra", "chargePointModel": "W22"}]
RSSI = [2, "r1", "DataTransfer", {"vendorId": "com.chargewise.net", "messageId": "Rssi",
                                  "data": '{"rssi":-58,"bssid":"02:00:00:00:00:01"}'}]  # fmt: skip


@pytest.fixture
async def pinging(tmp_path: Path) -> AsyncIterator[RunningServer]:
    server = await start_server(tmp_path / "data", link=LinkSettings(ping_interval=0.1, ping_timeout=2.0))
    try:
        yield server
    finally:
        await server.app.stop()


async def test_the_doctor_reports_what_the_link_and_the_handlers_recorded(pinging: RunningServer) -> None:
    await add_chargers(pinging.app, "CP1")
    async with websockets.connect(f"{pinging.ocpp_url}/CP1", subprotocols=["ocpp1.6"]) as ws:  # type: ignore[list-item]
        for call in (BOOT, RSSI):
            await ws.send(json.dumps(call))
            assert json.loads(await ws.recv())[0] == 3
        await asyncio.sleep(0.5)  # a few pings, answered by the client library
    await asyncio.sleep(0.1)  # the close reaches the server
    status, view = await request(pinging, "GET", "/api/v1/chargers/CP1/doctor?since=1h")
    assert status == 200, view
    assert view["charger_id"] == "CP1" and view["connected"] is False
    assert view["findings"] and {f["cause"] for f in view["findings"]} <= {c.value for c in Cause}
    assert all({"cause", "confidence", "evidence", "fix", "summary", "explanation"} <= set(f) for f in view["findings"])
    assert view["cause"] == view["findings"][0]["cause"]
    what = [(e["what"], e["detail"]) for e in view["timeline"]]
    assert what[0] == ("connected", "the charger connected from 127.0.0.1")
    closed = [detail for kind, detail in what if kind == "disconnected"]
    assert len(closed) == 1 and closed[0].startswith("the charger closed the connection (code 1000)")
    link = view["link"]
    assert link["connections"] == 1 and link["ping_p50_ms"] is not None and link["ping_loss"] == 0
    assert link["rssi_median_dbm"] == -58 and link["addresses"] == ["127.0.0.1"]


async def test_unknown_charger_and_bad_since_are_problems(server: RunningServer) -> None:
    status, body = await request(server, "GET", "/api/v1/chargers/NOPE/doctor")
    assert status == 404 and "unknown charger" in body["error"] and "chargers list" in body["fix"]
    await add_chargers(server.app, "CP1")
    status, body = await request(server, "GET", "/api/v1/chargers/CP1/doctor?since=soon")
    assert status == 400 and "since" in body["error"]
    status, body = await request(server, "GET", "/api/v1/chargers/CP1/doctor?sinse=1h")
    assert status == 400 and "sinse" in body["error"]


async def test_a_charger_that_never_connected_is_never_called_healthy(server: RunningServer) -> None:
    await add_chargers(server.app, "CP1")
    status, view = await request(server, "GET", "/api/v1/chargers/CP1/doctor")
    assert status == 200 and view["cause"] != Cause.HEALTHY.value and view["timeline"] == []
    assert any(f["tells_apart"] for f in view["findings"])  # which audit or probe tells the causes apart
