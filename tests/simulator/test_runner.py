"""The simulator over real WebSockets against an independent minimal CSMS on the ``ocpp`` library."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import msgspec
import pytest
from ocpp.v16 import call as call16
from ocpp.v201 import call as call201

from chargewise.domain.model import OcppVersion
from chargewise.simulator.faults import Scenario, load_scenario
from chargewise.simulator.runner import ChargerSpec, Runner, plan
from chargewise.simulator.templates import Template, load_template
from chargewise.simulator.workload import Visit

from .ocpp_csms import Csms

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
