"""Demand response end to end: a real openleadr VTN on loopback sends a LOAD_DISPATCH event capping a site's
main breaker; the server's OpenADR 2.0b VEN opts in, the reconcile loop lowers the chargers' limits, and the
power the simulated EVs really draw falls under the cap within one cycle plus the profile round trip. When the
event ends, the power returns; the event's compliance (kW over the cap times minutes) is recorded.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from openleadr import OpenADRServer

from chargewise.adapters.openadr2 import Ven2Settings
from chargewise.bootstrap import Settings, start
from chargewise.charging.sitefile import parse
from chargewise.domain.model import OcppVersion
from chargewise.services.central import Policy, UnknownChargerPolicy
from chargewise.services.connections import LinkSettings
from chargewise.services.smart_charging import CYCLE_S
from chargewise.simulator.runner import Runner
from chargewise.simulator.workload import Visit
from tests.e2e.server_process import free_port
from tests.simulator.ocpp_csms import until
from tests.simulator.test_runner import spec

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::aiohttp.web.NotAppKeyWarning")]
CAP_KW = 15.0
SITE = """
[site]
name = "depot"
[nodes.main]
kind = "main"
limit_a = 63
""" + "".join(f'[chargers.DR{i}]\nparent = "main"\nmax_a = 16\n' for i in range(4))


def drawn_kw(runner: Runner) -> float:
    return sum(d.fw.connectors[0].draw.watts for d in runner.drivers) / 1000


async def test_an_openadr_cap_is_met_within_a_cycle_and_lifted_after(tmp_path: Path) -> None:
    answers: dict[str, list[str]] = {}

    def heard(ven_id: str, event_id: str, opt_type: str) -> None:
        answers.setdefault(event_id, []).append(opt_type)

    async def register(info: dict[str, Any]) -> tuple[str, str]:
        return "ven-depot", "reg-depot"

    vtn = OpenADRServer(vtn_id="VTN", http_host="127.0.0.1", http_port=free_port(),
                        requested_poll_freq=timedelta(seconds=0.5), show_fingerprint=False)  # fmt: skip
    vtn.add_handler("on_create_party_registration", register)
    await vtn.run()
    url = f"http://127.0.0.1:{vtn.http_port}/OpenADR2/Simple/2.0b"
    settings = Settings(
        data_dir=tmp_path, db_url=f"sqlite+aiosqlite:///{tmp_path / 'cw.db'}", host="127.0.0.1", ocpp_port=0,
        http_port=0, sites=(parse(SITE),), openadr2=Ven2Settings(vtn_url=url, ven_name="chargewise-depot"),
        policy=Policy(unknown_chargers=UnknownChargerPolicy.ACCEPT, free_charging=True), admin_token="t",
        link=LinkSettings(call_timeout=10.0),
    )  # fmt: skip
    app = await start(settings, with_http=False)
    begin = time.time()
    # the cars come once the chargers are under control (meter values every 10 s, asked at connect)
    visit = Visit(charger=0, connector=1, arrive_s=begin + 15, depart_s=begin + 36_000, energy_wh=60_000,
                  capacity_wh=80_000, soc=0.2, obc_max_a=16, phases=3, id_tag="TAG1")  # fmt: skip
    specs = [dataclasses.replace(spec(f"DR{i}", OcppVersion.V16 if i % 2 else OcppVersion.V201, ev_at=None,
                                      start=begin), visits=(visit,)) for i in range(4)]  # fmt: skip
    runner = Runner(specs, url=f"ws://127.0.0.1:{app.ocpp.port}/ocpp", speed=1.0, start=begin)
    await runner.start()
    try:
        await until(lambda: drawn_kw(runner) > 35, 40)  # four cars at ~15.5 A on three phases
        uncapped = drawn_kw(runner)
        starts = datetime.now(UTC) + timedelta(seconds=4)
        event_id = vtn.add_event(
            ven_id="ven-depot", signal_name="LOAD_DISPATCH", signal_type="setpoint",
            intervals=[{"dtstart": starts, "duration": timedelta(seconds=25), "signal_payload": CAP_KW}],
            targets=[{"resource_id": "main"}], callback=heard,
        )  # fmt: skip
        await until(lambda: answers.get(event_id) == ["optIn"], 10)
        await until(lambda: datetime.now(UTC) >= starts, 10)
        await until(lambda: drawn_kw(runner) <= CAP_KW, CYCLE_S + 3.0)  # one cycle plus the round trip
        met_after = (datetime.now(UTC) - starts).total_seconds()
        await asyncio.sleep(5)  # and it stays under the cap
        assert drawn_kw(runner) <= CAP_KW
        await until(lambda: datetime.now(UTC) >= starts + timedelta(seconds=25), 30)
        await until(lambda: drawn_kw(runner) > CAP_KW + 5, CYCLE_S + 3.0 + 20.0)  # ramps back up
        assert app.demand is not None
        recorded = None
        for _ in range(100):
            recorded = await app.demand.recorded_compliance(
                next(e.id for e in await app.demand.events() if e.origin == event_id)
            )
            if recorded is not None:
                break
            await asyncio.sleep(0.1)
        assert recorded is not None and recorded.cap_kw == CAP_KW
        # the record agrees: what was over the cap lasted at most until the cap was met (sampled once a cycle)
        print(f"cap met {met_after:.1f} s after the start; {uncapped:.1f} kW before; {recorded}")
        assert 0 <= recorded.kw_minutes_over <= (uncapped - CAP_KW) * (met_after + CYCLE_S) / 60
        assert recorded.covered_minutes > 0.3
    finally:
        await runner.stop()
        await app.stop()
        await vtn.stop()
    assert runner.errors() == []
