"""``chargewise sites check|show|allocate``: output for a good file, one line and exit 2 for a bad one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chargewise.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = str(ROOT / "examples" / "site-workplace.toml")
STATE = str(ROOT / "examples" / "state-workplace.json")


def test_check_prints_the_tree(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sites", "check", EXAMPLE]) == 0
    out = capsys.readouterr().out
    assert "ok, site 'Workplace': 4 nodes, 10 chargers, 10 EVSEs" in out
    assert "main (main)  63 A  schedule: daily 17:00 -> 50 A; daily 21:00 -> 63 A  meter (includes EV load)" in out
    assert "cp02/1  3-phase L1->L2 L2->L3 L3->L1  6-32 A" in out
    assert "cp10/1  1-phase L1->L3" in out


def test_show_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sites", "show", EXAMPLE, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["nodes"]["panel-south"]["limit_kw"] == 22.0
    assert data["evses"]["cp03/1"]["wiring"] == ["L3", "L1", "L2"]
    assert data["meter"] == {"node": "main", "includes_ev": True}


def test_allocate_once(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sites", "allocate", EXAMPLE, "--state", STATE, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    evses = data["evses"]
    assert evses["cp05/1"]["cause"] == "offline" and evses["cp04/1"]["cause"] == "idle"
    main_a = data["nodes"]["main"]["phase_a"]
    assert max(main_a) <= 63.0 - 1.0 + 1e-6  # the building load plus every EVSE, under the main less the margin
    assert all(e["limit_a"] == 0 or e["limit_a"] >= 6 for e in evses.values())


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("[nodes.garage]\nlimit_a = -5\n", "nodes.garage.limit_a: -5 is negative (use a current in amps > 0)"),
        ("[nodes.main]\nlimit_a = 63\n[chargers.cp01]\nparent = 'mian'\n", "did you mean 'main'?"),
    ],
)
def test_bad_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, fragment: str) -> None:
    path = tmp_path / "site.toml"
    path.write_text(content)
    assert main(["sites", "check", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"chargewise: error: {path}: ") and fragment in err[0], err


def test_bad_state_and_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"now": "2026-12-02T10:00:00+00:00", "evses": {"cp99/1": {"session": True}}}))
    assert main(["sites", "allocate", EXAMPLE, "--state", str(state)]) == 2
    assert "state.evses.cp99/1: not an EVSE of the site (use one of: cp01/1," in capsys.readouterr().err
    state.write_text(json.dumps({"now": "2026-12-02T10:00:00", "evses": {}}))
    assert main(["sites", "allocate", EXAMPLE, "--state", str(state)]) == 2
    assert "state.now: '2026-12-02T10:00:00' is not a date-time with offset" in capsys.readouterr().err
    assert main(["sites", "check", str(tmp_path / "nope.toml")]) == 2
    assert "cannot read" in capsys.readouterr().err
