"""The plan in the reconcile loop, with injected time: who is planned, when it re-plans, the targets it sets,
and that the allocation still keeps the site's limits; then the loop itself (modes per token, needs learned
per token, external limits, sites put and removed live)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from chargewise.adapters.memory import MemoryStore
from chargewise.adapters.memory_reports import MemoryReportStore
from chargewise.charging.allocate import allocate
from chargewise.charging.site import Mode
from chargewise.charging.sitefile import parse
from chargewise.charging.state import Cause, EvseState, SiteState
from chargewise.charging.tariff import DemandCharge, Period, Season, time_of_use
from chargewise.domain.model import ConnectorStatus, OcppVersion
from chargewise.domain.ports import NewTransaction
from chargewise.domain.reports import ChargingLimit, ChargingSchedule, LimitSource, RateUnit, SchedulePeriod
from chargewise.services.connections import Registry
from chargewise.services.profile_applier import ProfileApplier
from chargewise.services.site_planning import planned
from chargewise.services.smart_charging import SmartCharging
from chargewise.services.telemetry import Telemetry

T0 = datetime(2026, 12, 2, 18, 5, tzinfo=UTC)
SITE = """
[site]
name = "home"
[nodes.main]
limit_a = 33
[chargers.A]
parent = "main"
mode = "plan"
[chargers.B]
parent = "main"
mode = "plan"
[tokens.NIGHT]
mode = "plan"
"""
NIGHT = time_of_use(name="night", timezone="UTC", currency="EUR", seasons=[Season(name="all", months=tuple(
    range(1, 13)), periods=(Period(days="all", start=0, end=19 * 60, price=0.40),
                            Period(days="all", start=19 * 60, end=24 * 60, price=0.10)))])  # fmt: skip


def busy(**kw: EvseState) -> SiteState:
    return SiteState(evses={"A/1": EvseState(session=True), "B/1": EvseState(session=True), **kw})


async def test_plan_sessions_get_the_plans_first_slot_and_stay_under_the_main() -> None:
    file = dataclasses.replace(parse(SITE), tariff=NIGHT)
    state = busy(
        **{
            "A/1": EvseState(session=True, energy_kwh=4.0, departure=T0 + timedelta(hours=1)),
            "B/1": EvseState(session=True, energy_kwh=4.0, departure=T0 + timedelta(hours=6)),
        }
    )
    out, live = await planned(file, file.site, state, T0, None, caps=[], caps_a={}, told={}, current=None)
    assert live is not None and live.plan.missed == [] and live.trigger == "first plan"
    assert out.evses["A/1"].target_a is not None and out.evses["A/1"].target_a > 0  # it leaves at 19:05
    assert out.evses["B/1"].target_a == 0.0  # it waits for the 0.10 slots after 19:00
    assert any("cheaper slots" in line for line in live.explanations["B/1"])
    allocation = allocate(file.site, out, T0, None, file.policy)
    assert allocation.limits["B/1"].limit_a == 0.0 and allocation.limits["A/1"].cause in (Cause.PLAN, Cause.RAMP)
    # the same inputs in the same slot: the plan is kept; the next slot or new needs: planned again
    _, again = await planned(file, file.site, state, T0 + timedelta(minutes=3), None, caps=[], caps_a={},
                                told={}, current=live)  # fmt: skip
    assert again is live
    _, later = await planned(file, file.site, state, T0 + timedelta(minutes=11), None, caps=[], caps_a={}, told={},
                             current=live)  # fmt: skip
    assert later is not None and later is not live and later.trigger == "slot"
    _, told = await planned(file, file.site, state, T0 + timedelta(minutes=3), None, caps=[], caps_a={},
                            told={"A/1": ("rest", 5.0)}, current=live)  # fmt: skip
    assert told is not None and told.trigger == "sessions or needs"


async def test_a_tariffs_demand_charge_is_said_to_be_unweighed() -> None:
    charged = dataclasses.replace(NIGHT, demand_charges=(DemandCharge(per_kw=12.0),))
    file = dataclasses.replace(parse(SITE), tariff=charged)
    state = busy(**{"A/1": EvseState(session=True, energy_kwh=4.0, departure=T0 + timedelta(hours=6))})
    _, live = await planned(file, file.site, state, T0, None, caps=[], caps_a={}, told={}, current=None)
    assert live is not None and "demand charges are not weighed" in live.prices_note
    _, plain = await planned(dataclasses.replace(file, tariff=NIGHT), file.site, state, T0, None, caps=[], caps_a={},
                             told={}, current=None)  # fmt: skip
    assert plain is not None and plain.prices_note == ""


async def test_only_plan_sessions_with_needs_are_planned_and_an_external_cap_bounds_them() -> None:
    file = parse(SITE)
    state = busy(**{"A/1": EvseState(session=True, energy_kwh=30.0, departure=T0 + timedelta(hours=1)),
                    "B/1": EvseState(session=True, mode=Mode.NOW, energy_kwh=4.0,
                                     departure=T0 + timedelta(hours=1))})  # fmt: skip
    out, live = await planned(file, file.site, state, T0, None, caps=[], caps_a={"A/1": 10.0}, told={}, current=None)
    assert live is not None and [s.id for s in live.request.sessions] == ["A/1"]
    assert max(live.plan.amps["A/1"]) <= 10.0 + 1e-6 and live.plan.missed == ["A/1"]
    assert out.evses["B/1"].target_a is None
    none, nothing = await planned(file, file.site, busy(), T0, None, caps=[], caps_a={}, told={}, current=live)
    assert nothing is None and none.evses["A/1"].target_a is None  # no needs: charges as "now"


class Clock:
    def __init__(self) -> None:
        self.t = T0

    def now(self) -> datetime:
        return self.t


def loop(site: str = SITE) -> tuple[SmartCharging, Telemetry, MemoryStore, MemoryReportStore]:
    telemetry, store, reports = Telemetry(), MemoryStore(), MemoryReportStore()
    registry = Registry()
    registry.register(SimpleNamespace(charger_id="A", version=OcppVersion.V16))  # type: ignore[arg-type]

    async def call(*args: object) -> object:
        raise AssertionError("nothing is sent in these tests")

    charging = SmartCharging(sites=[parse(site)], telemetry=telemetry, store=store, registry=registry,
                             applier=ProfileApplier(call=call), clock=Clock(), limits=reports)  # type: ignore[arg-type]  # fmt: skip
    return charging, telemetry, store, reports


async def start(store: MemoryStore, at: datetime, tag: str, wh: float = 0.0) -> int:
    tx, _ = await store.start_transaction(NewTransaction(charger_id="A", evse_id=1, connector_id=1, id_tag=tag,
                                                         started_at=at, meter_start_wh=wh, dedupe_key=at.isoformat()))  # fmt: skip
    return tx.id


async def test_a_tokens_needs_are_learned_from_its_past_sessions_and_its_default_mode_applies() -> None:
    charging, telemetry, store, _ = loop(SITE.replace('mode = "plan"\n[chargers.B]', "[chargers.B]", 1))
    for day, kwh in enumerate((9.0, 11.0, 10.0)):
        begin = T0 - timedelta(days=10 - day)
        tx = await start(store, begin, "NIGHT", 1000.0)
        await store.stop_transaction(tx, stopped_at=begin + timedelta(hours=13), meter_stop_wh=1000.0 + kwh * 1000,
                                     reason="EVDisconnected")  # fmt: skip
    await start(store, T0, "NIGHT", 5000.0)
    telemetry.status("A", 1, ConnectorStatus.CHARGING, T0)
    site = charging.sites["home"]
    state, _ = await charging.state(site)
    needs = site.needs["A/1"]
    assert needs.source == "learned" and needs.energy_kwh == 10.0 and needs.departure == T0 + timedelta(hours=13)
    assert state.evses["A/1"].mode is Mode.PLAN  # tokens.NIGHT, the charger's default being "now"
    assert state.evses["A/1"].energy_kwh == 10.0


async def test_a_reported_external_limit_caps_the_evse_until_it_is_cleared() -> None:
    charging, _, _, reports = loop()
    site = charging.sites["home"]
    schedule = ChargingSchedule(id=1, rate_unit=RateUnit.AMPERE, periods=(SchedulePeriod(start_s=0, limit=8.0),))
    await reports.put_charging_limit(ChargingLimit(charger_id="A", evse_id=1, source=LimitSource.EMS,
                                                   schedules=(schedule,), reported_at=T0))  # fmt: skip
    caps = await charging.external_caps(site)
    assert [(c.charger, c.evse, c.amps) for c in caps] == [("A", 1, 8.0)]
    await charging.cycle("home")
    assert site.external == {"A/1": 8.0}
    await reports.clear_charging_limit("A", 1, LimitSource.EMS)
    await charging.cycle("home")
    assert site.external == {}


async def test_sites_are_put_replaced_and_removed_live() -> None:
    charging, _, _, _ = loop()
    other = parse('[site]\nname = "shop"\n[nodes.main]\nlimit_a = 20\n[chargers.S]\nparent = "main"\n')
    assert charging.put_site(other) is True and charging.controls("S", 1)
    charging.set_mode("S/1", Mode.SOLAR)
    bigger = parse('[site]\nname = "shop"\n[nodes.main]\nlimit_a = 40\n[chargers.S]\nparent = "main"\n')
    assert charging.put_site(bigger) is False
    assert charging.sites["shop"].file.site.nodes["main"].limit_a[0] == 40.0
    assert charging.sites["shop"].modes == {"S/1": Mode.SOLAR}  # the live switch survives the new file
    clash = parse('[site]\nname = "x"\n[nodes.main]\nlimit_a = 20\n[chargers.A]\nparent = "main"\n')
    with pytest.raises(ValueError, match=r"chargers\.A: already in site 'home'"):
        charging.put_site(clash)
    charging.remove_site("shop")
    assert "shop" not in charging.sites and not charging.controls("S", 1)
