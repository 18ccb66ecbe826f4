"""A charger's configuration over REST, read and changed through real simulated chargers of both versions
(GetConfiguration / ChangeConfiguration, GetVariables / SetVariables), and its connectors with status."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from chargewise.domain.model import OcppVersion
from chargewise.simulator.templates import load_template
from tests.adapters.test_http_api import request
from tests.conftest import RunningServer
from tests.simulator.test_runner import Runner, spec


@pytest.fixture
async def chargers(server: RunningServer) -> AsyncIterator[RunningServer]:
    start = time.time()
    runner = Runner([spec("CFG-16", OcppVersion.V16, tpl=load_template("esp32-generic"), start=start, ev_at=None),
                     spec("CFG-201", OcppVersion.V201, tpl=load_template("esp32-generic"), start=start, ev_at=None)],
                    url=server.ocpp_url, speed=1, start=start)  # fmt: skip
    await runner.start()
    try:
        deadline = time.monotonic() + 20
        for charger_id in ("CFG-16", "CFG-201"):
            while not ((await request(server, "GET", f"/api/v1/chargers/{charger_id}"))[1] or {}).get("boot"):
                assert time.monotonic() < deadline, f"{charger_id} did not boot"
                await asyncio.sleep(0.05)
        yield server
    finally:
        await runner.stop()


async def test_a_16_charger_configuration_is_read_and_changed(chargers: RunningServer) -> None:
    path = "/api/v1/chargers/CFG-16/configuration"
    status, every = await request(chargers, "GET", path)
    assert status == 200 and every["ocpp_version"] == "1.6"
    keys = {s["key"]: s for s in every["settings"]}
    assert keys["HeartbeatInterval"]["status"] == "Accepted" and keys["NumberOfConnectors"]["readonly"] is True
    status, some = await request(chargers, "GET", path + "?key=HeartbeatInterval&key=NoSuchKey")
    assert [(s["key"], s["status"]) for s in some["settings"]] == [("HeartbeatInterval", "Accepted"),
                                                                   ("NoSuchKey", "Unknown")]  # fmt: skip
    status, changed = await request(chargers, "PUT", path, json={"values": {"HeartbeatInterval": "123",
                                                                            "NumberOfConnectors": "9"}})  # fmt: skip
    assert status == 200 and [s["status"] for s in changed["settings"]] == ["Accepted", "Rejected"]
    status, read = await request(chargers, "GET", path + "?key=HeartbeatInterval")
    assert read["settings"][0]["value"] == "123"
    status, problem = await request(chargers, "PUT", path, json={"values": {"K" * 60: "1"}})
    assert status == 422 and problem["field"] == "values"
    status, problem = await request(chargers, "PUT", path, json={"values": {}})
    assert status == 422


async def test_a_201_charger_variables_are_read_and_changed(chargers: RunningServer) -> None:
    path = "/api/v1/chargers/CFG-201/configuration"
    status, problem = await request(chargers, "GET", path)
    assert status == 400 and "OCPPCommCtrlr.HeartbeatInterval" in problem["fix"]
    status, problem = await request(chargers, "GET", path + "?key=nodot")
    assert status == 400 and "Component.Variable" in problem["message"]
    keys = "?key=OCPPCommCtrlr.HeartbeatInterval&key=OCPPCommCtrlr.MessageAttempts[TransactionEvent]&key=Nope.Nope"
    status, read = await request(chargers, "GET", path + keys)
    assert status == 200 and read["ocpp_version"] == "2.0.1"
    found = {s["key"]: s for s in read["settings"]}
    assert found["OCPPCommCtrlr.HeartbeatInterval"]["status"] == "Accepted"
    assert found["OCPPCommCtrlr.MessageAttempts[TransactionEvent]"]["value"] is not None
    assert found["Nope.Nope"]["status"].startswith("Unknown")
    status, changed = await request(chargers, "PUT", path, json={"values": {"OCPPCommCtrlr.HeartbeatInterval": "77"}})
    assert status == 200 and changed["settings"] == [{"key": "OCPPCommCtrlr.HeartbeatInterval", "value": "77",
                                                      "readonly": None, "status": "Accepted"}]  # fmt: skip
    status, read = await request(chargers, "GET", path + "?key=OCPPCommCtrlr.HeartbeatInterval")
    assert read["settings"][0]["value"] == "77"


async def test_connectors_and_refusals(chargers: RunningServer) -> None:
    status, connectors = await request(chargers, "GET", "/api/v1/chargers/CFG-16/connectors")
    assert status == 200 and connectors and connectors[0]["status"] in ("Available", "Preparing")
    assert (await request(chargers, "GET", "/api/v1/chargers/NOBODY/connectors"))[0] == 404
    assert (await request(chargers, "GET", "/api/v1/chargers/NOBODY/configuration"))[0] == 404
    await chargers.app.admin.add("ASLEEP")
    status, problem = await request(chargers, "GET", "/api/v1/chargers/ASLEEP/configuration")
    assert status == 409 and "not connected" in problem["message"]
