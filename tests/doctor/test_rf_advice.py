"""What the doctor advises for a garage plan: table-driven from cases/rf_advice.toml."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path
from typing import Any

import pytest

from chargewise.doctor.coverage import NODE_HEIGHT_M, best_new_node, coverage
from chargewise.doctor.geometry import Point
from chargewise.doctor.materials import Band
from chargewise.doctor.plan import parse_plan
from chargewise.doctor.rf import budget, predict, to_charger
from chargewise.doctor.rf_advice import AdviceKind, advise

CASES = tomllib.loads((Path(__file__).parent / "cases" / "rf_advice.toml").read_text())["case"]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["case"])
def test_advice(case: dict[str, Any]) -> None:
    plan = parse_plan(case["plan"])
    results = predict(plan)
    advice = advise(plan, results)
    assert [a.kind.value for a in advice] == case["expect"]
    text = " | ".join(a.text for a in advice)
    for fragment in case["says"]:
        assert fragment in text
    current = max((r.best.median_dbm for r in results if r.charger_supports and r.best), default=-200.0)
    for a in advice:
        if a.kind in {AdviceKind.MOVE_AP, AdviceKind.ADD_NODE}:
            assert a.predicted_dbm is not None and a.predicted_dbm >= current + 3  # only advised when it pays


def test_a_new_node_balances_the_charger_link_against_its_backhaul() -> None:
    case = next(c for c in CASES if c["expect"] == ["add_node"])
    plan = parse_plan(case["plan"])
    mesh, wired = best_new_node(plan, Band.G2_4), best_new_node(plan, Band.G2_4, wired=True)
    assert mesh is not None and mesh.backhaul is not None and wired is not None and wired.backhaul is None
    assert wired.charger.median_dbm > mesh.charger.median_dbm  # the cable frees it to sit by the charger
    assert mesh.score_dbm == min(mesh.charger.median_dbm, mesh.backhaul.median_dbm)
    for x, y in [(1.0, 0.0), (11.5, 0.0), (7.0, 2.0)]:  # beside the router, beside the charger, elsewhere
        at = Point(x=x, y=y)
        node = dataclasses.replace(plan.aps[0], at=at, height_m=NODE_HEIGHT_M, eirp_dbm=(20.0, 23.0, 18.0))
        charger = to_charger(plan, node, Band.G2_4).median_dbm
        backhaul = budget(plan, plan.aps[0], at, NODE_HEIGHT_M, Band.G2_4).median_dbm
        assert min(charger, backhaul) <= mesh.score_dbm


def test_coverage_grid_spans_the_bounds_at_the_grid_step() -> None:
    plan = parse_plan(
        "[plan]\ngrid_m = 0.5\nbounds = [0, 0, 4, 2]\n[[ap]]\nposition = [1, 1]\n[charger]\nposition = [3, 1]\n"
    )
    grid = coverage(plan, Band.G2_4)
    assert grid.xs == (0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0) and grid.ys == (0.0, 0.5, 1.0, 1.5, 2.0)
    assert len(grid.rssi_dbm) == 5 and all(len(row) == 9 for row in grid.rssi_dbm)
    row = grid.rssi_dbm[2]  # y = 1: strongest at the AP, falling off on both sides
    assert row[2] == max(row) and row[0] < row[2] and row[8] < row[5] < row[2]
    assert all(v != v for v in coverage(plan, Band.G6).rssi_dbm[0])  # NaN: no AP offers 6 GHz
