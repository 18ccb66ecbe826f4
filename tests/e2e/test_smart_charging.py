"""Smart charging end to end: ten simulated EVs on a 63 A three-phase main breaker, some chargers installed
with rotated phases, half on OCPP 1.6 and half on 2.0.1, controlled by the server's reconcile loop.

Uncontrolled, the ten cars would draw 10 x 32 A per phase. The test samples what the simulated EVs really
draw (the same figures their meter values report) every 50 ms of real time, maps each charger's phases onto
the site's through the wiring, and checks that no site phase ever carries more than the breaker; that the
capacity a car frees when it is full goes to the others within two cycles; and that all of it holds across
a server restart in the middle of the run.

The server runs on the simulator's clock (speed 30), so that profile times (startSchedule, validTo) mean
the same on both sides, as they do between a real server and a real charger.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from chargewise.bootstrap import App, Settings, start
from chargewise.charging.sitefile import SiteFile, parse
from chargewise.domain.model import OcppVersion
from chargewise.services.central import Policy, UnknownChargerPolicy
from chargewise.services.connections import LinkSettings
from chargewise.simulator.runner import Runner
from chargewise.simulator.workload import Visit
from tests.simulator.ocpp_csms import until
from tests.simulator.test_runner import spec

pytestmark = pytest.mark.slow
SPEED = 30.0
LIMIT_A = 63.0
ROTATIONS = {i: "L2,L3,L1" for i in (4, 5, 6)} | {i: "L3,L1,L2" for i in (7, 8, 9)}  # charger index -> wiring


def site_file() -> str:
    lines = ["[site]", 'name = "garage"', "[nodes.main]", 'kind = "main"', f"limit_a = {LIMIT_A:g}"]
    for i in range(10):
        lines += [f"[chargers.SC{i}]", 'parent = "main"', "max_a = 32"]
        if i in ROTATIONS:
            lines.append("wiring = [" + ", ".join(f'"{p}"' for p in ROTATIONS[i].split(",")) + "]")
    return "\n".join(lines)


class FollowClock:
    """The server's clock: the simulator's, once the run has started."""

    def __init__(self) -> None:
        self.runner: Runner | None = None

    def now(self) -> datetime:
        clock = None if self.runner is None else self.runner.clock
        if clock is None:
            return datetime.now(UTC)
        return datetime.fromtimestamp(clock.sim(asyncio.get_running_loop().time()), UTC)


def site_phase_amps(runner: Runner, wiring: dict[str, tuple[int, int, int]]) -> list[float]:
    totals = [0.0, 0.0, 0.0]
    for driver in runner.drivers:
        draw = driver.fw.connectors[0].draw
        for own in range(draw.phases):
            totals[wiring[driver.fw.charger_id][own]] += draw.amps
    return totals


async def serve(data: Path, site: SiteFile, clock: FollowClock, ocpp_port: int = 0) -> App:
    settings = Settings(
        data_dir=data, db_url=f"sqlite+aiosqlite:///{data / 'chargewise.db'}", host="127.0.0.1",
        ocpp_port=ocpp_port, http_port=0, sites=(site,), admin_token="t",
        policy=Policy(unknown_chargers=UnknownChargerPolicy.ACCEPT, free_charging=True, heartbeat_interval=60),
        link=LinkSettings(call_timeout=10.0),
    )  # fmt: skip
    return await start(settings, clock=clock, with_http=False)


async def test_ten_evs_on_a_63_amp_main_never_exceed_it_and_share_what_a_full_car_frees(tmp_path: Path) -> None:
    site = parse(site_file())
    wiring = {e.charger: e.wiring for e in site.site.evses.values()}
    assert wiring["SC4"] == (1, 2, 0)  # the rotation reached the site model
    clock = FollowClock()
    app = await serve(tmp_path, site, clock)
    port = app.ocpp.port
    begin = time.time()
    specs = []
    for i in range(10):
        version = OcppVersion.V16 if i % 2 else OcppVersion.V201
        # SC0's car wants little: it is full after a few simulated minutes and frees its share
        energy = 1_000 if i == 0 else 60_000
        visit = Visit(charger=0, connector=1, arrive_s=begin + 120, depart_s=begin + 36_000, energy_wh=energy,
                      capacity_wh=80_000, soc=0.2, obc_max_a=32, phases=1, id_tag="TAG1")  # fmt: skip
        specs.append(dataclasses.replace(spec(f"SC{i}", version, ev_at=None, start=begin), visits=(visit,)))
    runner = Runner(specs, url=f"ws://127.0.0.1:{port}/ocpp", speed=SPEED, start=begin)
    clock.runner = runner
    worst = [0.0]
    sampling = True

    async def sample() -> None:
        while sampling:
            worst[0] = max(worst[0], *site_phase_amps(runner, wiring))
            await asyncio.sleep(0.05)

    await runner.start()
    sampler = asyncio.create_task(sample())
    try:
        drawing: Callable[[], int] = lambda: sum(1 for d in runner.drivers if d.fw.connectors[0].draw.amps >= 6)  # noqa: E731
        try:
            await until(lambda: drawing() == 10, 60)  # every car charges, each at its share
        except TimeoutError:
            alloc = app.charging.sites["garage"].previous if app.charging else None
            raise AssertionError(
                f"draws {[d.fw.connectors[0].draw for d in runner.drivers]} allocation {alloc} applied {app.charging.sites['garage'].applied if app.charging else None}"
            ) from None
        # the cars are single-phase: once detected, each is counted on its one site phase (four on L1, three
        # on L2 and three on L3 through the rotated wiring), and the shares grow past 63 A / 10
        await until(lambda: min(d.fw.connectors[0].draw.amps for d in runner.drivers) > 15, 60)
        shares = [d.fw.connectors[0].draw.amps for d in runner.drivers]
        # SC0's car is full: within two cycles (5 s each) the other three cars on site L1 draw more
        await until(lambda: runner.drivers[0].fw.connectors[0].draw.amps == 0, 90)
        full_at = time.monotonic()
        on_l1 = runner.drivers[1:4]
        await until(lambda: min(d.fw.connectors[0].draw.amps for d in on_l1) > max(shares[1:4]) + 1.0, 15)
        assert time.monotonic() - full_at <= 2 * 5.0 + 2.0  # two cycles, plus the profile round trips
        # restart the server mid-run: the cars go on charging within the limit (their failsafe and last
        # limits), and the new server takes over
        await app.stop()
        app = await serve(tmp_path, site, clock, ocpp_port=port)
        await until(lambda: len(app.registry) == 10, 60)
        await until(lambda: app.charging is not None and app.charging.sites["garage"].previous is not None, 20)
        await asyncio.sleep(12)  # a few cycles of the new server
        assert drawing() == 9
    finally:
        sampling = False
        await sampler
        await runner.stop()
        await app.stop()
    print(f"worst site phase {worst[0]:.1f} A; shares {shares}")
    assert worst[0] <= LIMIT_A, f"a site phase carried {worst[0]:.1f} A over the {LIMIT_A:.0f} A main"
    assert runner.errors() == []


async def test_the_deadline_policy_serves_the_car_that_leaves_first(tmp_path: Path) -> None:
    """Two cars on a 20 A circuit, the same energy wanted: the one leaving in an hour gets its full 16 A, the
    one leaving in ten hours waits; told through the session needs (REST or the EV's NotifyEVChargingNeeds)."""
    site = parse("\n".join([
        "[site]", 'name = "pair"', "[policy]", 'kind = "deadline"', "[nodes.main]", 'kind = "main"', "limit_a = 20",
        "[chargers.DL0]", 'parent = "main"', "max_a = 16", "[chargers.DL1]", 'parent = "main"', "max_a = 16",
    ]))  # fmt: skip
    clock = FollowClock()
    app = await serve(tmp_path, site, clock)
    begin = time.time()
    visit = Visit(charger=0, connector=1, arrive_s=begin + 10, depart_s=begin + 36_000, energy_wh=60_000,
                  capacity_wh=80_000, soc=0.2, obc_max_a=16, phases=3, id_tag="TAG1")  # fmt: skip
    specs = [dataclasses.replace(spec(f"DL{i}", OcppVersion.V201, ev_at=None, start=begin), visits=(visit,))
             for i in range(2)]  # fmt: skip
    runner = Runner(specs, url=f"ws://127.0.0.1:{app.ocpp.port}/ocpp", speed=1.0, start=begin)
    clock.runner = runner
    await runner.start()
    try:
        assert app.charging is not None
        now = datetime.now(UTC)
        app.charging.set_needs("DL0/1", 10.0, now + timedelta(hours=10), "rest")
        app.charging.set_needs("DL1/1", 10.0, now + timedelta(hours=1), "rest")
        early, late = runner.drivers[1].fw.connectors[0], runner.drivers[0].fw.connectors[0]
        await until(lambda: early.draw.amps > 15.5 and late.draw.amps == 0, 40)
        limits = app.charging.sites["pair"].previous
        assert limits is not None and limits.limits["DL1/1"].limit_a > limits.limits["DL0/1"].limit_a
    finally:
        await runner.stop()
        await app.stop()
    assert runner.errors() == []
