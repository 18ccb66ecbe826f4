"""What people set on sites outlives a restart: a new ``SmartCharging`` over the same ``SiteSettingStore`` gets
the sites put through REST (or their removal), the told needs, live modes and caps back; a session that ended
takes its settings with it; learned needs are not kept (they are learned again)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from chargewise.adapters.memory import MemoryStore
from chargewise.adapters.memory_settings import MemorySiteSettingStore
from chargewise.charging.site import Mode
from chargewise.charging.sitefile import SiteFile, parse, parse_data
from chargewise.domain.model import ConnectorStatus, MeterValue, SampledValue
from chargewise.domain.site_settings import EvseSetting
from chargewise.services.connections import Registry
from chargewise.services.profile_applier import ProfileApplier
from chargewise.services.site_settings import SiteSettings
from chargewise.services.smart_charging import SmartCharging
from chargewise.services.telemetry import Telemetry

T0 = datetime(2026, 12, 2, 18, 0, tzinfo=UTC)
HOME = '[site]\nname = "home"\n[nodes.main]\nlimit_a = 32\n[chargers.W]\nparent = "main"\n'
SHOP = {"site": {"name": "shop"}, "nodes": {"main": {"limit_a": 20}}, "chargers": {"S": {"parent": "main"}}}


class Clock:
    def now(self) -> datetime:
        return T0


def server(kept: MemorySiteSettingStore, sites: list[SiteFile]) -> tuple[SmartCharging, SiteSettings, Telemetry]:
    async def call(*args: object) -> object:
        raise AssertionError("nothing is sent in these tests")

    telemetry = Telemetry()
    charging = SmartCharging(sites=sites, telemetry=telemetry, store=MemoryStore(), registry=Registry(),
                             applier=ProfileApplier(call=call), clock=Clock())  # type: ignore[arg-type]  # fmt: skip
    keeper = SiteSettings(kept, Clock(), load)
    charging.keeper = keeper
    return charging, keeper, telemetry


def load(raw: dict[str, Any]) -> SiteFile:
    return parse_data(raw)


async def test_told_needs_modes_caps_and_a_site_put_come_back_after_a_restart() -> None:
    kept = MemorySiteSettingStore()
    charging, keeper, telemetry = server(kept, [parse(HOME)])
    await keeper.restore(charging)
    telemetry.status("W", 1, ConnectorStatus.CHARGING, T0)
    telemetry.meter([MeterValue(charger_id="W", evse_id=1, transaction_id=1, timestamp=T0,
                                sampled=(SampledValue(measurand="Energy.Active.Import.Register", value=2000.0,
                                                      unit="Wh"),))])  # fmt: skip
    await charging.state(charging.sites["home"])  # the session has begun
    charging.set_needs("W/1", 20.0, T0 + timedelta(hours=9), "rest")
    charging.set_mode("W/1", Mode.PLAN)
    charging.set_cap("W/1", 13.0)
    await charging.keep("W/1")
    shop = parse_data(SHOP)
    charging.put_site(shop)
    await charging.keep_site("shop", SHOP)
    charging.set_mode("S/1", Mode.SOLAR)
    await charging.keep("S/1")
    # the server is killed here; a new one starts from the site file only
    again, keeper2, _ = server(kept, [parse(HOME)])
    assert await keeper2.restore(again) == []
    home = again.sites["home"]
    needs = home.needs["W/1"]
    assert (needs.energy_kwh, needs.departure, needs.register_wh, needs.source) == (
        20.0, T0 + timedelta(hours=9), 2000.0, "rest")  # fmt: skip
    assert home.modes == {"W/1": Mode.PLAN} and home.max_a == {"W/1": 13.0} and "W/1" in home.in_session
    assert again.sites["shop"].modes == {"S/1": Mode.SOLAR} and again.controls("S", 1)


async def test_a_session_that_ended_takes_its_settings_with_it_even_across_a_restart() -> None:
    kept = MemorySiteSettingStore()
    charging, _, telemetry = server(kept, [parse(HOME)])
    telemetry.status("W", 1, ConnectorStatus.CHARGING, T0)
    await charging.state(charging.sites["home"])
    charging.set_needs("W/1", 20.0, T0 + timedelta(hours=9), "mqtt")
    await charging.keep("W/1")
    # restarted while the car left: the first cycle sees no session and drops what it had set
    again, keeper2, telemetry2 = server(kept, [parse(HOME)])
    await keeper2.restore(again)
    assert again.sites["home"].needs["W/1"].source == "mqtt"
    telemetry2.status("W", 1, ConnectorStatus.AVAILABLE, T0)
    await again.state(again.sites["home"])
    assert "W/1" not in again.sites["home"].needs and await kept.evse_settings() == []


async def test_a_removed_site_stays_removed_and_a_kept_site_that_no_longer_loads_is_named() -> None:
    kept = MemorySiteSettingStore()
    charging, _, _ = server(kept, [parse(HOME)])
    charging.remove_site("home")
    await charging.keep_site("home", None)
    await charging.keep_site("broken", {"site": {"name": "broken"}, "nodes": {"main": {"limit_a": "lots"}}})
    again, keeper2, _ = server(kept, [parse(HOME)])  # --site still names home
    problems = await keeper2.restore(again)
    assert "home" not in again.sites
    assert len(problems) == 1 and problems[0].startswith("site broken (put through REST at") and "limit_a" in problems[0]


async def test_learned_needs_are_not_kept() -> None:
    kept = MemorySiteSettingStore()
    charging, _, _ = server(kept, [parse(HOME)])
    site = charging.sites["home"]
    charging.set_needs("W/1", 9.0, T0 + timedelta(hours=3), "learned")
    await charging.keep("W/1")
    assert await kept.evse_settings() == []
    charging.set_mode("W/1", Mode.NOW)
    await charging.keep("W/1")
    assert await kept.evse_settings() == [EvseSetting(evse_id="W/1", mode="now")]
    assert site.needs["W/1"].source == "learned"


async def test_what_home_assistant_sets_over_mqtt_is_kept_before_it_is_answered() -> None:
    from chargewise.services import home_assistant as ha
    from chargewise.services.events import EventHub
    from chargewise.services.manual_limits import ManualLimits
    from chargewise.services.mqtt_bridge import BridgeDeps, MqttBridge

    kept = MemorySiteSettingStore()
    charging, _, telemetry = server(kept, [parse(HOME)])
    deps = BridgeDeps(store=MemoryStore(), telemetry=telemetry, events=EventHub(), registry=Registry(),
                      limits=ManualLimits(applier=charging.applier, registry=Registry(), clock=Clock()),
                      charging=charging)  # fmt: skip
    bridge = MqttBridge(deps, ha.Topics(base="cw"))
    bridge._slugs["W"] = "W"
    said = [await bridge.command(topic, payload) for topic, payload in (
        ("cw/W/1/mode/set", b"solar"), ("cw/W/1/current_limit/set", b"12"), ("cw/W/1/energy/set", b"15"))]  # fmt: skip
    assert [line for line, _ in said] == ["W/1: mode solar", "W/1: site cap 12.0 A", "W/1: needs 15.0 kWh by None"]
    assert await kept.evse_settings() == [EvseSetting(evse_id="W/1", energy_kwh=15.0, source="mqtt", mode="solar",
                                                      cap_a=12.0)]  # fmt: skip
