"""The reconcile loop's state, with injected time and in-memory parts: what a session's needs and live mode
are, and that both end with the session."""

from __future__ import annotations

import dataclasses
import math
from datetime import UTC, datetime, timedelta

from chargewise.adapters.memory import MemoryStore
from chargewise.charging.profiles import CONTROL_ID_BASE
from chargewise.charging.site import Mode
from chargewise.charging.sitefile import parse
from chargewise.charging.tariff import Period, Season, time_of_use
from chargewise.domain.model import ConnectorStatus, MeterValue, OcppVersion, SampledValue
from chargewise.services.connections import CallOutcome, Registry
from chargewise.services.profile_applier import ProfileApplier
from chargewise.services.smart_charging import SmartCharging
from chargewise.services.telemetry import Telemetry

T0 = datetime(2026, 12, 2, 18, 0, tzinfo=UTC)
SITE = '[site]\nname = "home"\n[nodes.main]\nlimit_a = 32\n[chargers.W]\nparent = "main"\n'


class Clock:
    def __init__(self) -> None:
        self.t = T0

    def now(self) -> datetime:
        return self.t


def loop() -> tuple[SmartCharging, Telemetry, Clock]:
    telemetry, clock = Telemetry(), Clock()

    async def call(*args: object) -> object:
        raise AssertionError("nothing is sent in these tests")

    charging = SmartCharging(sites=[parse(SITE)], telemetry=telemetry, store=MemoryStore(), registry=Registry(),
                             applier=ProfileApplier(call=call), clock=clock)  # type: ignore[arg-type]  # fmt: skip
    return charging, telemetry, clock


def register(t: datetime, wh: float) -> MeterValue:
    value = SampledValue(measurand="Energy.Active.Import.Register", value=wh, unit="Wh")
    return MeterValue(charger_id="W", evse_id=1, transaction_id=1, timestamp=t, sampled=(value,))


async def test_needs_count_down_with_the_register_and_end_with_the_session() -> None:
    charging, telemetry, _ = loop()
    site = charging.sites["home"]
    telemetry.status("W", 1, ConnectorStatus.CHARGING, T0)
    telemetry.meter([register(T0, 1_000.0)])
    charging.set_needs("W/1", 10.0, T0 + timedelta(hours=8), "rest")
    charging.set_mode("W/1", Mode.SOLAR)
    telemetry.meter([register(T0 + timedelta(hours=1), 4_000.0)])  # 3 kWh delivered since
    state, _ = await charging.state(site)
    assert state.evses["W/1"].session and state.evses["W/1"].energy_kwh == 7.0
    assert state.evses["W/1"].departure == T0 + timedelta(hours=8) and state.evses["W/1"].mode is Mode.SOLAR
    telemetry.status("W", 1, ConnectorStatus.AVAILABLE, T0 + timedelta(hours=2))  # the car left
    state, _ = await charging.state(site)
    assert not state.evses["W/1"].session and state.evses["W/1"].energy_kwh is None
    assert state.evses["W/1"].mode is None  # the site file's default again


async def test_needs_told_before_the_car_arrives_wait_for_its_session() -> None:
    charging, telemetry, _ = loop()
    site = charging.sites["home"]
    charging.set_needs("W/1", 12.0, T0 + timedelta(hours=9), "rest")
    state, _ = await charging.state(site)
    assert not state.evses["W/1"].session and site.needs["W/1"].energy_kwh == 12.0  # kept: no session ended
    telemetry.status("W", 1, ConnectorStatus.PREPARING, T0 + timedelta(minutes=5))
    state, _ = await charging.state(site)
    assert state.evses["W/1"].session and state.evses["W/1"].energy_kwh == 12.0


class _Link:
    charger_id, version = "W", OcppVersion.V16


async def test_a_persons_cap_lowers_the_evses_limit_until_lifted() -> None:
    charging, telemetry, _ = loop()
    charging.registry.register(_Link())  # type: ignore[arg-type]
    telemetry.online("W", True)
    telemetry.status("W", 1, ConnectorStatus.CHARGING, T0)
    assert (await charging.cycle("home")).limits["W/1"].limit_a == 10.0  # the first ramp step
    charging.set_cap("W/1", 8.0)
    assert (await charging.cycle("home")).limits["W/1"].limit_a == 8.0
    charging.set_cap("W/1", None)
    assert (await charging.cycle("home")).limits["W/1"].limit_a > 8.0


async def test_a_planned_stop_at_the_next_slot_edge_goes_out_as_a_second_period() -> None:
    """A plan session whose car is done before the tariff rises at 18:15: the control profile sent at 18:07 holds
    the cycle's limit now and 0 A from 18:15 (480 s on), so the charger stops then even if we are gone."""
    sent: list[dict[str, object]] = []
    at: list[datetime] = []

    async def call(charger_id: str, action: str, payload: dict[str, object]) -> CallOutcome:
        if action == "SetChargingProfile":
            sent.append(payload)
            at.append(clock.t)
            return CallOutcome(action=action, payload={"status": "Accepted"})
        return CallOutcome(action=action, error_code="NotSupported")

    dear = time_of_use(name="dear", timezone="UTC", currency="EUR", seasons=[Season(name="all", months=tuple(
        range(1, 13)), periods=(Period(days="all", start=0, end=18 * 60 + 15, price=0.10),
                                Period(days="all", start=18 * 60 + 15, end=24 * 60, price=0.40)))])  # fmt: skip
    clock = Clock()
    clock.t = T0 + timedelta(minutes=7)
    file = dataclasses.replace(parse(SITE.replace('parent = "main"\n', 'parent = "main"\nmode = "plan"\n')),
                               tariff=dear)  # fmt: skip
    telemetry = Telemetry()
    charging = SmartCharging(sites=[file], telemetry=telemetry, store=MemoryStore(), registry=Registry(),
                             applier=ProfileApplier(call=call, meter_interval_s=None), clock=clock)  # fmt: skip
    charging.registry.register(_Link())  # type: ignore[arg-type]
    telemetry.online("W", True)
    telemetry.status("W", 1, ConnectorStatus.CHARGING, clock.t)
    charging.set_needs("W/1", 1.0, clock.t + timedelta(hours=3), "rest")
    for _ in range(4):  # ramped up to the plan's target, a cycle every 5 s
        allocation = await charging.cycle("home")
        clock.t += timedelta(seconds=5)
    limit = allocation.limits["W/1"].limit_a
    assert limit > 0 and charging.sites["home"].plan is not None
    control = [(p, t) for p, t in zip(sent, at, strict=True)
               if p["csChargingProfiles"]["chargingProfileId"] >= CONTROL_ID_BASE]  # type: ignore[index]  # fmt: skip
    assert len(control) >= 2  # the ramp's steps: sent as the limit changed
    payload, when = control[-1]
    periods = payload["csChargingProfiles"]["chargingSchedule"]["chargingSchedulePeriod"]  # type: ignore[index]
    edge = int((T0 + timedelta(minutes=15) - when).total_seconds())
    assert [(p["startPeriod"], p["limit"]) for p in periods] == [(0, math.floor(limit * 10) / 10), (edge, 0.0)]
    count = len(sent)
    clock.t += timedelta(seconds=5)
    await charging.cycle("home")
    assert len(sent) == count  # the same plan a cycle later: nothing to send
