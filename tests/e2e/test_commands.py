"""Remote commands through REST reach the charger (the `ocpp` library's client) and return its real answer."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp
import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as result16
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201

from chargewise.services.connections import LinkSettings
from tests.conftest import RunningServer, start_server


class Charger16(ChargePoint16):  # type: ignore[misc]
    @on("Reset")  # type: ignore[misc]
    async def on_reset(self, type: str) -> result16.Reset:  # noqa: A002 - the ocpp library passes the field name
        return result16.Reset(status="Accepted")

    @on("ChangeConfiguration")  # type: ignore[misc]
    async def on_change(self, key: str, value: str) -> result16.ChangeConfiguration:
        return result16.ChangeConfiguration(status="Rejected" if key == "ReadOnly" else "Accepted")


class Charger201(ChargePoint201):  # type: ignore[misc]
    @on("GetVariables")  # type: ignore[misc]
    async def on_get_variables(self, get_variable_data: list[dict[str, object]]) -> result201.GetVariables:
        return result201.GetVariables(get_variable_result=[
            {"attribute_status": "Accepted", "attribute_value": "60", "component": {"name": "OCPPCommCtrlr"},
             "variable": {"name": "HeartbeatInterval"}}])  # fmt: skip


async def post_call(
    server: RunningServer, charger_id: str, action: str, payload: dict[str, object]
) -> tuple[int, dict]:  # type: ignore[type-arg]
    async with (
        aiohttp.ClientSession(headers=server.headers) as http,
        http.post(
            f"{server.http_url}/api/v1/chargers/{charger_id}/calls", json={"action": action, "payload": payload}
        ) as r,
    ):
        return r.status, await r.json()


async def test_v16_commands_return_the_chargers_answer(server: RunningServer) -> None:
    async with websockets.connect(f"{server.ocpp_url}/CMD16", subprotocols=["ocpp1.6"]) as ws:  # type: ignore[list-item]
        cp = Charger16("CMD16", ws)
        task = asyncio.create_task(cp.start())
        await cp.call(call16.BootNotification(charge_point_vendor="Acme", charge_point_model="C"))
        assert await post_call(server, "CMD16", "Reset", {"type": "Soft"}) == (
            200, {"action": "Reset", "result": {"status": "Accepted"}, "error": None})  # fmt: skip
        status, answer = await post_call(server, "CMD16", "ChangeConfiguration", {"key": "ReadOnly", "value": "1"})
        assert status == 200 and answer["result"] == {"status": "Rejected"}
        # the library client does not implement UnlockConnector: its CallError comes back as such
        status, answer = await post_call(server, "CMD16", "UnlockConnector", {"connectorId": 1})
        assert status == 200 and answer["error"]["code"] == "NotImplemented"
        # an invalid payload is refused before anything is sent
        status, answer = await post_call(server, "CMD16", "Reset", {"type": "Gentle"})
        assert status == 422 and "type" in answer["error"]
        task.cancel()
    status, answer = await post_call(server, "CMD16", "Reset", {"type": "Soft"})
    assert status == 409 and "not connected" in answer["error"]


async def test_v201_get_variables(server: RunningServer) -> None:
    async with websockets.connect(f"{server.ocpp_url}/CMD201", subprotocols=["ocpp2.0.1"]) as ws:  # type: ignore[list-item]
        cp = Charger201("CMD201", ws)
        task = asyncio.create_task(cp.start())
        await cp.call(
            call201.BootNotification(charging_station={"model": "C", "vendor_name": "Acme"}, reason="PowerUp")
        )
        status, answer = await post_call(server, "CMD201", "GetVariables", {"getVariableData": [
            {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}]})  # fmt: skip
        assert status == 200
        assert answer["result"]["getVariableResult"][0]["attributeValue"] == "60"
        task.cancel()


async def test_unanswered_command_times_out_with_504(tmp_path: Path) -> None:
    server = await start_server(tmp_path / "data", link=LinkSettings(call_timeout=0.5))
    try:
        async with websockets.connect(f"{server.ocpp_url}/MUTE", subprotocols=["ocpp1.6"]) as ws:  # type: ignore[list-item]
            await ws.send(json.dumps([2, "b", "BootNotification", {"chargePointVendor": "A", "chargePointModel": "M"}]))
            await ws.recv()
            status, answer = await post_call(server, "MUTE", "ClearCache", {})  # read, never answered
            assert status == 504 and "ClearCache" in answer["error"]
    finally:
        await server.app.stop()


async def test_a_charger_that_reconnects_without_booting_is_commandable_at_once(server: RunningServer) -> None:
    boot = [2, "b", "BootNotification", {"chargePointVendor": "A", "chargePointModel": "M"}]
    async with websockets.connect(f"{server.ocpp_url}/BACK", subprotocols=["ocpp1.6"]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps(boot))
        assert json.loads(await ws.recv())[2]["status"] == "Accepted"
    # a network drop or a server restart: the charger reconnects and carries on, it does not reboot
    async with websockets.connect(f"{server.ocpp_url}/BACK", subprotocols=["ocpp1.6"]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps([2, "h", "Heartbeat", {}]))
        assert json.loads(await ws.recv())[0] == 3
        rest_call = asyncio.ensure_future(
            post_call(server, "BACK", "ChangeAvailability", {"connectorId": 0, "type": "Inoperative"})
        )
        frame = json.loads(await asyncio.wait_for(ws.recv(), 3))  # sent at once, not after a boot that never comes
        assert frame[:3] == [2, frame[1], "ChangeAvailability"]
        await ws.send(json.dumps([3, frame[1], {"status": "Accepted"}]))
        assert await asyncio.wait_for(rest_call, 3) == (
            200, {"action": "ChangeAvailability", "result": {"status": "Accepted"}, "error": None})  # fmt: skip


async def test_a_link_lost_while_a_command_is_pending_answers_409(server: RunningServer) -> None:
    async with websockets.connect(f"{server.ocpp_url}/GONE", subprotocols=["ocpp2.0.1"]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps([2, "b", "BootNotification", {"chargingStation": {"vendorName": "A", "model": "M"},
                                                              "reason": "PowerUp"}]))  # fmt: skip
        await ws.recv()
        rest_call = asyncio.ensure_future(post_call(server, "GONE", "Reset", {"type": "Immediate"}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 3))[2] == "Reset"
    # closed before answering: the caller hears at once that the charger went offline, not a timeout later
    status, answer = await asyncio.wait_for(rest_call, 3)
    assert status == 409 and "went offline before answering Reset" in answer["error"], answer
