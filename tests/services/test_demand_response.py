"""The demand-response service: opt policy, operator overrides, cancellation, caps from the stored events."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from chargewise.adapters.memory_demand import MemoryDemandEvents
from chargewise.charging.demand import Cap, DemandError, DemandEvent
from chargewise.services.demand_response import DemandResponse, OptPolicy

START = datetime(2026, 1, 5, 16, tzinfo=UTC)
SITES = {"main": "depot", "feeder-1": "depot", "hq-main": "hq"}


def cap_event(event_id: str = "e1", node: str = "main", kw: float = 40.0, origin: str = "vtn-1") -> DemandEvent:
    return DemandEvent(
        id=event_id,
        source="openadr2",
        start=START,
        end=START + timedelta(hours=2),
        node=node,
        signal=Cap(kw=kw),
        origin=origin,
    )


def service(policy: OptPolicy | None = None) -> DemandResponse:
    return DemandResponse(MemoryDemandEvents(), SITES, policy)


async def test_default_policy_opts_in_and_the_cap_applies() -> None:
    dr = service()
    answer = await dr.receive([cap_event()])
    assert (answer.kind, answer.by) == ("optIn", "policy")
    assert await dr.cap_at("main", START + timedelta(minutes=30), limit_kw=100) == 40


@pytest.mark.parametrize(
    ("node", "policy", "kind", "reason"),
    [
        ("nowhere", OptPolicy(), "optOut", "node 'nowhere' is not in any site"),
        ("hq-main", OptPolicy(opted_out_sites=frozenset({"hq"})), "optOut", "site 'hq' opted out"),
        ("main", OptPolicy(opted_out_sites=frozenset({"hq"})), "optIn", "site 'depot' default"),
        ("main", OptPolicy(default="optOut"), "optOut", "site 'depot' default"),
    ],
)
async def test_opt_policy(node: str, policy: OptPolicy, kind: str, reason: str) -> None:
    dr = service(policy)
    answer = await dr.receive([cap_event(node=node)])
    assert answer.kind == kind
    assert reason in answer.reason
    held = await dr.events(node)
    assert [one.opt for one in held] == [answer]


async def test_an_opted_out_event_caps_nothing() -> None:
    dr = service()
    await dr.receive([cap_event(node="nowhere")])
    assert await dr.cap_at("nowhere", START, limit_kw=100) is None


async def test_operator_decision_survives_a_source_update() -> None:
    dr = service()
    await dr.receive([cap_event()])
    heard: list[DemandEvent] = []
    dr.subscribe(heard.append)
    await dr.set_opt("e1", "optOut", by="operator:ana", reason="site visit")
    assert [(one.id, one.opt and one.opt.kind) for one in heard] == [("e1", "optOut")]
    answer = await dr.receive([replace(cap_event(kw=30), modification=1)])
    assert (answer.kind, answer.by) == ("optOut", "operator:ana")
    assert await dr.cap_at("main", START, limit_kw=100) is None


async def test_all_intervals_of_one_source_event_get_one_answer() -> None:
    dr = service()
    first = cap_event("e1#0")
    second = replace(cap_event("e1#1", kw=20), start=first.end, end=first.end + timedelta(hours=1))
    answer = await dr.receive([first, second])
    assert answer.kind == "optIn"
    grid = [(START, timedelta(hours=1)), (first.end, timedelta(hours=1))]
    assert await dr.caps_for_slots({"main": 100}, grid) == {"main": [40, 20]}
    assert await dr.slot_notes({"main": 100}, grid) == {
        "main": {0: "demand-response event e1#0: at most 40 kW", 1: "demand-response event e1#1: at most 20 kW"}
    }
    assert [(cap.event_id, cap.cap_kw) for cap in await dr.demand_caps({"main": 100})] == [("e1#0", 40), ("e1#1", 20)]


async def test_cancel_lifts_the_cap() -> None:
    dr = service()
    await dr.receive([cap_event()])
    cancelled = await dr.cancel("vtn-1")
    assert [one.status for one in cancelled] == ["cancelled"]
    assert await dr.cap_at("main", START, limit_kw=100) is None


async def test_invalid_event_is_refused_in_one_line() -> None:
    dr = service()
    with pytest.raises(DemandError, match="end:"):
        await dr.receive([replace(cap_event(), end=START)])
    assert await dr.events() == []


async def test_compliance_of_a_held_event() -> None:
    dr = service()
    await dr.receive([cap_event()])
    assert await dr.recorded_compliance("e1") is None
    result = await dr.compliance("e1", [(START, 50.0), (START + timedelta(minutes=5), 35.0)])
    assert (result.kw_minutes_over, result.minutes_to_comply) == (50.0, 5.0)
    assert await dr.recorded_compliance("e1") == result
    with pytest.raises(DemandError, match="no such event"):
        await dr.compliance("nope", [])


async def test_an_update_with_fewer_intervals_cancels_the_missing_ones() -> None:
    dr = service()
    first = cap_event("e1#0")
    second = replace(cap_event("e1#1", kw=20), start=first.end, end=first.end + timedelta(hours=1))
    await dr.receive([first, second])
    await dr.receive([replace(first, modification=1)])
    assert {one.id: one.status for one in await dr.events()} == {"e1#0": "far", "e1#1": "cancelled"}
