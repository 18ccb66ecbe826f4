"""``serve --workers 2 --bus nats://...``: two processes share the OCPP and REST ports, each a node of a cluster,
so a REST call reaches the charger whichever worker the call and the charger landed on. Without ``--bus`` the
command refuses in one line."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest
import websockets

from tests.e2e.server_process import ServerProcess
from tests.external_services import require_service

pytestmark = [pytest.mark.slow, pytest.mark.nats, pytest.mark.timeout(300)]


def test_workers_without_a_bus_is_a_one_line_error(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "chargewise", "serve", "--data-dir", str(tmp_path), "--workers", "2"],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 2, done
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "--workers 2 needs --bus nats://" in lines[0], done.stderr


async def both_workers_answer(server: ServerProcess, within: float = 120) -> None:
    """Until both workers answer REST (the first answers /healthz before the second has bound the port)."""
    seen: set[str] = set()
    deadline = asyncio.get_running_loop().time() + within
    while len(seen) < 2:
        assert asyncio.get_running_loop().time() < deadline, f"only {seen} answered REST"
        headers = {"Authorization": f"Bearer {server.token}"}
        async with aiohttp.ClientSession(headers=headers) as one, one.get(f"{server.http_url}/api/v1/cluster") as r:
            seen.add((await r.json())["node"])
        await asyncio.sleep(0.1)


async def test_rest_on_any_worker_reaches_the_charger(tmp_path: Path) -> None:
    require_service("NATS", "127.0.0.1", 4222, "nats-server -js -a 127.0.0.1 -p 4222 &")
    tag = os.urandom(3).hex()
    server = ServerProcess(tmp_path / "data", "--workers", "2", "--bus", "nats://127.0.0.1:4222",
                           "--cluster", f"w{tag}", "--node", f"w{tag}", output=tmp_path / "serve.log")  # fmt: skip
    await server.start(wait=180)
    try:
        await both_workers_answer(server)
        async with websockets.connect(f"{server.ocpp_url}/WORKERS-1", subprotocols=["ocpp1.6"]) as ws:  # type: ignore[list-item]
            await ws.send(json.dumps([2, "b", "BootNotification", {"chargePointVendor": "A", "chargePointModel": "B"}]))
            assert json.loads(await ws.recv())[0] == 3

            async def answer_calls() -> None:
                async for raw in ws:
                    frame = json.loads(raw)
                    if frame[0] == 2 and frame[2] == "GetConfiguration":
                        await ws.send(json.dumps([3, frame[1], {"configurationKey": [
                            {"key": "HeartbeatInterval", "readonly": False, "value": "77"}]}]))  # fmt: skip
                    elif frame[0] == 2:
                        await ws.send(json.dumps([4, frame[1], "NotImplemented", "", {}]))

            answering = asyncio.ensure_future(answer_calls())
            statuses = []
            nodes = set()
            headers = {"Authorization": f"Bearer {server.token}"}
            async with aiohttp.ClientSession(headers=headers) as http:
                for _ in range(12):  # new connections each time: the kernel spreads them over both workers
                    async with aiohttp.ClientSession(headers=headers) as one:
                        async with one.get(f"{server.http_url}/api/v1/cluster") as r:  # same connection, same worker
                            here = await r.json()
                            nodes.add((here["node"], here["chargers_here"]))
                        async with one.post(f"{server.http_url}/api/v1/chargers/WORKERS-1/calls",
                                            json={"action": "GetConfiguration", "payload": {}}) as r:  # fmt: skip
                            body = await r.json()
                            statuses.append((r.status, body.get("result")))
                async with http.get(f"{server.http_url}/api/v1/cluster") as r:
                    view = await r.json()
            answering.cancel()
        assert len(view["nodes"]) == 2, view
        assert all(s == (200, {"configurationKey": [{"key": "HeartbeatInterval", "readonly": False, "value": "77"}]})
                   for s in statuses), statuses  # fmt: skip
        # (1/2)^12 that the kernel gave every call to the worker holding the charger: then nothing was routed
        assert any(count == 0 for _, count in nodes), f"every call landed on the charger's worker: {nodes}"
        print(f"REST answered by {sorted(nodes)} (node, charger links)")
    finally:
        server.terminate()
