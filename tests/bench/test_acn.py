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


def test_a_car_short_of_time_takes_amps_from_a_car_with_time_to_spare() -> None:
    """`_make_room` on a real acnportal network (two 32 A EVSEs under a 40 A panel): the car that cannot finish
    gets its 32 A, first from what the panel has left, then from the car with laxity, which keeps the rest; with
    no donor it gets only what is left. `_donors` leaves out a car that finishes this period."""
    from datetime import datetime
    from types import SimpleNamespace

    import numpy as np
    import pytz
    from acnportal import acnsim
    from acnportal.acnsim.models import EV, Battery
    from acnportal.acnsim.models.evse import EVSE
    from acnportal.acnsim.network import ChargingNetwork

    from chargewise.bench.acn import ChargewiseAlgorithm

    net = ChargingNetwork()
    for sid in ("A", "B"):
        net.register_evse(EVSE(sid, max_rate=32), 208, 0)
    net.add_constraint(acnsim.Current(["A", "B"]), 40, name="panel")
    ev = EV(0, 8, 5.0, "A", "a", Battery(100, 0, 6.6))
    queue = acnsim.EventQueue()
    queue.add_events([acnsim.PluginEvent(0, ev)])
    sim = acnsim.Simulator(net, ChargewiseAlgorithm(), queue, pytz.utc.localize(datetime(2019, 3, 1)), period=5,
                           verbose=False)  # fmt: skip
    algo = ChargewiseAlgorithm()
    algo.register_interface(acnsim.Interface(sim))
    info = algo.info()
    b = SimpleNamespace(station_id="B", session_id="b", remaining_demand=10.0, remaining_time=200, max_rates=[32.0])
    column = np.array([26.0, 12.0])
    assert list(algo._make_room(info, column, 0, 32.0, [b])) == [32.0, 8.0]
    assert list(algo._make_room(info, column, 0, 32.0, [])) == [28.0, 12.0]
    assert [d.session_id for d in algo._donors(info, [b], column)] == ["b"]
    done = SimpleNamespace(station_id="B", session_id="d", remaining_demand=0.1, remaining_time=200, max_rates=[32.0])
    assert algo._donors(info, [done], column) == []  # 12 A for a period finishes it: lowered, it would be a sliver
