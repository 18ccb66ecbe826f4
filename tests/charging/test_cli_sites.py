"""``chargewise sites check|show|allocate|plan``: output for a good file (or a running server's plan), one line and
exit 2 for a bad one."""

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


async def test_plan_reads_the_running_servers_plan_and_says_what_is_wrong_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    import aiohttp

    from tests.conftest import start_server

    server = await start_server(tmp_path / "data")
    monkeypatch.setenv("CHARGEWISE_ADMIN_TOKEN", server.admin_token)
    monkeypatch.setenv("CHARGEWISE_NO_UVLOOP", "1")
    common = ["--server", server.http_url, "--data-dir", str(tmp_path)]

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out = capsys.readouterr()
        return code, out.out, out.err

    try:
        document = {"nodes": {"main": {"kind": "main", "limit_a": 32}}, "chargers": {"wb": {"parent": "main"}}}
        url = f"{server.http_url}/api/v1/sites/garage"
        async with aiohttp.ClientSession() as http, http.put(url, json=document, headers=server.headers) as r:
            assert r.status == 201
        code, out, _ = await asyncio.to_thread(run, "sites", "plan", "garage", *common)
        assert code == 0 and out.splitlines() == [
            "site garage: no plan (no session in mode plan with an energy and a departure ahead)"]  # fmt: skip
        code, out, _ = await asyncio.to_thread(run, "sites", "plan", "garage", "--json", *common)
        assert code == 0 and json.loads(out)["site"] == "garage" and json.loads(out)["evses"] == []
        code, _, err = await asyncio.to_thread(run, "sites", "plan", "nope", *common)
        lines = err.strip().splitlines()
        assert code == 2 and len(lines) == 1 and "no site 'nope'" in lines[0] and "garage" in lines[0], lines
    finally:
        await server.app.stop()


async def test_plan_lines_name_each_car_its_energy_and_why() -> None:
    """The lines printed for a real plan (the REST view of one made by the loop's planner)."""
    import dataclasses
    from datetime import UTC, datetime, timedelta

    import msgspec

    from chargewise.adapters.http_site_plan import plan_view
    from chargewise.charging.sitefile import parse
    from chargewise.charging.state import EvseState, SiteState
    from chargewise.cli_sites import plan_lines
    from chargewise.services.site_planning import planned
    from chargewise.services.smart_charging import SiteLoop

    t0 = datetime(2026, 12, 2, 18, 5, tzinfo=UTC)
    file = parse('[site]\nname = "home"\n[nodes.main]\nlimit_a = 33\n[chargers.A]\nparent = "main"\nmode = "plan"\n')
    state = SiteState(evses={"A/1": EvseState(session=True, energy_kwh=4.0, departure=t0 + timedelta(hours=2))})
    _, live = await planned(file, file.site, state, t0, None, caps=[], caps_a={}, told={}, current=None)
    site = dataclasses.replace(SiteLoop(file=file), plan=live, in_session={"A/1"})
    lines = plan_lines(msgspec.to_builtins(plan_view(site)))
    assert lines[0].startswith("site home: plan made 2026-12-02T18:05:00") and "(first plan, " in lines[0]
    assert "note: no tariff in the site file" in lines[1]
    assert lines[2].startswith("A/1: 4 kWh by 2026-12-02T20:00:00") and "(met)" in lines[2]
    assert any(line.startswith("  ") and "as asked" in line for line in lines[3:]), lines
    assert lines[-1].startswith("now A/1 (plan): -: plan:"), lines
