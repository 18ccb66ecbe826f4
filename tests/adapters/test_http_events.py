"""``GET /api/v1/events``: the hub's events as server-sent events, with filters, replay, keep-alives, dropped
notices and the API's bearer token (header, or ``?access_token=`` for EventSource)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, get_args

import aiohttp
import pytest
from aiohttp import web

from chargewise.adapters import http_events
from chargewise.adapters.api_event_models import KindName
from chargewise.adapters.api_models import openapi_document
from chargewise.services.events import EventHub, Kind
from tests.conftest import RunningServer

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@dataclass
class Message:
    event: str | None
    id: str | None
    data: Any
    comments: list[str]


class Stream:
    """The messages of one open SSE response, parsed as a browser's EventSource does (plus comment lines)."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self.response = response

    async def next(self, within: float = 5.0) -> Message:
        fields: dict[str, str] = {}
        comments: list[str] = []
        async with asyncio.timeout(within):
            while True:
                line = (await self.response.content.readline()).decode()
                assert line, "the stream ended"
                line = line.rstrip("\n")
                if line == "":
                    if fields.keys() - {"retry"} or comments:
                        data = fields.get("data")
                        return Message(event=fields.get("event"), id=fields.get("id"), comments=comments,
                                       data=json.loads(data) if data is not None else None)  # fmt: skip
                    continue
                if line.startswith(":"):
                    comments.append(line[1:].strip())
                    continue
                name, _, value = line.partition(":")
                fields[name] = value.removeprefix(" ")

    async def events(self, count: int) -> list[Message]:
        out: list[Message] = []
        while len(out) < count:
            message = await self.next()
            if message.event is not None:
                out.append(message)
        return out


@asynccontextmanager
async def opened(base: str, query: str = "", headers: dict[str, str] | None = None) -> AsyncIterator[Stream]:
    async with (
        aiohttp.ClientSession(headers=headers or {}) as http,
        http.get(f"{base}/api/v1/events{query}") as response,
    ):
        assert response.status == 200, await response.text()
        assert response.headers["Content-Type"].startswith("text/event-stream")
        stream = Stream(response)
        first = await stream.next()
        assert first.comments == ["chargewise events"]  # the stream is open: events published now reach it
        yield stream


async def status(base: str, query: str = "", headers: dict[str, str] | None = None) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession(headers=headers or {}) as http,
        http.get(f"{base}/api/v1/events{query}") as response,
    ):
        return response.status, await response.json()


def publish(hub: EventHub, kind: Kind, charger: str | None, **data: Any) -> int:
    return hub.publish(kind, T0, charger, data).seq


# ---------------------------------------------------------------------- on the real server (auth, filters, replay)
async def test_auth_by_header_or_query_token_and_refusals(server: RunningServer) -> None:
    base = server.http_url
    code, body = await status(base)
    assert code == 401 and "Bearer" in body["fix"]
    assert (await status(base, "?access_token=wrong"))[0] == 401
    assert (await status(base, headers={"Authorization": "Bearer wrong"}))[0] == 401
    hub = server.app.central.events
    async with (
        opened(base, headers=server.headers) as by_header,
        opened(base, f"?access_token={server.admin_token}") as by_query,
    ):
        seq = publish(hub, Kind.STATUS, "CP1", evse=1, connector=1, status="Charging", error=None)
        for stream in (by_header, by_query):
            [message] = await stream.events(1)
            assert message.event == "status" and message.id == str(seq)
            assert message.data == {
                "seq": seq,
                "kind": "status",
                "at": "2026-12-01T12:00:00Z",
                "charger_id": "CP1",
                "data": {"evse": 1, "connector": 1, "status": "Charging", "error": None},
            }
    # the query token stands for the header on the stream alone
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{base}/api/v1/chargers?access_token={server.admin_token}") as r,
    ):
        assert r.status == 401


async def test_filters_by_kind_and_charger(server: RunningServer) -> None:
    hub = server.app.central.events
    async with opened(server.http_url, "?kinds=status,meter&chargers=A,B", server.headers) as stream:
        publish(hub, Kind.STATUS, "C", status="Available")  # another charger
        publish(hub, Kind.CONNECTION, "A", connected=True)  # another kind
        wanted = [publish(hub, Kind.METER, "A", power_w=7400.0), publish(hub, Kind.STATUS, "B", status="Faulted")]
        publish(hub, Kind.TRANSACTION, "B", state="started")
        last = publish(hub, Kind.METER, "B", power_w=0.0)
        got = await stream.events(3)
    assert [int(m.id or 0) for m in got] == [*wanted, last]
    assert [(m.event, m.data["charger_id"]) for m in got] == [("meter", "A"), ("status", "B"), ("meter", "B")]


