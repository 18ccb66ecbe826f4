"""Asynchronous commands: a job id at once (``/calls?async=true`` or ``/jobs``), the simulated charger's real
answer later, and a signed callback to a loopback receiver that refuses the first attempt."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from chargewise.domain.model import OcppVersion
from chargewise.services.deliveries import SIGNATURE, verify
from chargewise.simulator.templates import load_template
from tests.adapters.test_http_api import exchange, request
from tests.adapters.test_http_webhooks import Receiver
from tests.conftest import RunningServer
from tests.simulator.test_runner import Runner, spec


async def finished(server: RunningServer, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 15
    while True:
        status, job = await request(server, "GET", f"/api/v1/jobs/{job_id}")
        assert status == 200
        if job["state"] != "pending":
            return job  # type: ignore[no-any-return]
        assert time.monotonic() < deadline, job
        await asyncio.sleep(0.05)


async def test_jobs_answer_later_and_call_back(server: RunningServer) -> None:
    start = time.time()
    runner = Runner([spec("JOB-16", OcppVersion.V16, tpl=load_template("esp32-generic"), start=start, ev_at=None)],
                    url=server.ocpp_url, speed=1, start=start)  # fmt: skip
    receiver = Receiver(failures=1)
    await receiver.start()
    await runner.start()
    try:
        deadline = time.monotonic() + 20
        while not ((await request(server, "GET", "/api/v1/chargers/JOB-16"))[1] or {}).get("boot"):
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
        read = {"action": "GetConfiguration", "payload": {"key": ["HeartbeatInterval"]}}
        status, headers, job = await exchange(server, "POST", "/api/v1/chargers/JOB-16/calls?async=true", json=read)
        assert status == 202 and headers["Location"] == f"/api/v1/jobs/{job['id']}" and job["callback_secret"] is None
        done = await finished(server, job["id"])
        assert done["state"] == "done" and done["finished_at"] and done["answer"]["error"] is None
        assert done["answer"]["result"]["configurationKey"][0]["key"] == "HeartbeatInterval"
        assert "callback_secret" not in done or done["callback_secret"] is None  # shown once, at submission

        status, job = await request(server, "POST", "/api/v1/chargers/JOB-16/jobs",
                                    json={**read, "callback_url": receiver.url})  # fmt: skip
        assert status == 202 and job["callback_secret"]
        deadline = time.monotonic() + 15
        while not receiver.received:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
        sent_headers, body = receiver.received[0]
        assert verify(job["callback_secret"], body, sent_headers[SIGNATURE])
        called = json.loads(body)
        assert called["id"] == job["id"] and called["state"] == "done" and called["answer"]["result"]
        later = await finished(server, job["id"])
        assert later["callback"]["delivered"] == 1 and later["callback"]["failed_attempts"] == 1

        status, job = await request(server, "POST", "/api/v1/chargers/JOB-16/jobs",
                                    json={"action": "Reset", "payload": {"type": "Sideways"}})  # fmt: skip
        failed = await finished(server, job["id"])
        assert failed["state"] == "failed" and failed["answer"] is None and failed["failure"]
        status, job = await request(server, "POST", "/api/v1/chargers/NOBODY/jobs", json={"action": "Heartbeat"})
        assert status == 202 and "not connected" in (await finished(server, job["id"]))["failure"]

        status, headers, listed = await exchange(server, "GET", "/api/v1/jobs?limit=2")
        assert (
            status == 200 and headers["X-Total-Count"] == "4" and len(listed) == 2 and 'rel="next"' in headers["Link"]
        )
        assert listed[0]["charger_id"] == "NOBODY"  # newest first
        status, mine = await request(server, "GET", "/api/v1/jobs?charger_id=JOB-16")
        assert [j["charger_id"] for j in mine] == ["JOB-16"] * 3
        assert (await request(server, "GET", "/api/v1/jobs/nope"))[0] == 404
        status, problem = await request(server, "POST", "/api/v1/chargers/JOB-16/jobs",
                                        json={"action": "Heartbeat", "callback_url": "gopher://x"})  # fmt: skip
        assert status == 422 and "http" in problem["message"]
        status, problem = await request(server, "POST", "/api/v1/chargers/JOB-16/calls?async=maybe", json=read)
        assert status == 400 and "true or false" in problem["message"]  # the query's fault, not the body's
    finally:
        await runner.stop()
        await receiver.runner.cleanup()
