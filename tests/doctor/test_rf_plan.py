"""Reading a garage plan: the documented example parses, and each mistake in cases/rf_bad_plans.toml gets one
line naming the field and the fix."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from chargewise.doctor.materials import Band
from chargewise.doctor.plan import PlanError, parse_plan

ROOT = Path(__file__).resolve().parents[2]
BAD = tomllib.loads((Path(__file__).parent / "cases" / "rf_bad_plans.toml").read_text())["case"]


@pytest.mark.parametrize("case", BAD, ids=lambda c: c["case"])
def test_bad_plan_gets_one_line_naming_the_field_and_the_fix(case: dict[str, Any]) -> None:
    with pytest.raises(PlanError) as caught:
        parse_plan(case["plan"])
    message = str(caught.value)
    assert "\n" not in message
    assert case["field"] in message and case["fix"] in message, message


def test_the_example_plan_parses_with_its_defaults() -> None:
    plan = parse_plan((ROOT / "examples" / "garage.toml").read_text())
    assert [ap.name for ap in plan.aps] == ["router", "upstairs"]
    assert plan.charger.bands == (Band.G2_4,) and plan.charger.enclosure_loss_db == 3
    garage = next(w for w in plan.walls if w.name == "garage wall")
    assert garage.material == "concrete" and garage.thickness_mm == 200 and garage.loss_db == (15, 27, 30)
    upstairs = plan.aps[1]
    assert upstairs.eirp_dbm == (20, 23, 18) and upstairs.floors == (("timber-floor", (5, 7, 8)),)
    assert plan.car is not None and plan.car.roofline_m == 1.6


def test_power_forms() -> None:
    base = "[charger]\nposition = [5, 0]\n[[ap]]\nposition = [0, 0]\n"
    assert parse_plan(base + "eirp_dbm = 17\n").aps[0].eirp_dbm == (17, 17, 17)
    assert parse_plan(base + 'eirp_dbm = { "5" = 26 }\n').aps[0].eirp_dbm == (20, 26, 18)
    assert parse_plan(base + "tx_power_dbm = 17\n").aps[0].eirp_dbm == (20, 20, 20)  # + 3 dBi by default
    assert parse_plan(base + "tx_power_dbm = 17\nantenna_gain_dbi = 5\n").aps[0].eirp_dbm == (22, 22, 22)
    assert parse_plan(base + 'bands = ["6", "2.4"]\n').aps[0].bands == (Band.G2_4, Band.G6)
