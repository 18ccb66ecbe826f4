"""Issue 13's acceptance for OTA campaigns: 50 simulated chargers (both OCPP versions, two templates, four of
them charging when the campaign starts), a canary of 5, over a real server on SQLite.

A bad image (its install fails) halts the campaign after the canary and touches no other charger. A good one
completes: every charger runs the new version after its reboot, none was sent the update or rebooted while
charging, and the server, restarted mid-campaign on the same ports and database, carries on. Simulated time
runs 30x; the server's campaign loop turns every 0.2 s."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import aiohttp

from chargewise.bootstrap import App, FirmwareSettings, Settings, start
from chargewise.domain.model import OcppVersion
from chargewise.services.central import Policy, UnknownChargerPolicy
from chargewise.services.connections import LinkSettings
from chargewise.simulator.faults import load_scenario
from chargewise.simulator.runner import ChargerSpec, Runner
from chargewise.simulator.templates import load_template
from chargewise.simulator.workload import Visit
from tests.simulator.ocpp_csms import until

SPEED = 30.0
CHARGING = {"OTA-07", "OTA-12", "OTA-23", "OTA-38"}  # an EV charges there from the start for 240 simulated s
GOOD = b"version=2.0.0\n" + bytes(range(256)) * 64
BAD = b"version=9.0.0\nsimulate=install-failed\n" + bytes(range(256)) * 16


def settings(data_dir: Path, ocpp_port: int = 0, http_port: int = 0) -> Settings:
    return Settings(
        data_dir=data_dir, db_url=f"sqlite+aiosqlite:///{data_dir / 'chargewise.db'}", host="127.0.0.1",
        ocpp_port=ocpp_port, http_port=http_port, admin_token="test-token", link=LinkSettings(call_timeout=5.0),
        policy=Policy(unknown_chargers=UnknownChargerPolicy.ACCEPT, free_charging=True, heartbeat_interval=300),
        firmware=FirmwareSettings(tick_s=0.2),
    )  # fmt: skip


def specs(start: float) -> list[ChargerSpec]:
    out = []
    for i in range(1, 51):
        cid = f"OTA-{i:02d}"
        visits = ()
        if cid in CHARGING:
            visits = (Visit(charger=0, connector=1, arrive_s=start + 5, depart_s=start + 240, energy_wh=80_000,
                            capacity_wh=90_000, soc=0.1, obc_max_a=32, phases=3, id_tag="TAG1"),)  # fmt: skip
        out.append(ChargerSpec(
            charger_id=cid, template=load_template("esp32-generic" if i % 4 in (0, 1) else "ota-slow-ac"),
            version=OcppVersion.V16 if i % 2 else OcppVersion.V201, scenario=load_scenario("healthy"),
            seed=f"ota/{cid}", visits=visits, password="",
        ))  # fmt: skip
    return out


class Api:
    def __init__(self, app: App) -> None:
        assert app.http is not None
        self.base = f"http://127.0.0.1:{app.http.port}/api/v1/firmware"
        self.headers = {"Authorization": f"Bearer {app.admin_token}"}

    async def send(self, method: str, path: str, **kw: Any) -> tuple[int, Any]:
        async with aiohttp.ClientSession(headers=self.headers) as http, http.request(method, self.base + path,
                                                                                     **kw) as r:  # fmt: skip
            return r.status, await r.json(content_type=None) if r.status != 204 else None

    async def upload(self, image: bytes, name: str, version: str) -> dict[str, Any]:
        form = aiohttp.FormData()
        form.add_field("file", image, filename=name, content_type="application/octet-stream")
        form.add_field("version", version)
        status, body = await self.send("POST", "/artifacts", data=form)
        assert status == 201, body
        return body  # type: ignore[no-any-return]

    async def campaign(self, campaign_id: str) -> dict[str, Any]:
        status, body = await self.send("GET", f"/campaigns/{campaign_id}")
        assert status == 200, body
        return body  # type: ignore[no-any-return]


async def eventually(api: Api, campaign_id: str, done: Any, within: float) -> dict[str, Any]:
    async with asyncio.timeout(within):
        while True:
            detail = await api.campaign(campaign_id)
            if done(detail):
                return detail
            await asyncio.sleep(0.2)


async def test_a_staged_campaign_over_50_chargers(tmp_path: Path) -> None:
    began = time.monotonic()
    app = await start(settings(tmp_path / "data"))
    runner = Runner(specs(time.time()), url=f"ws://127.0.0.1:{app.ocpp.port}/ocpp", speed=SPEED)
    await runner.start()
    try:
        await until(lambda: all(d.fw.registered for d in runner.drivers) and len(app.registry) == 50, 30)
        await until(lambda: all(d.fw.station.busy for d in runner.drivers if d.fw.charger_id in CHARGING), 10)
        api = Api(app)
        start_body = {"canary": 5, "batch": "15", "concurrency": 20, "retry_interval_s": 10,
                      "install_timeout_s": 120}  # fmt: skip

        # a bad image: the canary fails to install it, the campaign halts, nothing else is touched
        bad = await api.upload(BAD, "fw-9.0.0.bin", "9.0.0")
        status, first = await api.send("POST", "/campaigns", json={"version": "9.0.0", **start_body})
        assert status == 201, first
        # it halts at the first failure; the canary's chargers in flight are still followed to their end
        halted = await eventually(
            api,
            first["id"],
            lambda d: (
                d["campaign"]["state"] != "running"
                and all(t["stage"] in ("failed", "succeeded", "waiting") for t in d["chargers"])
            ),
            30,
        )
        assert halted["campaign"]["state"] == "halted", halted["campaign"]
        assert halted["campaign"]["progress"]["failed"] == 5 and halted["campaign"]["progress"]["waiting"] == 45
        canary = {t["charger_id"] for t in halted["chargers"] if t["group"] == 0}
        assert all(t["detail"] == "the installation failed" for t in halted["chargers"] if t["group"] == 0)
        touched = {d.fw.charger_id for d in runner.drivers if d.fw.stats.get("firmware_updates", 0)}
        assert touched == canary and len({d.fw.version for d in runner.drivers if d.fw.charger_id in canary}) == 2
        assert (await api.send("POST", f"/campaigns/{first['id']}/abort"))[0] == 200

        # a good image: canary, then batches of 15, never more than 20 at once, never while charging
        good = await api.upload(GOOD, "fw-2.0.0.bin", "2.0.0")
        status, second = await api.send("POST", "/campaigns", json={"version": "2.0.0", **start_body})
        assert status == 201, second
        assert second["groups"] == 4 and second["progress"]["waiting"] == 50
        await eventually(api, second["id"], lambda d: d["campaign"]["group"] >= 2, 60)

        # the server restarts mid-campaign, on the same ports and database
        ports = app.ocpp.port, app.http.port if app.http else 0
        await app.stop()
        restarted_at = time.time()
        app = await start(settings(tmp_path / "data", *ports))
        api = Api(app)
        done = await eventually(api, second["id"], lambda d: d["campaign"]["state"] != "running", 90)
        assert done["campaign"]["state"] == "completed", (
            done["campaign"],
            [t for t in done["chargers"] if t["stage"] != "succeeded"],
        )
        assert done["campaign"]["progress"]["succeeded"] == 50
        resumed = [n for n in done["history"] if n["text"] == "UpdateFirmware sent"
                   and _epoch(n["at"]) >= restarted_at]  # fmt: skip
        assert resumed, "no charger was started after the restart"

        # every charger runs 2.0.0, reported at its boot; none was updated during a session
        await until(lambda: all(d.fw.firmware_version == "2.0.0" for d in runner.drivers), 10)
        booted = {c.id: c.boot.firmware_version if c.boot else None for c in await app.store.list_chargers()}
        assert set(booted.values()) == {"2.0.0"} and len(booted) == 50
        stats = [d.fw.stats for d in runner.drivers]
        assert sum(s.get("update_while_charging", 0) + s.get("reboot_while_charging", 0) for s in stats) == 0
        for cid in CHARGING:  # they were charging when it began: updated once their session ended
            assert [tx.stopped_at is not None for tx in await app.store.list_transactions(charger_id=cid)] == [True]

        # every download was logged with its byte range
        status, detail = await api.send("GET", f"/artifacts/{good['id']}")
        ranges = {(d["first_byte"], d["last_byte"]) for d in detail["downloads"]}
        assert {d["charger_id"] for d in detail["downloads"]} == booted.keys() and ranges == {(0, len(GOOD) - 1)}
        assert bad["version"] == "9.0.0" and runner.errors() == []
    finally:
        await runner.stop()
        await app.stop()
    assert time.monotonic() - began < 120


def _epoch(text: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
