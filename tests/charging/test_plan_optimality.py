"""The LP's cost against a second, independent formulation (cvxpy on the same data) on every small case, and
the three-phase case's energy against the exact SOCP optimum (the LP uses tangent cuts and a scale-back)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from chargewise.charging.plan import PlanRequest, plan
from tests.charging.plan_cases import all_cases, load

cp = pytest.importorskip("cvxpy", reason="cvxpy is in the dev extra: pip install -e '.[dev]'")


def reference(request: PlanRequest, *, maximise_energy: bool) -> tuple[float, float]:
    """(cost, energy) of the optimum written with cvxpy: penalised shortfall + energy cost + demand charge."""
    n = len(request.slots)
    ids = [s.id for s in request.sessions]
    upper = np.array([[s.max_at(t) if s.present(t) else 0.0 for t in range(n)] for s in request.sessions])
    x = cp.Variable((len(ids), n), nonneg=True)
    hours = np.array([request.slots.hours(t) for t in range(n)])
    kpa = np.array([s.kw_per_amp for s in request.sessions])
    energy = cp.multiply(kpa, x @ hours)
    wanted = np.array([s.energy_kwh for s in request.sessions])
    site_kw = kpa @ x
    cons = [x <= upper, energy <= wanted]
    for lim in request.limits:
        c = np.array([complex(lim.coefficients.get(i, 0)) for i in ids])
        caps = np.array(lim.caps)
        if lim.linear:
            cons.append(c.real @ x <= caps)
        else:
            cons.append(cp.norm(cp.vstack([c.real @ x, c.imag @ x]), 2, axis=0) <= caps)
    cost = cp.sum(cp.multiply(site_kw, hours * np.array(request.prices)))
    peak = cp.maximum(cp.max(site_kw), request.prior_peak_kw) if request.demand_charge else 0
    shortfall = cp.sum(wanted - energy)
    objective = shortfall if maximise_energy else request.shortfall_penalty() * shortfall + cost
    if request.demand_charge and not maximise_energy:
        objective = objective + request.demand_charge * peak
    cp.Problem(cp.Minimize(objective), cons).solve(solver=cp.CLARABEL)
    total_cost = float(cost.value) + (request.demand_charge * float(peak.value) if request.demand_charge else 0.0)
    return total_cost, float(np.sum(energy.value))


LINEAR = [p for p in all_cases() if all(lim.linear for lim in load(p)[0].limits)]
PHASOR = [p for p in all_cases() if p not in LINEAR]


@pytest.mark.parametrize("path", LINEAR, ids=[p.stem for p in LINEAR])
def test_lp_cost_matches_a_second_formulation(path: Path) -> None:
    request, _ = load(path)
    result = plan(request, method="lp")
    ours = result.energy_cost + request.demand_charge * max(result.peak_kw, request.prior_peak_kw)
    theirs, energy = reference(request, maximise_energy=False)
    assert sum(result.delivered_kwh.values()) == pytest.approx(energy, abs=1e-3)
    # the LP adds an early-slot bonus of 1e-4 $/kWh at most to break ties
    assert ours == pytest.approx(theirs, abs=1e-3 + 1e-4 * energy)


@pytest.mark.parametrize("path", PHASOR, ids=[p.stem for p in PHASOR])
def test_phasor_energy_close_to_the_socp_optimum(path: Path) -> None:
    request, expect = load(path)
    result = plan(request, method="lp")
    _, best = reference(request, maximise_energy=True)
    assert sum(result.delivered_kwh.values()) >= expect["socp_energy_ratio"] * best


def test_heuristic_close_to_lp_on_a_small_fleet() -> None:
    from bench.charging_synth import fleet_request, kw_minutes_over

    request, dr = fleet_request(n_ev=120, seed=3)
    exact = plan(request, method="lp")
    quick = plan(request, method="heuristic")
    assert not exact.missed and not quick.missed
    assert quick.energy_cost <= exact.energy_cost * 1.02
    assert exact.energy_cost <= quick.energy_cost + 1e-6
    assert kw_minutes_over(quick, dr, 15) == 0.0 and kw_minutes_over(exact, dr, 15) == 0.0
