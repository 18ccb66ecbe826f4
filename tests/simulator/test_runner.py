"""The simulator over real WebSockets against an independent minimal CSMS on the ``ocpp`` library."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import math
import random
import statistics
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import msgspec
import pytest
from ocpp.v16 import call as call16
from ocpp.v201 import call as call201

from chargewise.domain.model import OcppVersion
from chargewise.simulator import workload
from chargewise.simulator.faults import Scenario, load_scenario
from chargewise.simulator.runner import (
    WARM_START_S,
    ChargerSpec,
    Runner,
    local_midnight,
    place_visits,
    plan,
    warm_start,
)
from chargewise.simulator.templates import Template, load_template
from chargewise.simulator.workload import Visit

from .ocpp_csms import Csms
from .pair import T0, Pair

V16, V201 = OcppVersion.V16, OcppVersion.V201
BOTH = pytest.mark.parametrize("version", [V16, V201], ids=["1.6", "2.0.1"])
SPEED = 60.0  # a simulated minute per real second


def template(name: str = "esp32-generic", **keepalive: Any) -> Template:
    t = load_template(name)
    return msgspec.structs.replace(t, keepalive=msgspec.structs.replace(t.keepalive, **keepalive))


def spec(
    charger_id: str,
    version: OcppVersion,
    *,
    tpl: Template | None = None,
    scenario: str | Scenario = "healthy",
    ev_at: float | None = 5.0,
    tag: str | None = "TAG1",
    start: float,
) -> ChargerSpec:
    visits = ()
    if ev_at is not None:
        visits = (Visit(charger=0, connector=1, arrive_s=start + ev_at, depart_s=start + 36_000, energy_wh=60_000,
                        capacity_wh=80_000, soc=0.2, obc_max_a=32, phases=3, id_tag=tag),)  # fmt: skip
    return ChargerSpec(
        charger_id=charger_id,
        template=tpl or template(),
        version=version,
        scenario=load_scenario(scenario) if isinstance(scenario, str) else scenario,
        seed=f"test/{charger_id}",
        visits=visits,
    )


@asynccontextmanager
async def simulating(csms: Csms, *specs: ChargerSpec, speed: float = SPEED, start: float) -> AsyncIterator[Runner]:
    runner = Runner(list(specs), url=csms.url, speed=speed, start=start)
    await runner.start()
    try:
        yield runner
    finally:
        await runner.stop()
    assert runner.errors() == []


def meter_currents(csms: Csms, charger_id: str) -> list[float]:
    """Current.Import L1 of each meter message the CSMS received (both versions)."""
    out = []
    for r in csms.messages(charger_id):
        if r.action == "MeterValues" or (
            r.action == "TransactionEvent" and r.payload["trigger_reason"] == "MeterValuePeriodic"
        ):
            for sv in r.payload["meter_value"][0]["sampled_value"]:
                if sv["measurand"] == "Current.Import" and sv.get("phase") == "L1":
                    out.append(float(sv["value"]))
    return out


@BOTH
async def test_boot_heartbeat_authorize_start_meter_values_stop(version: OcppVersion) -> None:
    start = time.time()
    visit = Visit(charger=0, connector=1, arrive_s=start + 30, depart_s=start + 400, energy_wh=60_000,
                  capacity_wh=80_000, soc=0.2, obc_max_a=32, phases=3, id_tag="TAG1")  # fmt: skip
    charger = dataclasses.replace(spec("R1", version, ev_at=None, start=start), visits=(visit,))
    async with Csms(boot_interval=60) as csms, simulating(csms, charger, start=start):
        stop = "StopTransaction" if version is V16 else "TransactionEvent"
        await csms.wait_for(
            lambda: any(r.payload.get("event_type", "Ended") == "Ended" for r in csms.messages("R1", stop)), 15
        )
        await csms.wait_for(lambda: csms.messages("R1", "Heartbeat"), 10)
    actions = [r.action for r in csms.messages("R1")]
    assert actions[0] == "BootNotification" and "Authorize" in actions and "StatusNotification" in actions
    assert len(meter_currents(csms, "R1")) >= 5 and set(meter_currents(csms, "R1")) == {32.0}
    assert csms.headers["R1"] is None  # the ESP32 template runs security profile 0


@BOTH
async def test_remote_start_and_stop(version: OcppVersion) -> None:
    start = time.time()
    async with Csms() as csms, simulating(csms, spec("R2", version, tag=None, start=start), start=start):
        await csms.wait_for(lambda: "R2" in csms.points and len(csms.messages("R2", "StatusNotification")) >= 2, 10)
        await asyncio.sleep(0.3)  # the EV is plugged in at 5 s simulated
        if version is V16:
            answer = await csms.call("R2", call16.RemoteStartTransaction(id_tag="APP", connector_id=1))
        else:
            request = call201.RequestStartTransaction(
                id_token={"id_token": "APP", "type": "Central"}, remote_start_id=1
            )
            answer = await csms.call("R2", request)
        assert answer.status == "Accepted"
        started = "StartTransaction" if version is V16 else "TransactionEvent"
        await csms.wait_for(lambda: csms.messages("R2", started), 5)
        if version is V16:
            tx_id = csms.messages("R2", "StartTransaction")[0].payload["assigned"]
            answer = await csms.call("R2", call16.RemoteStopTransaction(transaction_id=tx_id))
        else:
            tx_id = csms.messages("R2", "TransactionEvent")[0].payload["transaction_info"]["transaction_id"]
            answer = await csms.call("R2", call201.RequestStopTransaction(transaction_id=tx_id))
        assert answer.status == "Accepted"
        if version is V16:
            await csms.wait_for(lambda: csms.messages("R2", "StopTransaction"), 5)
            assert csms.messages("R2", "StopTransaction")[0].payload["reason"] == "Remote"
        else:
            ended = lambda: [r for r in csms.messages("R2", "TransactionEvent") if r.payload["event_type"] == "Ended"]  # noqa: E731
            await csms.wait_for(ended, 5)
            assert ended()[0].payload["transaction_info"]["stopped_reason"] == "Remote"


@BOTH
async def test_a_10_amp_tx_profile_is_drawn_within_one_meter_interval_and_clearing_restores_the_default(
    version: OcppVersion,
) -> None:
    start = time.time()
    async with Csms() as csms, simulating(csms, spec("R3", version, start=start), start=start):
        await csms.wait_for(lambda: len(meter_currents(csms, "R3")) >= 1, 10)
        assert meter_currents(csms, "R3")[-1] == 32.0
        schedule = {"charging_rate_unit": "A", "charging_schedule_period": [{"start_period": 0, "limit": 10}]}
        if version is V16:
            tx_id = csms.messages("R3", "StartTransaction")[0].payload["assigned"]
            profile = {"charging_profile_id": 1, "transaction_id": tx_id, "stack_level": 1,
                       "charging_profile_purpose": "TxProfile", "charging_profile_kind": "Relative",
                       "charging_schedule": schedule}  # fmt: skip
            answer = await csms.call("R3", call16.SetChargingProfile(connector_id=1, cs_charging_profiles=profile))
        else:
            tx_id = csms.messages("R3", "TransactionEvent")[0].payload["transaction_info"]["transaction_id"]
            profile = {"id": 1, "transaction_id": tx_id, "stack_level": 1, "charging_profile_purpose": "TxProfile",
                       "charging_profile_kind": "Relative", "charging_schedule": [{"id": 1, **schedule}]}  # fmt: skip
            answer = await csms.call("R3", call201.SetChargingProfile(evse_id=1, charging_profile=profile))
        assert answer.status == "Accepted"
        seen = len(meter_currents(csms, "R3"))
        await csms.wait_for(lambda: len(meter_currents(csms, "R3")) > seen, 2.5)  # one interval is 1 s real
        assert meter_currents(csms, "R3")[seen] == 10.0
        if version is V16:
            answer = await csms.call("R3", call16.ClearChargingProfile(id=1))
        else:
            answer = await csms.call("R3", call201.ClearChargingProfile(charging_profile_id=1))
        assert answer.status == "Accepted"
        seen = len(meter_currents(csms, "R3"))
        await csms.wait_for(lambda: len(meter_currents(csms, "R3")) > seen, 2.5)
        assert meter_currents(csms, "R3")[seen] == 32.0


@BOTH
async def test_offline_queue_is_replayed_in_order_after_reconnect_none_lost(version: OcppVersion) -> None:
    start = time.time()
    async with Csms() as csms, simulating(csms, spec("R4", version, start=start), start=start) as runner:
        await csms.wait_for(lambda: len(meter_currents(csms, "R4")) >= 2, 10)
        await csms.stop()  # the server goes away: 4 s real, 4 meter intervals
        await asyncio.sleep(4)
        queued = len(runner.drivers[0].fw.outbox)
        await csms.start()
        await csms.wait_for(lambda: len(runner.drivers[0].fw.outbox) == 0 and runner.summary().connected == 1, 15)
        await asyncio.sleep(1.5)
    assert queued >= 3
    records = [r for r in csms.messages("R4") if r.action in ("MeterValues", "TransactionEvent")]
    if version is V16:
        stamps = [r.payload["meter_value"][0]["timestamp"] for r in records]
    else:
        seqs = [r.payload["seq_no"] for r in records]
        assert seqs == sorted(seqs) and set(range(seqs[-1] + 1)) <= set(seqs)  # none lost (duplicates allowed)
        stamps = [r.payload["timestamp"] for r in records if r.payload["trigger_reason"] == "MeterValuePeriodic"]
        assert any(r.payload.get("offline") for r in records)
    assert stamps == sorted(stamps)
    gaps = _gaps(sorted(set(stamps)))
    assert gaps and all(g == 60 for g in gaps)  # every interval present, in order, across the outage


def _gaps(stamps: list[str]) -> list[float]:
    from chargewise.simulator.clock import parse_iso

    times = [parse_iso(s) for s in stamps]
    return [round(b - a) for a, b in itertools.pairwise(times)]


async def test_reconnect_back_off_against_a_server_that_refuses() -> None:
    start = time.time()
    tpl = template(retry_backoff_wait_minimum_s=30, retry_backoff_random_range_s=0, retry_backoff_repeat_times=2)
    async with (
        Csms(refuse=True) as csms,
        simulating(csms, spec("R5", V201, tpl=tpl, ev_at=None, start=start), start=start),
    ):
        await csms.wait_for(lambda: len(csms.opens("R5")) >= 5, 15)
    times = csms.opens("R5")
    gaps = [round((b - a) * SPEED) for a, b in itertools.pairwise(times)]
    assert [abs(g - want) <= 6 for g, want in zip(gaps, [30, 60, 120, 120], strict=False)] == [True] * 4


async def test_basic_auth_uses_the_charger_id_and_the_template_password() -> None:
    start = time.time()
    charger = spec("R6", V16, tpl=load_template("chargepoint-home-flex"), ev_at=None, start=start)
    async with Csms() as csms, simulating(csms, charger, start=start):
        await csms.wait_for(lambda: csms.messages("R6", "BootNotification"), 10)
    import base64

    assert csms.headers["R6"] == "Basic " + base64.b64encode(b"R6:cph50-demo-password-01").decode()


async def test_plan_is_the_same_for_the_same_seed() -> None:
    kwargs: dict[str, Any] = {
        "chargers": 20, "version": V16, "template": "esp32-generic", "scenario": "weak-rssi", "id_prefix": "P",
        "start": 1_700_000_000.0, "workload_kind": "home", "ramp_s": 30,
    }  # fmt: skip
    assert plan(seed=5, **kwargs) == plan(seed=5, **kwargs)
    assert plan(seed=5, **kwargs) != plan(seed=6, **kwargs)
    assert [s.charger_id for s in plan(seed=5, **kwargs)][:3] == ["P1", "P2", "P3"]


def _afternoon() -> float:
    """14:30 local time on a day without a clock change, whatever the machine's time zone."""
    from chargewise.simulator.runner import local_midnight

    return local_midnight(datetime(2026, 6, 10, 12).timestamp()) + 14.5 * 3600


