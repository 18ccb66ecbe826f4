"""The joint plan end to end: the ten single-phase EVs of ``test_smart_charging`` (63 A three-phase main, six
chargers with rotated phases, 1.6 and 2.0.1) in mode ``plan`` with a day-ahead price series, each with an
energy to deliver by its departure: five told through REST (PUT .../session), five learned from their id
token's past sessions (seeded in the store). The server is restarted in the middle of the run.

Asserted: every car has at least its energy (within 3 %) when it leaves, and no site phase ever carries more
than the main, sampled from what the simulated EVs draw (the figures their meter values report) every 50 ms.
The server runs on the simulator's clock (speed 20) and cycles every 0.5 s of real time (10 s simulated, so that
a 15-minute slot is 90 cycles; in real time it is 180): at speed 40 (20 s a cycle) one run in four left cars short,
the ramp limit and the held increases at slot edges costing more than a car's last slot could catch up. The run
takes about two minutes. REST needs live in memory: after the restart the five told ones charge as
``now`` (no target) and the five learned ones are learned again from the store.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from chargewise.adapters.site_files import read_site_file
from chargewise.bootstrap import App, Settings, start
from chargewise.charging.site_plan import slot_start
from chargewise.charging.sitefile import SiteFile
from chargewise.domain.model import OcppVersion
from chargewise.domain.ports import NewTransaction
from chargewise.services import smart_charging
from chargewise.services.central import Policy, UnknownChargerPolicy
from chargewise.services.connections import LinkSettings
from chargewise.simulator.runner import Runner
from chargewise.simulator.workload import Visit
from tests.e2e.test_smart_charging import LIMIT_A, ROTATIONS, FollowClock, site_phase_amps
from tests.simulator.ocpp_csms import until
from tests.simulator.test_runner import spec

pytestmark = [pytest.mark.slow, pytest.mark.timeout(400)]
SPEED = 20.0
ARRIVE_S = 120.0  # simulated seconds after the start
#: per car: (minutes from arrival to departure, kWh wanted); cars 0-3 on site L1, 4-6 on L2, 7-9 on L3
NEEDS = [(16, 0.4), (26, 0.6), (30, 0.6), (21, 0.5), (18, 0.5),
         (28, 0.7), (24, 0.5), (20, 0.4), (27, 0.6), (30, 0.7)]  # fmt: skip
TOLD = range(5)  # through REST; the others are learned


def write_site(folder: Path, begin: float) -> Path:
    start = slot_start(datetime.fromtimestamp(begin, UTC))
    prices = [{"start": (start + timedelta(minutes=15 * k)).isoformat(),
               "end": (start + timedelta(minutes=15 * (k + 1))).isoformat(),
               "price": 0.30 if k % 2 == 0 else 0.10} for k in range(16)]  # fmt: skip
    (folder / "prices.json").write_text(json.dumps({"name": "day-ahead", "currency": "EUR", "prices": prices}))
    lines = ["[site]", 'name = "garage"', "[tariff]", 'file = "prices.json"', "[nodes.main]", 'kind = "main"',
             f"limit_a = {LIMIT_A:g}"]  # fmt: skip
    for i in range(10):
        lines += [f"[chargers.SC{i}]", 'parent = "main"', "max_a = 32", 'mode = "plan"']
        if i in ROTATIONS:
            lines.append("wiring = [" + ", ".join(f'"{p}"' for p in ROTATIONS[i].split(",")) + "]")
    path = folder / "site.toml"
    path.write_text("\n".join(lines))
    return path


async def serve(data: Path, site: SiteFile, clock: FollowClock, ocpp_port: int = 0) -> App:
    settings = Settings(
        data_dir=data, db_url=f"sqlite+aiosqlite:///{data / 'chargewise.db'}", host="127.0.0.1",
        ocpp_port=ocpp_port, http_port=0, sites=(site,), admin_token="t",
        policy=Policy(unknown_chargers=UnknownChargerPolicy.ACCEPT, free_charging=True, heartbeat_interval=60),
        link=LinkSettings(call_timeout=10.0),
    )  # fmt: skip
    return await start(settings, clock=clock)


async def seed_history(app: App, begin: float) -> None:
    """Three past sessions a day for each learned token, ended at its departure's time of day."""
    for i in range(10):
        if i in TOLD:
            continue
        minutes, kwh = NEEDS[i]
        for day in (1, 2, 3):
            arrive = datetime.fromtimestamp(begin + ARRIVE_S, UTC) - timedelta(days=day)
            tx, _ = await app.store.start_transaction(NewTransaction(
                charger_id="SEED", evse_id=1, connector_id=1, id_tag=f"TAG{i}", started_at=arrive,
                meter_start_wh=0.0, dedupe_key=f"seed-{i}-{day}"))  # fmt: skip
            await app.store.stop_transaction(tx.id, stopped_at=arrive + timedelta(minutes=minutes),
                                             meter_stop_wh=kwh * 1000.0, reason="EVDisconnected")  # fmt: skip


