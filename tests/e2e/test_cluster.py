"""Two nodes of one cluster in this test process, sharing one store and one bus (the in-process bus, then
NATS): a command on node A reaches a charger linked to node B and returns its real answer; node A's event hub
sees node B's events; a charger that reconnects to another node closes its old link; a node that stops hands
its chargers' presence and its leases over."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import websockets
from ocpp.v16 import call as call16

from chargewise.adapters.memory_bus import MemoryBroker, MemoryBus
from chargewise.domain.bus import Bus
from chargewise.services.events import Kind
from tests.conftest import RunningServer, start_server
from tests.e2e.test_commands import Charger16, post_call
from tests.external_services import require_service
from tests.simulator.ocpp_csms import until


@pytest.fixture(params=["memory", pytest.param("nats", marks=pytest.mark.nats)])
async def nodes(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[tuple[RunningServer, RunningServer]]:
    if request.param == "memory":
        broker = MemoryBroker()
        buses: list[Bus] = [MemoryBus(broker), MemoryBus(broker)]
    else:
        require_service("NATS", "127.0.0.1", 4222, "nats-server -js -a 127.0.0.1 -p 4222 &")
        from chargewise.adapters.nats_bus import connect

        buses = [await connect("nats://127.0.0.1:4222", name=f"t{i}") for i in range(2)]
    db = f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"
    tag = secrets.token_hex(3)
    a = await start_server(tmp_path / "a", db_url=db, bus=buses[0], node=f"A{tag}", cluster=f"t{tag}")
    b = await start_server(tmp_path / "b", db_url=db, bus=buses[1], node=f"B{tag}", cluster=f"t{tag}")
    try:
        yield a, b
    finally:
        for node in (b, a):
            await node.app.stop()


async def boot16(url: str, charger_id: str) -> tuple[Charger16, asyncio.Task[None], websockets.ClientConnection]:
    ws = await websockets.connect(f"{url}/{charger_id}", subprotocols=["ocpp1.6"])  # type: ignore[list-item]
    cp = Charger16(charger_id, ws)
    task = asyncio.create_task(cp.start())
    await cp.call(call16.BootNotification(charge_point_vendor="Acme", charge_point_model="C"))
    return cp, task, ws


async def test_a_command_on_one_node_reaches_a_charger_on_another(nodes: tuple[RunningServer, RunningServer]) -> None:
    a, b = nodes
    charger = f"X-{secrets.token_hex(3)}"
    _, task, ws = await boot16(b.ocpp_url, charger)
    try:
        assert charger in b.app.registry and charger not in a.app.registry
        await until(lambda: a.app.cluster is not None and charger in a.app.cluster.elsewhere, 5)
        # the charger's real answers, through node B, to REST on node A
        assert await post_call(a, charger, "Reset", {"type": "Soft"}) == (
            200, {"action": "Reset", "result": {"status": "Accepted"}, "error": None})  # fmt: skip
        status, answer = await post_call(a, charger, "ChangeConfiguration", {"key": "ReadOnly", "value": "1"})
        assert status == 200 and answer["result"] == {"status": "Rejected"}
        status, answer = await post_call(a, charger, "UnlockConnector", {"connectorId": 1})
        assert status == 200 and answer["error"]["code"] == "NotImplemented"
        status, answer = await post_call(a, charger, "Reset", {"type": "Gentle"})  # refused by node B's validation
        assert status in (400, 422) and "type" in answer["error"]
    finally:
        task.cancel()
        await ws.close()
    await until(lambda: charger not in b.app.registry, 5)
    status, answer = await post_call(a, charger, "Reset", {"type": "Soft"})
    assert status == 409 and "not connected" in answer["error"]


async def test_events_of_every_node_reach_each_hub(nodes: tuple[RunningServer, RunningServer]) -> None:
    a, b = nodes
    charger = f"E-{secrets.token_hex(3)}"
    with a.app.central.events.subscribe(chargers=[charger]) as seen:
        cp, task, ws = await boot16(b.ocpp_url, charger)
        try:
            await cp.call(call16.StatusNotification(connector_id=1, error_code="NoError", status="Preparing"))
            started = await cp.call(call16.StartTransaction(connector_id=1, id_tag="TAG", meter_start=100,
                                                            timestamp="2026-12-02T04:00:00Z"))  # fmt: skip
            got = []
            async with asyncio.timeout(10):
                while not any(e.kind is Kind.TRANSACTION for e in got):
                    event = await seen.next(1)
                    if event is not None:
                        got.append(event)
        finally:
            task.cancel()
            await ws.close()
    assert all(e.node == b.app.cluster.node for e in got if b.app.cluster)  # type: ignore[union-attr]
    assert [e.kind for e in got][:2] == [Kind.CONNECTION, Kind.STATUS]
    tx = next(e for e in got if e.kind is Kind.TRANSACTION)
    assert tx.data["transaction_id"] == started.transaction_id and tx.data["state"] == "started"


async def test_the_newest_link_wins_across_nodes(nodes: tuple[RunningServer, RunningServer]) -> None:
    a, b = nodes
    charger = f"N-{secrets.token_hex(3)}"
    _, task_b, ws_b = await boot16(b.ocpp_url, charger)
    _, task_a, ws_a = await boot16(a.ocpp_url, charger)
    try:
        async with asyncio.timeout(5):
            await ws_b.wait_closed()
        assert ws_b.close_code == 1000 and "newer connection on node" in (ws_b.close_reason or "")
        await until(lambda: charger not in b.app.registry and charger in a.app.registry, 5)
        status, answer = await post_call(b, charger, "Reset", {"type": "Soft"})  # now reached through node A
        assert status == 200 and answer["result"] == {"status": "Accepted"}
    finally:
        for task, ws in ((task_a, ws_a), (task_b, ws_b)):
            task.cancel()
            await ws.close()


async def test_a_stopped_node_hands_over_its_leases(nodes: tuple[RunningServer, RunningServer]) -> None:
    a, b = nodes
    assert a.app.leases is not None and b.app.leases is not None
    holder, other = (a, b) if a.app.leases.holds("reapers") else (b, a)
    assert holder.app.leases.holds("reapers") and not other.app.leases.holds("reapers")  # type: ignore[union-attr]
    await holder.app.stop()
    await until(lambda: other.app.leases.holds("reapers"), 8)  # type: ignore[union-attr]
    async with aiohttp.ClientSession() as http, http.get(f"{other.http_url}/readyz") as r:
        assert r.status == 200
    other.app.draining = True
    async with aiohttp.ClientSession() as http, http.get(f"{other.http_url}/readyz") as r:
        assert r.status == 503 and "draining" in (await r.json())["error"]
