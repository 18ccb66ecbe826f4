"""Composite schedules, table-driven from ``cases/composite.json`` (OCTT and spec-rule examples)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from chargewise.simulator.clock import parse_iso
from chargewise.simulator.composite import Context, Electrical, composite_schedule, limit_at
from chargewise.simulator.profiles import ProfileStore, from_v16, from_v201
from chargewise.simulator.templates import Quirks

CASES = json.loads((Path(__file__).parent / "cases" / "composite.json").read_text())["cases"]
T0 = "2024-08-21T12:24:40Z"


def _requests(case: dict[str, Any]) -> list[tuple[dict[str, Any], list[list[float]]]]:
    return [(case["request"], case["expected"])] + [(a["request"], a["expected"]) for a in case.get("also", [])]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_composite_schedule(case: dict[str, Any]) -> None:
    t0 = parse_iso(case.get("t0", T0))
    store = ProfileStore(evse_count=2, quirks=Quirks(max_stack_level=99), replace_same_slot=case["version"] == "1.6")
    tx = case.get("tx")
    parse = from_v16 if case["version"] == "1.6" else from_v201
    for item in case["profiles"]:
        active = case.get("install_with_tx") or (tx["id"] if tx else None)
        store.install(parse(item["profile"], item["evse"], t0), active_tx=active if item["evse"] else None)
    ctx = Context(tx_id=tx["id"], tx_start=t0 + tx["start"]) if tx else Context()
    electrical = Electrical(**case["electrical"])
    for request, expected in _requests(case):
        evse = request["evse"]
        periods = composite_schedule(
            store.relevant(evse), evse_id=evse, start=t0 + request["start"], duration=request["duration"],
            unit=request["unit"], electrical=electrical, ctx=ctx if evse == 1 else Context(),
        )  # fmt: skip
        assert [[p.start, p.limit, p.phases] for p in periods] == expected


def test_limit_at_follows_the_composite_and_converts_watts_per_phase() -> None:
    t0 = parse_iso(T0)
    store = ProfileStore(evse_count=1, quirks=Quirks())
    raw = {
        "chargingProfileId": 1, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Absolute",
        "chargingSchedule": {"startSchedule": T0, "chargingRateUnit": "W", "chargingSchedulePeriod": [
            {"startPeriod": 0, "limit": 6900}, {"startPeriod": 60, "limit": 2000}]},
    }  # fmt: skip
    store.install(from_v16(raw, 1, t0), active_tx=None)
    electrical = Electrical(phases=3, voltage_v=230, max_current_a=32)
    first = limit_at(store.relevant(1), t0 + 1, evse_id=1, electrical=electrical)
    assert (first.amps, first.phases, first.watts) == (10.0, 3, 6900.0)
    later = limit_at(store.relevant(1), t0 + 61, evse_id=1, electrical=electrical)
    assert round(later.amps, 2) == 2.9  # under 6 A: an EV cannot charge on it (ev.py)