async def tell(http: aiohttp.ClientSession, app: App, i: int, departure: datetime) -> None:
    assert app.http is not None
    url = f"http://127.0.0.1:{app.http.port}/api/v1/sites/garage/evses/SC{i}/1/session"
    body = {"energy_kwh": NEEDS[i][1], "departure": departure.isoformat()}
    async with http.put(url, json=body, headers={"Authorization": "Bearer t"}) as r:
        assert r.status == 200, await r.text()


async def test_ten_planned_evs_meet_their_departures_under_the_main_across_a_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(smart_charging, "CYCLE_S", 0.5)
    monkeypatch.setattr(smart_charging, "MIN_GAP_S", 0.25)
    begin = time.time()
    site = read_site_file(write_site(tmp_path, begin))
    assert site.tariff is not None and site.tariff.name == "day-ahead"
    wiring = {e.charger: e.wiring for e in site.site.evses.values()}
    clock = FollowClock()
    app = await serve(tmp_path, site, clock)
    await seed_history(app, begin)
    port = app.ocpp.port
    departures = [begin + ARRIVE_S + minutes * 60.0 for minutes, _ in NEEDS]
    specs = []
    for i in range(10):
        version = OcppVersion.V16 if i % 2 else OcppVersion.V201
        visit = Visit(charger=0, connector=1, arrive_s=begin + ARRIVE_S, depart_s=departures[i], energy_wh=60_000,
                      capacity_wh=80_000, soc=0.2, obc_max_a=32, phases=1, id_tag=f"TAG{i}")  # fmt: skip
        specs.append(dataclasses.replace(spec(f"SC{i}", version, ev_at=None, start=begin), visits=(visit,)))
    runner = Runner(specs, url=f"ws://127.0.0.1:{port}/ocpp", speed=SPEED, start=begin)
    clock.runner = runner
    worst, delivered = [0.0], [0.0] * 10
    sampling = True

    async def sample() -> None:
        while sampling:
            worst[0] = max(worst[0], *site_phase_amps(runner, wiring))
            for k, driver in enumerate(runner.drivers):
                ev = driver.fw.connectors[0].ev
                if ev is not None:
                    delivered[k] = max(delivered[k], ev.delivered_wh / 1000.0)
            await asyncio.sleep(0.05)

    await runner.start()
    sampler = asyncio.create_task(sample())
    plan_seen = None
    try:
        async with aiohttp.ClientSession() as http:
            await until(lambda: app.charging is not None and len(app.charging.sites["garage"].in_session) == 10, 30)
            assert app.charging is not None
            await until(lambda: len(app.charging.sites["garage"].learned) == 10, 10)
            site_loop = app.charging.sites["garage"]
            learned = {f"SC{i}/1" for i in range(5, 10)}
            await until(lambda: {e for e, n in site_loop.needs.items() if n.source == "learned"} == learned, 10)
            for i in TOLD:
                await tell(http, app, i, datetime.fromtimestamp(departures[i], UTC))
            await until(lambda: app.charging is not None and app.charging.sites["garage"].plan is not None
                        and len(app.charging.sites["garage"].plan.request.sessions) == 10, 15)  # fmt: skip
            assert app.http is not None
            async with http.get(f"http://127.0.0.1:{app.http.port}/api/v1/sites/garage/plan",
                                headers={"Authorization": "Bearer t"}) as r:  # fmt: skip
                assert r.status == 200
                plan_seen = await r.json()
            # restart the server mid-run (about ten simulated minutes in)
            await asyncio.sleep(max(0.0, begin + (ARRIVE_S + 600) / SPEED - time.time()))
            await app.stop()
            app = await serve(tmp_path, site, clock, ocpp_port=port)
            await until(lambda: len(app.registry) == 10, 30)
            # until the last car has left
            await asyncio.sleep(max(0.0, begin + (max(departures) - begin) / SPEED + 2.0 - time.time()))
    finally:
        sampling = False
        await sampler
        await runner.stop()
        await app.stop()
    assert plan_seen is not None and plan_seen["currency"] == "EUR" and len(plan_seen["evses"]) == 10
    assert all(e["explanation"] for e in plan_seen["evses"]) and len(plan_seen["sessions"]) == 10
    print(f"worst site phase {worst[0]:.1f} A; delivered {[round(d, 3) for d in delivered]} kWh")
    assert worst[0] <= LIMIT_A, f"a site phase carried {worst[0]:.1f} A over the {LIMIT_A:.0f} A main"
    short = [(i, round(delivered[i], 3), kwh) for i, (_, kwh) in enumerate(NEEDS) if delivered[i] < kwh * 0.97]
    assert not short, f"cars that left short of their energy (index, delivered, wanted): {short}"
    assert runner.errors() == []
