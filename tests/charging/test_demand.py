"""The demand-response core: caps per node and per slot, status, validation and compliance (tables in cases/)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chargewise.charging.demand import (
    Cap,
    DemandError,
    Shed,
    cap_kw,
    caps_at,
    caps_for_slots,
    check_event,
    compliance,
    demand_caps,
    prices_for_slots,
    slot_notes,
    status_at,
)
from tests.charging.demand_cases import event, load, slots, when

CAPS = load("demand_caps.json")
COMPLIANCE = load("demand_compliance.json")


@pytest.mark.parametrize("case", CAPS["at"], ids=lambda case: case["name"])
def test_caps_at(case: dict[str, Any]) -> None:
    events = [event(row) for row in case["events"]]
    got = caps_at(events, case["node"], when(case["at"]), case["limit_kw"], case.get("baseline_kw"))
    assert got == (None if case["expect"] is None else pytest.approx(case["expect"]))


@pytest.mark.parametrize("case", CAPS["slots"], ids=lambda case: case["name"])
def test_caps_for_slots(case: dict[str, Any]) -> None:
    events = [event(row) for row in case["events"]]
    got = caps_for_slots(events, case["limits"], slots(case["slots"]), case.get("baselines"))
    assert got == case["expect"]


@pytest.mark.parametrize("case", COMPLIANCE["cases"], ids=lambda case: case["name"])
def test_compliance(case: dict[str, Any]) -> None:
    samples = [(when(at), kw) for at, kw in case["samples"]]
    got = compliance(event(case["event"]), samples, limit_kw=case.get("limit_kw"))
    expect = case["expect"]
    assert got.kw_minutes_over == pytest.approx(expect["kw_minutes_over"])
    assert got.max_excess_kw == pytest.approx(expect["max_excess_kw"])
    assert got.minutes_to_comply == (
        None if expect["minutes_to_comply"] is None else pytest.approx(expect["minutes_to_comply"])
    )
    assert got.covered_minutes == pytest.approx(expect["covered_minutes"])


START = datetime(2026, 1, 5, 16, tzinfo=UTC)
BASE = event({"id": "a", "start": START.isoformat(), "end": (START + timedelta(hours=1)).isoformat(), "cap_kw": 40})


@pytest.mark.parametrize(
    ("offset_min", "near_min", "cancelled", "expect"),
    [
        (-30, 0, False, "far"),
        (-30, 30, False, "near"),
        (-31, 30, False, "far"),
        (0, 0, False, "active"),
        (59, 0, False, "active"),
        (60, 0, False, "completed"),
        (10, 0, True, "cancelled"),
    ],
)
def test_status_at(offset_min: int, near_min: int, cancelled: bool, expect: str) -> None:
    one = replace(BASE, near_before=timedelta(minutes=near_min), status="cancelled" if cancelled else "far")
    assert status_at(one, START + timedelta(minutes=offset_min)) == expect


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"end": START}, "end:"),
        ({"start": START.replace(tzinfo=None)}, "start:"),
        ({"signal": Cap(kw=-1)}, "cap:"),
        ({"signal": Cap(kw=float("nan"))}, "cap:"),
        ({"signal": Shed(fraction=1.5)}, "shed:"),
        ({"node": ""}, "node:"),
        ({"id": ""}, "id:"),
    ],
)
def test_check_event_names_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(DemandError, match=field) as raised:
        check_event(replace(BASE, **change))
    assert "\n" not in str(raised.value)


def test_check_event_accepts_a_good_event() -> None:
    assert check_event(BASE) is BASE


def test_baseline_shed_without_baseline_says_so() -> None:
    shed = replace(BASE, signal=Shed(fraction=0.5, basis="baseline"))
    with pytest.raises(DemandError, match="baseline of node main"):
        cap_kw(shed, limit_kw=100)


def test_prices_for_slots_takes_the_highest_price_in_force() -> None:
    rows = [
        {"id": "p1", "start": "2026-01-05T16:00:00Z", "end": "2026-01-05T17:00:00Z", "price": 0.40},
        {"id": "p2", "start": "2026-01-05T16:30:00Z", "end": "2026-01-05T17:30:00Z", "price": 0.55},
        {"id": "p3", "start": "2026-01-05T16:00:00Z", "end": "2026-01-05T18:00:00Z", "price": 9.0, "opt": "optOut"},
    ]
    grid = slots({"start": "2026-01-05T15:30:00Z", "minutes": 30, "count": 5})
    assert prices_for_slots([event(row) for row in rows], "main", grid) == [None, 0.40, 0.55, 0.55, None]


def test_demand_caps_resolve_sheds_and_skip_what_does_not_bind() -> None:
    rows = [
        {"id": "cap", "start": "2026-01-05T16:00:00Z", "end": "2026-01-05T18:00:00Z", "cap_kw": 40},
        {"id": "shed", "node": "feeder-1", "start": "2026-01-05T16:00:00Z", "end": "2026-01-05T17:00:00Z", "shed": 0.5},
        {"id": "out", "start": "2026-01-05T16:00:00Z", "end": "2026-01-05T18:00:00Z", "cap_kw": 1, "opt": "optOut"},
        {"id": "price", "start": "2026-01-05T16:00:00Z", "end": "2026-01-05T18:00:00Z", "price": 0.5},
        {"id": "elsewhere", "node": "hq", "start": "2026-01-05T16:00:00Z", "end": "2026-01-05T18:00:00Z", "cap_kw": 1},
    ]
    caps = demand_caps([event(row) for row in rows], {"main": 100.0, "feeder-1": 30.0})
    assert [(cap.event_id, cap.node, cap.cap_kw, cap.start, cap.end) for cap in caps] == [
        ("cap", "main", 40, when("2026-01-05T16:00:00Z"), when("2026-01-05T18:00:00Z")),
        ("shed", "feeder-1", 15.0, when("2026-01-05T16:00:00Z"), when("2026-01-05T17:00:00Z")),
    ]


def test_slot_notes_name_the_event_that_sets_each_cap() -> None:
    rows = [
        {"id": "wide", "start": "2026-01-05T16:00:00Z", "end": "2026-01-05T18:00:00Z", "cap_kw": 40},
        {"id": "deep", "start": "2026-01-05T17:00:00Z", "end": "2026-01-05T17:30:00Z", "cap_kw": 10},
    ]
    grid = slots({"start": "2026-01-05T15:00:00Z", "minutes": 60, "count": 4})
    notes = slot_notes([event(row) for row in rows], {"main": 100.0}, grid)
    assert notes == {
        "main": {1: "demand-response event wide: at most 40 kW", 2: "demand-response event deep: at most 10 kW"}
    }
