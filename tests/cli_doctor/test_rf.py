"""``chargewise doctor rf`` run in-process: the report, the JSON, the PNG, and one-line errors."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest

from chargewise.cli import main

EXAMPLE = str(Path(__file__).resolve().parents[2] / "examples" / "garage.toml")


def test_report_names_each_band_the_budget_the_verdict_and_the_advice(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor", "rf", EXAMPLE]) == 0
    out = capsys.readouterr().out
    assert "2.4 GHz from upstairs: -68 dBm median" in out and "MARGINAL" in out
    assert "5 GHz from upstairs: -87 dBm median" in out and "(the charger's radio has no 5 GHz)" in out
    for line in ("free space 10.2 m", "wall[4] (garage wall) concrete 200 mm", "-15.0 dB", "floor timber-floor",
                 "parked car (the AP above the 1.6 m roofline)", "shadowing margin", "= 90 % of positions"):  # fmt: skip
        assert line in out
    assert "what to change:\n  1. the parked car costs 5 dB" in out
    assert "add a mesh node at" in out


def test_json_for_one_band(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor", "rf", EXAMPLE, "--band", "2.4", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [b["band"] for b in report["bands"]] == ["2.4"]
    best = report["bands"][0]["best"]
    assert best["ap"] == "upstairs" and best["verdict"] == "marginal" and best["median_dbm"] == -68.4
    assert [x["kind"] for x in best["losses"]] == ["free_space", "wall", "floor", "car", "enclosure"]
    assert round(best["eirp_dbm"] - sum(x["db"] for x in best["losses"]), 1) == best["median_dbm"]
    assert [a["kind"] for a in report["advice"]] == ["car_path", "move_ap", "add_node"]
    assert report["heat_map_band"] is None


def test_png_is_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "garage.png"
    assert main(["doctor", "rf", EXAMPLE, "--png", str(out), "--band", "5"]) == 0
    assert f"heat map (5 GHz): {out}" in capsys.readouterr().out
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", data[16:24]) == (1200, 800)


@pytest.mark.parametrize(
    ("plan", "fragment"),
    [
        ("[[ap]]\nposition = [0, 0]\n", "charger: missing; add a [charger] table"),
        ("[charger]\nposition = [5, 0]\n[[ap]]\npositon = [0, 0]\n", "ap[0].positon: unknown key; did you mean 'position'?"),
        ('[charger]\nposition = [5, 0]\n[[ap]]\nposition = [0, 0]\n[[wall]]\nfrom = [2, -1]\nto = [2, 1]\nmaterial = "cinderblock"\n',
         "wall[0].material: unknown material 'cinderblock'; known: stud-wall"),
    ],
    ids=["no-charger", "typo", "unknown-material"],
)  # fmt: skip
def test_bad_plan_is_one_line_with_the_field(tmp_path: Path, capsys: pytest.CaptureFixture[str], plan: str,
                                             fragment: str) -> None:  # fmt: skip
    path = tmp_path / "plan.toml"
    path.write_text(plan)
    assert main(["doctor", "rf", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"chargewise: error: {path}: ") and fragment in err


def test_missing_file_and_unwritable_png(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor", "rf", str(tmp_path / "nope.toml")]) == 2
    assert "PLAN_FILE: no such file" in capsys.readouterr().err
    assert main(["doctor", "rf", EXAMPLE, "--png", str(tmp_path / "no" / "dir" / "x.png")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--png: cannot write" in err
