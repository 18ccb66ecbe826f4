"""``ChargewiseAlgorithm`` inside acnportal's simulator on a 1-day slice of the ACN-Sim paper workload: no
infeasible schedule on either network (ACN-Sim warns on one; the warnings are counted), and the evcc case."""

from __future__ import annotations

import os

import pytest
from bench.charging import WORKLOAD

pytest.importorskip("acnportal", reason="acnportal is in the dev extra: pip install -e '.[dev]'")


def require_workload() -> None:
    if WORKLOAD.exists():
        return
    reason = f"ACN workload not found at {WORKLOAD}; put the shared data beside the clone (../shared)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: the shared data must be present)", pytrace=False)
    pytest.skip(reason)


@pytest.mark.parametrize(("network", "cap"), [("caltech_acn", 30.0), ("simple_acn", 20.0)])
def test_chargewise_has_no_violation(network: str, cap: float) -> None:
    from bench.charging_acn import simulate

    require_workload()
    ours = simulate(network, cap, "chargewise", str(WORKLOAD), 1)
    llf = simulate(network, cap, "LLF", str(WORKLOAD), 1)
    assert ours.violations == 0
    assert ours.decisions_ms, "the algorithm was never asked for a schedule"
    assert ours.energy_pct >= llf.energy_pct - 0.05
    assert ours.peak_kw <= cap * 1.0001 if network == "simple_acn" else True


def test_uncontrolled_is_counted_as_violating() -> None:
    """The warning counter sees an infeasible schedule (so a zero above means something)."""
    from bench.charging_acn import simulate

    require_workload()
    assert simulate("simple_acn", 20.0, "Uncontrolled", str(WORKLOAD), 1).violations > 0


def test_evcc_case_chargewise_meets_all_and_per_ev_planning_misses_one() -> None:
    from bench.charging_synth import run_evcc

    rows, why = run_evcc()
    assert all(ours >= want - 1e-6 for want, ours, _ in rows.values())
    missed = [car for car, (want, _, theirs) in rows.items() if theirs < want - 1e-6]
    assert missed == ["B"]
    assert why["B"][0].endswith("as asked")


def test_no_car_is_left_a_sliver_short() -> None:
    """acnportal drops a car with less than 1 Wh left; the exact scale-back onto a binding sub-panel limit used to
    leave some 0.05-0.2 Wh short (99.99984 % against LLF's 100.0 on this day). Held back or topped up, none is."""
    from bench.charging_acn import simulate

    require_workload()
    ours = simulate("caltech_acn", 100.0, "chargewise", str(WORKLOAD), 1)
    llf = simulate("caltech_acn", 100.0, "LLF", str(WORKLOAD), 1)
    assert ours.violations == 0
    assert ours.energy_pct >= llf.energy_pct - 1e-9, (ours.energy_pct, llf.energy_pct)
