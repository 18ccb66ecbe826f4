"""The operators' REST surfaces against a real server and a simulated charger: the message trace (JSON,
NDJSON download, live stream, credentials redacted), /metrics (token, counters), the doctor's sweep."""

from __future__ import annotations

import asyncio
import json
import time

import aiohttp

from chargewise.domain.model import OcppVersion
from chargewise.services.events import Kind
from chargewise.simulator.templates import load_template
from tests.conftest import RunningServer
from tests.simulator.ocpp_csms import until
from tests.simulator.test_runner import Runner, spec

SECRET = "0123456789abcdef-secret"


async def test_trace_metrics_and_sweep(server: RunningServer) -> None:
    charger = "OPS-1"
    start = time.time()
    runner = Runner([spec(charger, OcppVersion.V16, tpl=load_template("esp32-generic"), ev_at=None, start=start)],
                    url=server.ocpp_url, speed=60, start=start)  # fmt: skip
    assert server.app.ops is not None and server.app.ops.trace is not None
    trace = server.app.ops.trace
    await runner.start()
    try:
        await until(lambda: any(b"BootNotification" in f.data for f in trace.frames(charger)), 20)
        await until(lambda: any(f.direction == "out" for f in trace.frames(charger)), 10)  # and its answer
        async with aiohttp.ClientSession(headers=server.headers) as http:
            base = f"{server.http_url}/api/v1/chargers/{charger}/trace"
            async with http.get(base) as r:
                frames = await r.json()
                assert r.status == 200
            boot = [f for f in frames if "BootNotification" in f["frame"]]
            assert boot[0]["direction"] == "in" and boot[0]["at"].endswith("Z")
            assert {f["direction"] for f in frames} == {"in", "out"}  # the answers too
            async with http.get(base, params={"format": "ndjson", "limit": "2"}) as r:
                assert "attachment" in r.headers["Content-Disposition"]
                lines = (await r.text()).splitlines()
                assert len(lines) == 2 and all(json.loads(line)["frame"] for line in lines)
            async with http.get(base, params={"limit": "many"}) as r:
                assert r.status == 400 and "limit" in (await r.json())["error"]
            async with http.get(f"{server.http_url}/api/v1/chargers/NOPE/trace") as r:
                assert r.status == 404

            async with http.get(f"{base}/stream", params={"history": "0"}) as stream:
                assert stream.status == 200
                change = {"action": "ChangeConfiguration", "payload": {"key": "AuthorizationKey", "value": SECRET}}
                async with http.post(f"{server.http_url}/api/v1/chargers/{charger}/calls", json=change) as r:
                    assert r.status == 200
                streamed = []
                while not any("ChangeConfiguration" in f["frame"] for f in streamed):  # other traffic may come first
                    assert len(streamed) < 50
                    line = await asyncio.wait_for(stream.content.readline(), 10)
                    if line.strip():
                        streamed.append(json.loads(line))
                change_frame = next(f for f in streamed if "ChangeConfiguration" in f["frame"])
                assert change_frame["direction"] == "out"
                assert SECRET not in change_frame["frame"] and "***" in change_frame["frame"]
            assert all(SECRET.encode() not in f.data for f in trace.frames(charger))

            async with aiohttp.ClientSession() as anonymous, anonymous.get(f"{server.http_url}/metrics") as r:
                assert r.status == 401
            async with http.get(f"{server.http_url}/metrics") as r:
                text = await r.text()
                assert r.status == 200 and r.headers["Content-Type"].startswith("text/plain")
            assert 'chargewise_messages_total{action="BootNotification",result="ok"} 1.0' in text
            assert "chargewise_connections 1.0" in text
            assert 'chargewise_commands_total{action="ChangeConfiguration",outcome="ok"} 1.0' in text
            assert 'chargewise_message_seconds_bucket{action="BootNotification",le="+Inf"} 1.0' in text
            assert "chargewise_meter_queue 0.0" in text and "chargewise_trace_redacted_total" in text

        sweep = server.app.ops.sweep
        assert sweep is not None
        assert await sweep.sweep() == 1  # the first look at a charger is a change
        finding = server.app.central.events.recent(5, kinds=[Kind.FINDING], chargers=[charger])
        assert finding and finding[-1].data["cause"] == sweep.top[charger].cause
        assert await sweep.sweep() == 0  # the same top finding: no new event
    finally:
        await runner.stop()
