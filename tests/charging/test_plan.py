"""The joint planner on the scenario files: feasible on every limit and slot, departures met when feasible,
graceful shortfall otherwise, explanations present; LP and heuristic side by side where both apply."""

from __future__ import annotations

from pathlib import Path

import pytest

from chargewise.charging.plan import Plan, PlanRequest, explain, plan
from tests.charging.plan_cases import all_cases, load

TOL = 1e-6


def methods(request: PlanRequest) -> list[str]:
    simple = all(lim.linear for lim in request.limits) and request.demand_charge == 0
    simple = simple and all(s.weight == 1 for s in request.sessions)  # the heuristic weighs every kWh alike
    return ["lp", "heuristic", "auto"] if simple else ["lp", "auto"]


CASES = [(path, m) for path in all_cases() for m in methods(load(path)[0])]


def check_feasible(request: PlanRequest, result: Plan) -> None:
    for s in request.sessions:
        for t, a in enumerate(result.amps[s.id]):
            assert -TOL <= a <= s.max_at(t) + TOL, (s.id, t, a)
            if not s.present(t):
                assert a == 0.0, (s.id, t, "charges while not plugged in")
    for lim in request.limits:
        for t in range(len(request.slots)):
            use = abs(sum(complex(c) * result.amps[sid][t] for sid, c in lim.coefficients.items()))
            assert use <= lim.caps[t] + TOL * max(1.0, lim.caps[t]), (lim.name, t, use, lim.caps[t])


@pytest.mark.parametrize(("path", "method"), CASES, ids=[f"{p.stem}-{m}" for p, m in CASES])
def test_plan_case(path: Path, method: str) -> None:
    request, expect = load(path)
    result = plan(request, method=method)
    check_feasible(request, result)
    for s in request.sessions:
        assert result.delivered_kwh[s.id] <= s.energy_kwh + TOL
    if "missed" in expect:
        assert result.missed == expect["missed"]
    for sid in expect.get("missed_includes", []):
        assert sid in result.missed
    if "delivered_total_kwh" in expect:
        assert sum(result.delivered_kwh.values()) == pytest.approx(expect["delivered_total_kwh"], abs=1e-4)
    if "peak_kw_max" in expect and method != "heuristic":
        assert result.peak_kw <= expect["peak_kw_max"]
    lines = explain(request, result)
    for s in request.sessions:
        present = sum(1 for t in range(len(request.slots)) if s.present(t))
        assert len(lines[s.id]) == 1 + present
    if method == "lp":
        for sid, text in expect.get("explain_contains", {}).items():
            assert any(text in line for line in lines[sid]), (sid, text, lines[sid])


def test_first_step_is_the_first_slot() -> None:
    request, _ = load(all_cases()[0])
    result = plan(request)
    assert result.first_step == {sid: a[0] for sid, a in result.amps.items()}


def test_unknown_method_names_the_choices() -> None:
    request, _ = load(all_cases()[0])
    with pytest.raises(ValueError, match="auto, lp, heuristic"):
        plan(request, method="fastest")


def test_departure_time_to_slot() -> None:
    from datetime import datetime

    from chargewise.charging.plan import Slots

    slots = Slots.uniform(start=datetime(2026, 3, 2, 18), minutes=60, count=14)
    assert slots.index_of(datetime(2026, 3, 3, 7, 30)) == 13
    assert slots.index_of(datetime(2026, 3, 3, 7, 0)) == 13
    assert slots.index_of(datetime(2026, 3, 2, 18, 0)) == 0
    assert slots.index_of(datetime(2026, 3, 4)) == 14


def test_node_limits_follow_rotated_wiring() -> None:
    from datetime import datetime

    from chargewise.charging.plan import PlanRequest, Session, Slots, node_limits

    slots = Slots.uniform(start=datetime(2026, 3, 2), minutes=60, count=2)
    wiring = {"tri": {"L1": 1.0, "L2": 1.0, "L3": 1.0}, "mono": {"L2": 1.0}}
    limits = node_limits(node="main", phase_caps={p: (20.0, 20.0) for p in ("L1", "L2", "L3")}, wiring=wiring)
    sessions = [
        Session(id="tri", energy_kwh=50, departure=2, max_amps=16.0, kw_per_amp=0.69),
        Session(id="mono", energy_kwh=50, departure=2, max_amps=32.0, kw_per_amp=0.23),
    ]
    result = plan(PlanRequest(slots=slots, sessions=sessions, limits=limits, prices=(0.1, 0.1)), method="lp")
    for t in range(2):  # L2 carries both: 20 A shared; L1 and L3 only the three-phase car
        assert result.amps["tri"][t] + result.amps["mono"][t] <= 20.0 + 1e-6
    assert sum(result.delivered_kwh.values()) == pytest.approx(2 * (16 * 0.69 + 4 * 0.23), abs=1e-4)


def test_a_forecast_yields_to_a_car_plugged_in() -> None:
    """The weight decides it: with equal weights the smaller need (the forecast) is served first."""
    from dataclasses import replace

    request, _ = load(Path(__file__).parent / "cases" / "plan" / "forecast_weight.json")
    assert plan(request, method="lp").missed == ["expected"]
    equal = replace(request, sessions=[replace(s, weight=1.0) for s in request.sessions])
    assert plan(equal, method="lp").missed == ["car"]
