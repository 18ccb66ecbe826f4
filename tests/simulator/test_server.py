"""The simulator against our own server (the ``server`` fixture of tests/conftest.py): what its REST API shows."""

from __future__ import annotations

import time
from typing import Any

import aiohttp
import pytest

from chargewise.domain.model import OcppVersion
from chargewise.simulator.site import start_demo_site

from ..conftest import RunningServer
from .ocpp_csms import until
from .test_runner import Runner, spec

V16, V201 = OcppVersion.V16, OcppVersion.V201


async def rest(server: RunningServer, path: str, body: dict[str, Any] | None = None) -> Any:
    async with aiohttp.ClientSession(headers=server.headers) as http:
        method = http.post if body is not None else http.get
        async with method(server.http_url + path, json=body) as response:
            assert response.status < 500, await response.text()
            return await response.json()


async def transactions(server: RunningServer, charger_id: str) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = await rest(server, f"/api/v1/transactions?charger_id={charger_id}")
    return result


@pytest.mark.parametrize("version", [V16, V201], ids=["1.6", "2.0.1"])
async def test_boot_transaction_and_energy_show_in_the_rest_api(server: RunningServer, version: OcppVersion) -> None:
    start = time.time()
    charger_id = f"SRV{version.value.replace('.', '')}"
    runner = Runner([spec(charger_id, version, start=start)], url=server.ocpp_url, speed=60, start=start)
    await runner.start()
    try:
        latest: list[dict[str, Any]] = []

        async def has_energy() -> bool:
            latest[:] = await transactions(server, charger_id)
            return bool(latest) and (latest[0]["energy_wh"] or 0) > 1000

        await _eventually(has_energy, 15)
        charger = await rest(server, f"/api/v1/chargers/{charger_id}")
        assert charger["connected"] and charger["ocpp_version"] == version.value
        assert charger["boot"]["vendor"] == "Generic" and charger["boot"]["model"] == "ESP32 OCPP"
        tx = latest[0]
        assert tx["active"] and tx["id_tag"] == "TAG1"
        local = runner.drivers[0].fw.connectors[0].register_wh
        assert tx["energy_wh"] <= local  # the server has what the charger sent so far
    finally:
        await runner.stop()
    assert runner.errors() == []


async def test_a_10_amp_profile_sent_through_the_rest_api_limits_the_ev(server: RunningServer) -> None:
    start = time.time()
    runner = Runner([spec("SRV-PROFILE", V201, start=start)], url=server.ocpp_url, speed=60, start=start)
    await runner.start()
    try:
        await until(lambda: runner.drivers[0].fw.connectors[0].tx is not None and runner.summary().connected, 10)
        fw = runner.drivers[0].fw
        tx_id = fw.connectors[0].tx.id  # type: ignore[union-attr]
        profile = {"id": 1, "stackLevel": 1, "chargingProfilePurpose": "TxProfile", "chargingProfileKind": "Relative",
                   "transactionId": tx_id, "chargingSchedule": [{"id": 1, "chargingRateUnit": "A",
                   "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 10}]}]}  # fmt: skip
        call = {"action": "SetChargingProfile", "payload": {"evseId": 1, "chargingProfile": profile}}
        answer = await rest(server, "/api/v1/chargers/SRV-PROFILE/calls", call)
        assert answer["result"] == {"status": "Accepted"}
        await until(lambda: fw.connectors[0].draw.amps == 10, 2)
    finally:
        await runner.stop()


async def test_demo_site_connects_and_charges_against_our_server(server: RunningServer) -> None:
    site = await start_demo_site(server.ocpp_url, speed=30, seed=3, id_prefix="demo-")
    try:
        await until(lambda: sum(r.phase == "accepted" for r in site.state()) >= 18, 20)
        await until(lambda: sum(r.power_w > 0 for r in site.state()) >= 5, 20)
        rows = site.state()
        assert len(rows) == 20 and {r.version for r in rows} == {"1.6", "2.0.1"}
        assert {r.site for r in rows} == {"home-1", "home-2", "workplace"}
        listed = await rest(server, "/api/v1/chargers")
        assert sum(1 for c in listed if c["id"].startswith("demo-") and c["connected"]) >= 18
        assert "kW now" in str(site.table().title)
    finally:
        await site.stop()
    assert site.runner.errors() == []


async def _eventually(check: Any, within: float) -> None:
    import asyncio

    async with asyncio.timeout(within):
        while True:
            if await check():
                return
            await asyncio.sleep(0.2)
