"""The garage RF model against connectivity.md: each per-material loss of §1.3 within 1 dB at 2.4 / 5 / 6 GHz,
the worked example of §1.3 within 3 dB, car-body loss (§1.4), the verdict thresholds (§1.5)."""

from __future__ import annotations

import math
import tomllib
from pathlib import Path
from typing import Any

import pytest

from chargewise.doctor.geometry import Box, Point, segment_hits_box, segments_cross
from chargewise.doctor.materials import BANDS, Band, wall_loss_db
from chargewise.doctor.plan import Plan, parse_plan
from chargewise.doctor.rf import Verdict, at_charger, predict, verdict

CASES = Path(__file__).parent / "cases"


def cases(name: str, key: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = tomllib.loads((CASES / name).read_text())[key]
    return rows


def line_plan(walls: list[str], *, distance_m: float = 10.0, car: bool = False, charger_height: float = 1.0,
              ap_height: float = 1.0) -> Plan:  # fmt: skip
    """AP at the origin, the charger ``distance_m`` east at the same height, walls evenly spaced across the
    path (each a TOML fragment of material / thickness), an optional car in the middle."""
    text = f"""
        [[ap]]
        position = [0, 0]
        height_m = {ap_height}
        bands = [2.4, 5, 6]
        [charger]
        position = [{distance_m}, 0]
        height_m = {charger_height}
        bands = [2.4, 5, 6]
    """
    for i, wall in enumerate(walls, 1):
        x = distance_m * i / (len(walls) + 1)
        text += f"\n[[wall]]\nfrom = [{x}, -3]\nto = [{x}, 3]\n{wall}\n"
    if car:
        text += f"\n[car]\nfrom = [{distance_m * 0.4}, -0.9]\nto = [{distance_m * 0.6}, 0.9]\n"
    return parse_plan(text)


def charger_dbm(plan: Plan, band: Band) -> float:
    best = at_charger(plan, band)
    assert best is not None
    return best.median_dbm


def material_toml(row: dict[str, Any]) -> str:
    text = f'material = "{row["material"]}"'
    return text + (f"\nthickness_mm = {row['thickness_mm']}" if "thickness_mm" in row else "")


@pytest.mark.parametrize("row", cases("rf_materials.toml", "row"), ids=lambda r: r["row"][:60])
def test_each_material_loss_of_connectivity_md_within_1_db(row: dict[str, Any]) -> None:
    clear, walled = line_plan([]), line_plan([material_toml(row)])
    for band, expected in zip(BANDS, row["db"], strict=True):
        loss = charger_dbm(clear, band) - charger_dbm(walled, band)
        assert loss == pytest.approx(expected, abs=1.0), f"{row['material']} at {band.label}: {loss:.1f} dB"


def test_earth_is_opaque_at_2_4_ghz() -> None:
    # §1.3 earth / soil: "treat as opaque (more than 25 dB at 2.4 GHz) unless the soil is bone dry"
    loss = charger_dbm(line_plan([]), Band.G2_4) - charger_dbm(line_plan(['material = "earth"']), Band.G2_4)
    assert loss >= 25
    assert all(wall_loss_db("earth", b) >= 25 for b in BANDS)


@pytest.mark.parametrize(
    "row", cases("rf_worked_example.toml", "row"), ids=lambda r: f"{r['garage_wall']}-car{r['car']}"
)
def test_worked_example_within_3_db(row: dict[str, Any]) -> None:
    # default EIRP (20 / 23 / 18 dBm, §1.1), 12 m, an interior stud wall and the garage wall
    plan = line_plan(['material = "stud-wall"', f'material = "{row["garage_wall"]}"'], distance_m=12, car=row["car"])
    for band, expected in zip(BANDS, row["dbm"], strict=True):
        got = charger_dbm(plan, band)
        assert got == pytest.approx(expected, abs=3.0), f"{row['garage_wall']} {band.label}: {got:.1f} dBm"


def test_thickness_interpolates_between_rows_and_grows_past_the_thickest() -> None:
    assert wall_loss_db("concrete", Band.G5, 250) == pytest.approx(33.0)  # half-way between 27 and 39
    assert wall_loss_db("concrete", Band.G2_4, 50) == pytest.approx(5.0)  # below 100 mm: towards 0 dB at 0 mm
    assert wall_loss_db("concrete", Band.G6, 400) == pytest.approx(58.0)  # 44 + (44 - 30)
    thicker = [wall_loss_db("brick", Band.G5, t) for t in (60, 90, 140, 190, 250)]
    assert thicker == sorted(thicker)


@pytest.mark.parametrize(
    ("ap_height", "charger_height", "mean"),
    [(1.0, 1.2, 9.0), (2.4, 1.2, 5.0), (1.0, 1.8, 5.0), (2.4, 1.8, 0.0)],
    ids=["both-below", "ap-above", "charger-above", "both-above"],
)
def test_car_in_the_path_costs_tr_37_885_blockage(ap_height: float, charger_height: float, mean: float) -> None:
    # §1.4: 9 dB both below the 1.6 m roofline, 5 dB with one above, 0 with both above
    plain = line_plan([], ap_height=ap_height, charger_height=charger_height)
    parked = line_plan([], car=True, ap_height=ap_height, charger_height=charger_height)
    for band in BANDS:
        assert charger_dbm(plain, band) - charger_dbm(parked, band) == pytest.approx(mean)
    best = at_charger(parked, Band.G2_4)
    assert best is not None and best.car_db == pytest.approx(mean)


def test_a_car_beside_the_path_costs_nothing_and_the_margin_widens_with_a_car() -> None:
    # the charger 10 m east of the AP, a car parked 3 m north of the path
    plan = parse_plan("[[ap]]\nposition = [0, 0]\n[charger]\nposition = [10, 0]\n[car]\nfrom = [4, 3]\nto = [8, 5]\n")
    best = at_charger(plan, Band.G2_4)
    assert best is not None and best.car_db == 0.0 and best.sigma_db == pytest.approx(5.0)
    blocked = at_charger(line_plan([], car=True), Band.G2_4)
    assert blocked is not None and blocked.sigma_db == pytest.approx(math.hypot(5.0, 4.5))
    assert blocked.margin_db == pytest.approx(1.28 * math.hypot(5.0, 4.5))


def test_free_space_uses_the_3d_distance() -> None:
    flat = charger_dbm(line_plan([], distance_m=3.0), Band.G2_4)
    raised = charger_dbm(line_plan([], distance_m=3.0, ap_height=5.0), Band.G2_4)  # 4 m up: 5 m slant
    assert flat - raised == pytest.approx(20 * math.log10(5 / 3))


@pytest.mark.parametrize("row", cases("rf_geometry.toml", "cross"), ids=lambda r: r["case"])
def test_wall_crossing_geometry(row: dict[str, Any]) -> None:
    (a, b), (c, d) = ([Point(x=x, y=y) for x, y in seg] for seg in (row["path"], row["wall"]))
    assert segments_cross(a, b, c, d) is row["crosses"]
    assert segments_cross(b, a, d, c) is row["crosses"]  # direction does not matter


@pytest.mark.parametrize("row", cases("rf_geometry.toml", "box"), ids=lambda r: r["case"])
def test_car_box_geometry(row: dict[str, Any]) -> None:
    (a, b) = (Point(x=x, y=y) for x, y in row["path"])
    (x0, y0), (x1, y1) = row["car"]
    assert segment_hits_box(a, b, Box(x0=x0, y0=y0, x1=x1, y1=y1)) is row["hits"]


def test_only_walls_on_the_path_are_priced_and_each_is_named() -> None:
    plan = parse_plan("""
        [[ap]]
        position = [0, 0]
        [charger]
        position = [10, 0]
        [[wall]]
        name = "garage wall"
        from = [5, -2]
        to = [5, 2]
        material = "concrete"
        thickness_mm = 200
        [[wall]]
        from = [5, 3]
        to = [5, 9]
        material = "metal"
    """)
    best = at_charger(plan, Band.G2_4)
    assert best is not None
    assert [(t.kind, t.what, t.loss_db) for t in best.terms if t.kind == "wall"] == [
        ("wall", "wall[0] (garage wall) concrete 200 mm", 15.0)
    ]


@pytest.mark.parametrize(
    ("median", "p90", "expected"),
    [(-60, -66.4, Verdict.GOOD), (-65, -71.4, Verdict.GOOD), (-65, -73.6, Verdict.MARGINAL),
     (-70, -76.4, Verdict.MARGINAL), (-75, -81.4, Verdict.MARGINAL), (-75.1, -81.5, Verdict.CRITICAL)],
)  # fmt: skip
def test_verdict_follows_the_planning_rule(median: float, p90: float, expected: Verdict) -> None:
    # §1.5: median >= -65 and the 90 % value >= -72 is good; below -75 critical
    assert verdict(median, p90) is expected


def test_bands_the_aps_do_not_offer_are_what_ifs() -> None:
    plan = parse_plan("[[ap]]\nposition = [0, 0]\nbands = [5]\n[charger]\nposition = [6, 0]\n")
    results = {r.band: r for r in predict(plan)}
    assert results[Band.G2_4].best is None and results[Band.G2_4].charger_supports
    assert results[Band.G5].best is not None and not results[Band.G5].charger_supports
    assert [b.offered for b in results[Band.G2_4].per_ap] == [False]
