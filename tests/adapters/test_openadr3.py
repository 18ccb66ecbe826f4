"""The OpenADR 3 VEN (toadr3) against our small 3.0.1 VTN (tests/adapters/vtn3.py) on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import toadr3

from chargewise.adapters.memory_demand import MemoryDemandEvents
from chargewise.adapters.openadr3 import OPT_PAYLOAD, OpenAdr3Ven, Ven3Settings, map_event
from chargewise.charging.demand import Cap, DemandError, Price, Shed
from chargewise.services.demand_response import DemandResponse
from tests.adapters.vtn3 import Vtn3

START = datetime(2026, 1, 5, 16, tzinfo=UTC)
SITES = {"main": "depot", "feeder-1": "depot"}
CAPACITY = {
    "payloadDescriptors": [
        {"objectType": "EVENT_PAYLOAD_DESCRIPTOR", "payloadType": "IMPORT_CAPACITY_LIMIT", "units": "KW"}
    ]
}


def cap_event(program_id: str, node: str, *kws: float) -> dict[str, Any]:
    return {
        "programID": program_id,
        "eventName": "evening peak",
        "targets": [{"type": "RESOURCE_NAME", "values": [node]}],
        "intervalPeriod": {"start": START.isoformat(), "duration": "PT1H"},
        "intervals": [
            {"id": i, "payloads": [{"type": "IMPORT_CAPACITY_LIMIT", "values": [kw]}]} for i, kw in enumerate(kws)
        ],
    }


@pytest.fixture
async def vtn() -> AsyncIterator[Vtn3]:
    one = Vtn3({"chargewise": "s3cret"})
    await one.start()
    yield one
    await one.stop()


def settings(vtn: Vtn3, **changes: Any) -> Ven3Settings:
    base: dict[str, Any] = {
        "vtn_url": vtn.url,
        "client_name": "chargewise-depot",
        "token_url": f"{vtn.url}/auth/token",
        "client_id": "chargewise",
        "client_secret": "s3cret",
    }
    return Ven3Settings(**(base | changes))


@pytest.fixture
async def ven(vtn: Vtn3) -> AsyncIterator[tuple[OpenAdr3Ven, DemandResponse]]:
    service = DemandResponse(MemoryDemandEvents(), SITES)
    one = OpenAdr3Ven(service, settings(vtn))
    yield one, service
    await one.stop()


def opt_reports(vtn: Vtn3) -> list[tuple[str, str, list[Any]]]:
    return [
        (report["eventID"], resource["resourceName"], resource["intervals"][0]["payloads"][0]["values"])
        for report in vtn.reports.values()
        for resource in report["resources"]
        if resource["intervals"][0]["payloads"][0]["type"] == OPT_PAYLOAD
    ]


async def test_a_capacity_limit_event_arrives_and_is_reported_opted_in(
    vtn: Vtn3, ven: tuple[OpenAdr3Ven, DemandResponse]
) -> None:
    one, service = ven
    program = vtn.add_program({"programName": "depot-dr", **CAPACITY})
    event_id = vtn.add_event(cap_event(program, "main", 22.0, 11.0))
    assert await one.poll() == [event_id]
    held = await service.events("main")
    assert [(e.origin, e.signal, e.start, e.end, e.opt and e.opt.kind) for e in held] == [
        (event_id, Cap(kw=22.0), START, START + timedelta(hours=1), "optIn"),
        (event_id, Cap(kw=11.0), START + timedelta(hours=1), START + timedelta(hours=2), "optIn"),
    ]
    slots = [(START + timedelta(minutes=30 * i), timedelta(minutes=30)) for i in range(5)]
    assert await service.caps_for_slots({"main": 43.0}, slots) == {"main": [22.0, 22.0, 11.0, 11.0, None]}
    assert opt_reports(vtn) == [(event_id, "main", ["optIn", "site 'depot' default"])]
    assert [report.client_name for report in one.reports] == ["chargewise-depot"]


async def test_an_event_for_an_unknown_node_is_reported_opted_out(
    vtn: Vtn3, ven: tuple[OpenAdr3Ven, DemandResponse]
) -> None:
    one, _ = ven
    program = vtn.add_program({"programName": "depot-dr", **CAPACITY})
    event_id = vtn.add_event(cap_event(program, "nowhere", 5.0))
    await one.poll()
    assert opt_reports(vtn) == [(event_id, "nowhere", ["optOut", "node 'nowhere' is not in any site"])]
    assert one.refused == {event_id: "node 'nowhere' is not in any site"}


async def test_an_event_without_a_resource_is_reported_opted_out_as_an_aggregate(
    vtn: Vtn3, ven: tuple[OpenAdr3Ven, DemandResponse]
) -> None:
    one, service = ven
    program = vtn.add_program({"programName": "depot-dr", **CAPACITY})
    event_id = vtn.add_event({**cap_event(program, "main", 5.0), "targets": [{"type": "GROUP", "values": ["north"]}]})
    await one.poll()
    [(reported, resource, (kind, reason))] = opt_reports(vtn)
    assert (reported, resource, kind) == (event_id, "AGGREGATED_REPORT", "optOut")
    assert "no RESOURCE_NAME and no default node" in reason
    assert await service.events() == []


async def test_the_polling_task_survives_a_failing_vtn(vtn: Vtn3) -> None:
    service = DemandResponse(MemoryDemandEvents(), SITES)
    one = OpenAdr3Ven(service, settings(vtn, poll_seconds=0.05))
    program = vtn.add_program({"programName": "depot-dr", **CAPACITY})
    vtn.clients["chargewise"] = "rotated"  # the first polls fail: our secret is wrong
    one.start()
    try:
        await asyncio.sleep(0.2)
        vtn.clients["chargewise"] = "s3cret"
        event_id = vtn.add_event(cap_event(program, "main", 22.0))
        for _ in range(100):
            if await service.events("main"):
                break
            await asyncio.sleep(0.02)
        assert [e.origin for e in await service.events("main")] == [event_id]
    finally:
        await one.stop()


async def test_unchanged_events_are_answered_once_and_changes_again(
    vtn: Vtn3, ven: tuple[OpenAdr3Ven, DemandResponse]
) -> None:
    one, service = ven
    program = vtn.add_program({"programName": "depot-dr", **CAPACITY})
    event_id = vtn.add_event(cap_event(program, "main", 22.0, 11.0))
    await one.poll()
    assert await one.poll() == []
    vtn.modify_event(event_id, cap_event(program, "main", 15.0))
    assert await one.poll() == [event_id]
    by_id = {e.id: (e.signal, e.status) for e in await service.events("main")}
    assert by_id == {
        f"{event_id}/main/0/IMPORT_CAPACITY_LIMIT": (Cap(kw=15.0), "far"),
        f"{event_id}/main/1/IMPORT_CAPACITY_LIMIT": (Cap(kw=11.0), "cancelled"),
    }
    assert len(opt_reports(vtn)) == 2


async def test_a_deleted_event_is_cancelled(vtn: Vtn3, ven: tuple[OpenAdr3Ven, DemandResponse]) -> None:
    one, service = ven
    program = vtn.add_program({"programName": "depot-dr", **CAPACITY})
    event_id = vtn.add_event(cap_event(program, "main", 22.0))
    await one.poll()
    del vtn.events[event_id]
    await one.poll()
    assert [e.status for e in await service.events("main")] == ["cancelled"]
    assert await service.cap_at("main", START, limit_kw=43.0) is None


async def test_only_the_configured_programs_are_followed(vtn: Vtn3) -> None:
    service = DemandResponse(MemoryDemandEvents(), SITES)
    ours, theirs = vtn.add_program({"programName": "depot-dr", **CAPACITY}), vtn.add_program({"programName": "other"})
    vtn.add_event(cap_event(theirs, "main", 1.0))
    wanted = vtn.add_event(cap_event(ours, "main", 30.0))
    one = OpenAdr3Ven(service, settings(vtn, programs=("depot-dr",)))
    try:
        assert await one.poll() == [wanted]
    finally:
        await one.stop()


async def test_more_events_than_one_page(vtn: Vtn3, ven: tuple[OpenAdr3Ven, DemandResponse]) -> None:
    one, service = ven
    program = vtn.add_program({"programName": "depot-dr", **CAPACITY})
    ids = [vtn.add_event(cap_event(program, "feeder-1", 10.0 + i)) for i in range(61)]
    assert await one.poll() == ids
    assert len(await service.events("feeder-1")) == 61


async def test_wrong_credentials_fail_with_the_vtns_reason(vtn: Vtn3) -> None:
    one = OpenAdr3Ven(DemandResponse(MemoryDemandEvents(), SITES), settings(vtn, client_secret="wrong"))
    try:
        with pytest.raises(toadr3.ToadrError, match="invalid_client"):
            await one.poll()
    finally:
        await one.stop()


async def test_no_token_is_forbidden(vtn: Vtn3) -> None:
    one = OpenAdr3Ven(DemandResponse(MemoryDemandEvents(), SITES), settings(vtn, token_url=None))
    try:
        with pytest.raises(toadr3.ToadrError, match="Forbidden 403 - a valid bearer token is required"):
            await one.poll()
    finally:
        await one.stop()


def event_model(payloads: list[dict[str, Any]], **extra: Any) -> toadr3.models.Event:
    body = {
        "id": "e1",
        "programID": "p1",
        "targets": [{"type": "RESOURCE_NAME", "values": ["main"]}],
        "intervalPeriod": {"start": START.isoformat(), "duration": "PT15M"},
        "intervals": [{"id": 0, "payloads": payloads}],
    }
    return toadr3.models.Event.model_validate(body | extra)


@pytest.mark.parametrize(
    ("payload", "descriptors", "signal"),
    [
        (
            {"type": "IMPORT_CAPACITY_LIMIT", "values": [7000]},
            [{"payloadType": "IMPORT_CAPACITY_LIMIT", "units": "W"}],
            Cap(kw=7.0),
        ),
        ({"type": "IMPORT_CAPACITY_LIMIT", "values": [7]}, [], Cap(kw=7.0)),
        (
            {"type": "PRICE", "values": [0.42]},
            [{"payloadType": "PRICE", "currency": "EUR"}],
            Price(per_kwh=0.42, currency="EUR"),
        ),
        ({"type": "SIMPLE", "values": [1]}, [], Shed(fraction=0.25)),
    ],
)
def test_payloads_map_onto_the_internal_model(
    payload: dict[str, Any], descriptors: list[dict[str, Any]], signal: object
) -> None:
    event = event_model(
        [payload], payloadDescriptors=[{"objectType": "EVENT_PAYLOAD_DESCRIPTOR", **one} for one in descriptors]
    )
    [one] = map_event(event, None, None, {1: 0.25})
    assert (one.signal, one.node, one.start, one.end) == (signal, "main", START, START + timedelta(minutes=15))


def test_an_interval_with_its_own_period() -> None:
    event = event_model([{"type": "IMPORT_CAPACITY_LIMIT", "values": [7]}])
    own = {"start": (START + timedelta(hours=3)).isoformat(), "duration": "PT30M"}
    event = event.model_copy(
        update={
            "intervals": [
                toadr3.models.Interval.model_validate(
                    {"id": 0, "intervalPeriod": own, "payloads": [{"type": "IMPORT_CAPACITY_LIMIT", "values": [7]}]}
                )
            ]
        }
    )
    [one] = map_event(event, None, None, {})
    assert (one.start, one.end) == (START + timedelta(hours=3), START + timedelta(hours=3, minutes=30))


@pytest.mark.parametrize(
    ("event", "message"),
    [
        (
            event_model(
                [{"type": "IMPORT_CAPACITY_LIMIT", "values": [7]}],
                payloadDescriptors=[
                    {"objectType": "EVENT_PAYLOAD_DESCRIPTOR", "payloadType": "IMPORT_CAPACITY_LIMIT", "units": "A"}
                ],
            ),
            "units A",
        ),
        (event_model([{"type": "SIMPLE", "values": [9]}]), "SIMPLE level 9"),
        (
            event_model([{"type": "PRICE", "values": [1]}], targets=[{"type": "GROUP", "values": ["g"]}]),
            "no RESOURCE_NAME and no default node",
        ),
    ],
)
def test_unusable_events_say_why(event: toadr3.models.Event, message: str) -> None:
    with pytest.raises(DemandError, match=message):
        map_event(event, None, None, {1: 0.25})
