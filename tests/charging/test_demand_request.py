"""Demand-response events written as JSON (the REST body): the event they give, or their one-line error."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from chargewise.charging.demand import Cap, DemandError, Price, Shed
from chargewise.charging.demand_request import parse_event_request
from tests.charging.demand_cases import load, when

CASES = load("demand_requests.json")


@pytest.mark.parametrize("case", CASES["good"], ids=lambda case: case["name"])
def test_good_requests(case: dict[str, Any]) -> None:
    event = parse_event_request(case["body"])
    kind, value, *extra = case["signal"]
    signal = {
        "cap": lambda: Cap(kw=value),
        "shed": lambda: Shed(fraction=value, basis=extra[0]),
        "price": lambda: Price(per_kwh=value, currency=extra[0]),
    }[kind]()
    assert event.signal == signal
    assert (event.id, event.origin, event.node, event.source) == ("e1", "e1", "main", "rest")
    assert (event.start, event.end) == (when(case["body"]["start"]), when(case["body"]["end"]))
    assert event.near_before == timedelta(minutes=case.get("near_minutes", 0))


@pytest.mark.parametrize("case", CASES["bad"], ids=lambda case: case["name"])
def test_bad_requests(case: dict[str, Any]) -> None:
    with pytest.raises(DemandError) as raised:
        parse_event_request(case["body"])
    assert case["error"] in str(raised.value)
    assert "\n" not in str(raised.value)