async def test_last_event_id_replays_what_was_missed_then_goes_live(server: RunningServer) -> None:
    hub = server.app.central.events
    first = publish(hub, Kind.STATUS, "R1", status="Preparing")
    missed = [publish(hub, Kind.STATUS, "R1", status="Charging"), publish(hub, Kind.METER, "R1", power_w=11000.0)]
    async with opened(server.http_url, "?chargers=R1", {**server.headers, "Last-Event-ID": str(first)}) as stream:
        replayed = await stream.events(2)
        live = publish(hub, Kind.STATUS, "R1", status="Finishing")
        [after] = await stream.events(1)
    assert [int(m.id or 0) for m in replayed] == missed and int(after.id or 0) == live
    # a first connection asks the same with ?last_event_id= (the header, when both come, wins)
    async with opened(server.http_url, f"?chargers=R1&last_event_id={first - 1}", server.headers) as stream:
        assert [int(m.id or 0) for m in await stream.events(3)] == [first, *missed]
    headers = {**server.headers, "Last-Event-ID": str(missed[0])}
    async with opened(server.http_url, "?chargers=R1&last_event_id=0", headers) as stream:
        assert [int(m.id or 0) for m in await stream.events(1)] == [missed[1]]


@pytest.mark.parametrize(("query", "headers", "field"), [
    ("?kinds=status,colour", {}, "kinds: unknown kind 'colour'"),
    ("?kind=status", {}, "unknown query parameter 'kind'"),
    ("", {"Last-Event-ID": "yesterday"}, "Last-Event-ID 'yesterday' is not an event id"),
    ("?last_event_id=-4", {}, "last_event_id '-4' is not an event id"),
])  # fmt: skip
async def test_bad_filters_are_400_naming_the_field(server: RunningServer, query: str, headers: dict[str, str],
                                                     field: str) -> None:  # fmt: skip
    code, body = await status(server.http_url, query, {**server.headers, **headers})
    assert code == 400 and body["error"] == field and body["fix"]


async def test_stopping_the_server_ends_open_streams(tmp_path: Any) -> None:
    from tests.conftest import start_server

    running = await start_server(tmp_path / "data")
    async with opened(running.http_url, "", running.headers) as stream:
        began = time.monotonic()
        await running.app.stop()
        with pytest.raises(AssertionError, match="the stream ended"):
            await stream.next()
    assert time.monotonic() - began < 5
    assert running.app.central.events.listeners() == 0


def test_the_openapi_document_describes_the_stream() -> None:
    doc = openapi_document()
    op = doc["paths"]["/api/v1/events"]["get"]
    assert [p["name"] for p in op["parameters"]] == [
        "kinds",
        "chargers",
        "last_event_id",
        "Last-Event-ID",
        "access_token",
    ]
    assert "text/event-stream" in op["responses"]["200"]["content"] and {"400", "401"} <= set(op["responses"])
    assert {"EventView", "DroppedNotice"} <= set(doc["components"]["schemas"])
    assert {"bearer", "access_token"} <= set(doc["components"]["securitySchemes"])
    assert set(get_args(KindName)) == {k.value for k in Kind}  # the documented kinds are the hub's


# ---------------------------------------------------------------------- the pump alone (keep-alive, drops, restart)
@asynccontextmanager
async def bare(hub: EventHub, *, keepalive_s: float = 15.0, queue: int = 1000) -> AsyncIterator[str]:
    """The stream on an app of its own (no auth), with short keep-alives or a small queue."""
    app = web.Application()
    http_events.add_routes(app, hub, keepalive_s=keepalive_s, queue=queue)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


async def test_an_idle_stream_gets_keep_alive_comments() -> None:
    hub = EventHub()
    async with bare(hub, keepalive_s=0.05) as base, opened(base) as stream:
        began = time.monotonic()
        idle = [await stream.next(), await stream.next()]
        seq = publish(hub, Kind.METER, "K", power_w=1.0)
        [event] = await stream.events(1)
    assert [m.comments for m in idle] == [["keep-alive"], ["keep-alive"]] and time.monotonic() - began < 2
    assert event.id == str(seq)


async def test_a_slow_listener_is_told_how_many_events_it_lost() -> None:
    hub = EventHub()
    async with bare(hub, queue=5) as base, opened(base) as stream:
        seqs = [publish(hub, Kind.METER, "S", power_w=float(i)) for i in range(12)]  # before the stream reads any
        got = await stream.events(6)
    assert got[0].event == "dropped" and got[0].data["dropped"] == 7 and got[0].data["reason"] == "slow"
    assert "7 events were lost" in got[0].data["message"] and got[0].data["fix"]
    assert [int(m.id or 0) for m in got[1:]] == seqs[7:]  # the newest five, in order


async def test_a_replay_past_the_kept_events_or_across_a_restart_says_so() -> None:
    hub = EventHub(keep=3)
    seqs = [publish(hub, Kind.STATUS, "X", status="Available") for _ in range(10)]  # 8, 9, 10 kept
    async with bare(hub) as base:
        async with opened(base, "?last_event_id=2") as stream:
            got = await stream.events(4)
        assert (got[0].event, got[0].data["dropped"], got[0].data["reason"]) == ("dropped", 5, "expired")  # 3..7
        assert [int(m.id or 0) for m in got[1:]] == seqs[7:]
        async with opened(base, "?last_event_id=5000") as stream:  # an id from the process before a restart
            got = await stream.events(4)
        assert (got[0].event, got[0].data["reason"]) == ("dropped", "restarted")
        assert [int(m.id or 0) for m in got[1:]] == seqs[7:]  # everything kept is new to this client


async def test_without_a_hub_the_stream_is_503() -> None:
    app = web.Application()
    http_events.add_routes(app, None)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        code, body = await status(f"http://127.0.0.1:{runner.addresses[0][1]}")
    finally:
        await runner.cleanup()
    assert code == 503 and "event stream" in body["error"]