def test_a_90_minute_home_run_started_in_the_afternoon_charges_on_every_charger() -> None:
    start = _afternoon()  # home EVs arrive around 18:30: none would come before 16:00
    specs = plan(chargers=3, version=V16, template="esp32-generic", scenario="healthy", seed=1, id_prefix="H",
                 start=start, workload_kind="home")  # fmt: skip
    for charger in specs:
        shifted = [dataclasses.replace(v, arrive_s=v.arrive_s - start + T0, depart_s=v.depart_s - start + T0)
                   for v in charger.visits]  # fmt: skip
        pair = Pair(V16, visits=shifted)  # the firmware in simulated time, T0 standing for the afternoon start
        pair.run(90 * 60)
        assert pair.sent("StartTransaction"), charger.charger_id
        assert pair.fw.connectors[0].register_wh > 1000, charger.charger_id


def test_the_warm_start_adds_one_ev_per_idle_connector_and_leaves_the_daily_profile_alone() -> None:
    start = _afternoon()
    rng = random.Random(3)
    sessions = workload.generate_home(rng, homes=30, days=2)
    planned = place_visits(sessions, chargers=30, connectors=2, rng=rng, start=start, origin=local_midnight(start))
    extra = warm_start(planned, kind="home", chargers=30, connectors=2, rng=rng, start=start)
    for slot in itertools.product(range(30), (1, 2)):  # nobody is home at 14:30: an EV comes within 5 minutes,
        first = min((p.arrive_s for p in planned if (p.charger, p.connector) == slot), default=math.inf)
        ours = [v for v in extra if (v.charger, v.connector) == slot]  # or a planned one half an hour later
        assert len(ours) == 1 or (not ours and first < start + WARM_START_S + 1860), slot
    assert len(extra) > 50
    assert all(start < v.arrive_s <= start + WARM_START_S and v.depart_s - v.arrive_s >= 1800 for v in extra)
    for v in extra:  # gone before the connector's first planned EV
        later = [p.arrive_s for p in planned if (p.charger, p.connector) == (v.charger, v.connector)]
        assert v.depart_s < min(later, default=math.inf)
    evening = [(v.arrive_s - local_midnight(start)) / 3600 for v in planned]
    assert planned and 17 < statistics.mean(h for h in evening if h < 24) < 20  # the planned EVs still come at night
    assert warm_start(planned, kind="acn", chargers=30, connectors=2, rng=rng, start=start) == []
    busy = warm_start([*planned, *extra], kind="home", chargers=30, connectors=2, rng=rng, start=start)
    assert busy == []  # a connector with an EV at the start gets no second one
