"""The live site's joint plan: the grid, what the planner is given (limits less other loads, prices), and the
targets it gives; pure, with time as data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chargewise.charging.allocate import allocate
from chargewise.charging.plan import plan
from chargewise.charging.site_plan import PlanNeed, grid, request_for, slot_start, steps_ahead, targets
from chargewise.charging.sitefile import parse
from chargewise.charging.state import EvseState, SiteState

T0 = datetime(2026, 12, 2, 18, 7, 30, tzinfo=UTC)
SITE = parse("""
[site]
name = "pair"
[nodes.main]
limit_a = 21
[chargers.A]
parent = "main"
max_a = 16
[chargers.B]
parent = "main"
max_a = 16
[chargers.C]
parent = "main"
max_a = 16
""")


def flat(slots: object) -> tuple[float, ...]:
    return (0.0,) * len(slots)  # type: ignore[arg-type]


@pytest.mark.parametrize(("now", "first"), [(T0, 7.5), (T0.replace(minute=14, second=30), 15.5),
                                            (T0.replace(minute=0, second=0), 15.0)])  # fmt: skip
def test_the_grid_starts_now_and_keeps_to_the_quarter_hours(now: datetime, first: float) -> None:
    leave = now + timedelta(minutes=50)
    slots = grid(now, now + timedelta(hours=2), [leave])
    assert slots.minutes[0] == pytest.approx(first)  # a first slot under a minute joins the next
    assert slot_start(slots.begin(1)) == slots.begin(1)  # later slots start on boundaries
    assert slots.index_of(leave) < len(slots) and slots.begin(slots.index_of(leave)) == leave  # a departure cuts
    assert slots.begin(len(slots)) == now + timedelta(hours=2)
    assert all(m >= 1.0 for m in slots.minutes) and max(slots.minutes) <= 16.0


def test_the_car_leaving_first_gets_its_energy_and_both_fit_under_the_main() -> None:
    needs = [
        PlanNeed(evse_id="A/1", energy_kwh=10.0, departure=T0 + timedelta(hours=1), phases=3, max_a=16),
        PlanNeed(evse_id="B/1", energy_kwh=10.0, departure=T0 + timedelta(hours=4), phases=3, max_a=16),
    ]
    request = request_for(SITE.site, SITE.policy, needs, T0, None, flat)
    assert {lim.name: lim.caps[0] for lim in request.limits}["main L1"] == 20.0  # 21 A less the 1 A margin
    result = plan(request)
    assert result.missed == []
    for t in range(len(request.slots)):
        assert result.amps["A/1"][t] + result.amps["B/1"][t] <= 20.0 + 1e-6
    assert result.amps["A/1"][0] == pytest.approx(16.0)  # 10 kWh in an hour needs 14.5 A of its 16


def test_what_other_sessions_were_given_is_not_the_plans_to_use() -> None:
    state = SiteState(evses={"A/1": EvseState(session=True), "B/1": EvseState(session=True),
                             "C/1": EvseState(session=False)})  # fmt: skip
    previous = allocate(SITE.site, state, T0, None, SITE.policy)  # A and B share: 10 A each (ramp from 0)
    needs = [PlanNeed(evse_id="B/1", energy_kwh=2.0, departure=T0 + timedelta(hours=2), phases=3, max_a=16)]
    request = request_for(SITE.site, SITE.policy, needs, T0, previous, flat)
    assert previous.limits["A/1"].limit_a == 10.0
    # A (mode now, not planned) counts at its 6 A minimum: the plan comes first, the policy shares the rest
    assert {lim.name: lim.caps[0] for lim in request.limits}["main L2"] == pytest.approx(20.0 - 6.0)


def test_a_tariff_moves_the_energy_to_the_cheap_slots_and_a_small_target_becomes_the_minimum() -> None:
    needs = [PlanNeed(evse_id="A/1", energy_kwh=3.0, departure=T0 + timedelta(hours=3), phases=3, max_a=16)]

    def night(slots: object) -> tuple[float, ...]:  # 0.40 until 19:00, then 0.10
        s = slots  # Slots
        return tuple(0.40 if s.begin(t).hour < 19 else 0.10 for t in range(len(s)))  # type: ignore[attr-defined]

    request = request_for(SITE.site, SITE.policy, needs, T0, None, night)
    result = plan(request)
    assert result.missed == [] and result.amps["A/1"][0] == 0.0
    cheap = [t for t in range(len(request.slots)) if request.prices[t] == 0.10]
    assert sum(result.amps["A/1"][t] for t in cheap) > 0
    assert targets(SITE.site, {"A/1": 0.0, "B/1": 2.5, "C/1": 9.0}) == {"A/1": 0.0, "B/1": 6.0, "C/1": 9.0}


def until_quarter_past(slots: object) -> tuple[float, ...]:  # 0.10 until 18:15, then 0.40
    s = slots  # Slots
    return tuple(0.10 if s.begin(t) < T0.replace(minute=15, second=0) else 0.40 for t in range(len(s)))  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("energy_kwh", "limit_a", "minutes", "want"),
    [
        (1.0, 11.6, 10, [(450, 0.0)]),  # done in the cheap first slot: the profile drops at 18:15 by itself
        (1.0, 11.6, 5, []),  # the edge is after the lease: the next cycles send it
        (1.0, 5.0, 10, [(450, 0.0)]),  # held below the plan now (another car's share): still dropped at 18:15
        (3.0, 9.0, 10, []),  # the plan charges on after 18:15 at no less than 9 A: no lowering, one period
    ],
)
def test_the_plans_lowerings_within_the_lease_become_later_periods(
    energy_kwh: float, limit_a: float, minutes: int, want: list[tuple[int, float]]
) -> None:
    needs = [PlanNeed(evse_id="A/1", energy_kwh=energy_kwh, departure=T0 + timedelta(minutes=25), phases=3,
                      max_a=16)]  # fmt: skip
    request = request_for(SITE.site, SITE.policy, needs, T0, None, until_quarter_past)
    result = plan(request)
    assert result.missed == []
    ahead = steps_ahead(SITE.site, "A/1", request, result.amps["A/1"], T0, limit_a, timedelta(minutes=minutes))
    assert ahead == want
    if not want:
        return
    # a few seconds later (the next cycle) the same edge is the same second
    later = T0 + timedelta(seconds=4.3)
    again = steps_ahead(SITE.site, "A/1", request, result.amps["A/1"], later, limit_a, timedelta(minutes=minutes))
    assert [(later.replace(microsecond=0) + timedelta(seconds=s), a) for s, a in again] == [
        (T0.replace(second=0, minute=15), a) for _, a in want
    ]


def test_a_later_slot_wanting_less_than_the_minimum_is_offered_the_minimum() -> None:
    needs = [PlanNeed(evse_id="A/1", energy_kwh=1.0, departure=T0 + timedelta(minutes=40), phases=3, max_a=16)]
    request = request_for(SITE.site, SITE.policy, needs, T0, None, flat)
    amps = (12.0, 2.5, 0.0)
    assert steps_ahead(SITE.site, "A/1", request, amps, T0, 12.0, timedelta(minutes=10)) == [(450, 6.0)]
    assert steps_ahead(SITE.site, "A/1", request, amps, T0, 12.0, timedelta(minutes=30)) == [(450, 6.0), (1350, 0.0)]
