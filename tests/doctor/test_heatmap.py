"""The heat map adapter: a PNG of the requested size for a plan's coverage grid."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from chargewise.doctor.coverage import coverage
from chargewise.doctor.heatmap import render_png, wall_style
from chargewise.doctor.materials import Band
from chargewise.doctor.plan import parse_plan
from chargewise.doctor.rf import at_charger

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "garage.toml"


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.mark.parametrize(("band", "size"), [(Band.G2_4, (1200, 800)), (Band.G5, (800, 500))])
def test_heat_map_is_a_png_of_the_requested_size(band: Band, size: tuple[int, int]) -> None:
    plan = parse_plan(EXAMPLE.read_text())
    data = render_png(plan, coverage(plan, band), at_charger(plan, band), size_px=size)
    assert png_size(data) == size
    assert len(data) > 20_000  # a drawn map, not an empty canvas


def test_walls_are_coloured_by_material() -> None:
    assert wall_style("concrete-200mm") == wall_style("concrete")
    assert wall_style("metal")[0] != wall_style("stud-wall")[0]
    assert wall_style("low-e-glass")[1] == "low-E glass" and wall_style("glass")[1] == "glass"


def test_a_band_no_ap_offers_draws_grey_without_warnings() -> None:
    plan = parse_plan("[[ap]]\nposition = [0, 0]\nbands = [2.4]\n[charger]\nposition = [3, 0]\n")
    grid = coverage(plan, Band.G6)
    data = render_png(plan, grid, at_charger(plan, Band.G6))  # warnings are errors in this suite
    assert png_size(data) == (1200, 800)
