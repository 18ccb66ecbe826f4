"""The reconcile loop's state, with injected time and in-memory parts: what a session's needs and live mode
are, and that both end with the session."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chargewise.adapters.memory import MemoryStore
from chargewise.charging.site import Mode
from chargewise.charging.sitefile import parse
from chargewise.domain.model import ConnectorStatus, MeterValue, OcppVersion, SampledValue
from chargewise.services.connections import Registry
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
