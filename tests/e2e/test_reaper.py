"""A transaction orphaned by a reboot (the charger forgot it and never sends its stop), or by a charger that never
comes back, is closed with a reason."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
import websockets

from chargewise import bootstrap
from tests.conftest import RunningServer, start_server
from tests.e2e.server_process import ServerProcess


async def rpc(ws: websockets.ClientConnection, unique_id: str, action: str, payload: dict[str, object]) -> object:
    await ws.send(json.dumps([2, unique_id, action, payload]))
    answer = json.loads(await ws.recv())
    assert answer[0] == 3, answer
    return answer[2]


async def start_with_reading(ws: websockets.ClientConnection, register_wh: int) -> int:
    """Boot, start a transaction on connector 1 from 100 Wh, and send one register reading; its id."""
    await rpc(ws, "b1", "BootNotification", {"chargePointVendor": "Acme", "chargePointModel": "R"})
    started = await rpc(ws, "s", "StartTransaction",
                        {"connectorId": 1, "idTag": "T", "meterStart": 100, "timestamp": "2026-11-25T18:00:00Z"})  # fmt: skip
    tx_id: int = started["transactionId"]  # type: ignore[index]
    await rpc(ws, "m", "MeterValues", {"connectorId": 1, "transactionId": tx_id, "meterValue": [
        {"timestamp": "2026-11-25T18:10:00Z", "sampledValue": [{"value": str(register_wh)}]}]})  # fmt: skip
    return tx_id


async def test_reboot_orphan_is_reaped(server: RunningServer) -> None:
    async with websockets.connect(f"{server.ocpp_url}/REBOOTER", subprotocols=["ocpp1.6"]) as ws:  # type: ignore[list-item]
        tx_id = await start_with_reading(ws, 900)
        # power cut: the charger reboots with no memory of the transaction and reports the connector free
        await rpc(ws, "b2", "BootNotification", {"chargePointVendor": "Acme", "chargePointModel": "R"})
        await rpc(ws, "st", "StatusNotification", {"connectorId": 1, "status": "Available", "errorCode": "NoError",
                                                   "timestamp": "2026-11-25T18:30:00Z"})  # fmt: skip
        # another connector's status does not touch it; a transaction on it would remain open
    async with (
        aiohttp.ClientSession(headers=server.headers) as http,
        http.get(f"{server.http_url}/api/v1/transactions/{tx_id}") as r,
    ):
        tx = await r.json()
    assert tx["active"] is False
    assert tx["stop_reason"] == "Orphaned: connector free, no stop received"
    assert tx["meter_stop_wh"] == 900.0 and tx["energy_wh"] == 800.0


async def test_status_on_another_connector_leaves_it_open(server: RunningServer) -> None:
    async with websockets.connect(f"{server.ocpp_url}/TWOPORT", subprotocols=["ocpp1.6"]) as ws:  # type: ignore[list-item]
        await rpc(ws, "b1", "BootNotification", {"chargePointVendor": "Acme", "chargePointModel": "R"})
        started = await rpc(ws, "s", "StartTransaction",
                            {"connectorId": 1, "idTag": "T", "meterStart": 0, "timestamp": "2026-11-25T18:00:00Z"})  # fmt: skip
        await rpc(ws, "st", "StatusNotification", {"connectorId": 2, "status": "Available", "errorCode": "NoError",
                                                   "timestamp": "2026-11-25T18:30:00Z"})  # fmt: skip
    async with (
        aiohttp.ClientSession(headers=server.headers) as http,
        http.get(
            f"{server.http_url}/api/v1/transactions/{started['transactionId']}"  # type: ignore[index]
        ) as r,
    ):
        assert (await r.json())["active"] is True


async def test_a_charger_that_never_comes_back_has_its_transaction_closed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bootstrap, "REAP_EVERY", 0.1)
    running = await start_server(tmp_path / "data")
    try:
        # the server's background task does the work: seconds here instead of a day and ten minutes
        running.app.central.policy = dataclasses.replace(running.app.central.policy, reap_offline_after=1)
        async with websockets.connect(f"{running.ocpp_url}/VANISHED", subprotocols=["ocpp1.6"]) as ws:  # type: ignore[list-item]
            tx_id = await start_with_reading(ws, 700)
        # the charger is gone (replaced, burnt out): it never sends the stop
        tx: dict[str, object] = {}
        async with aiohttp.ClientSession(headers=running.headers) as http:
            for _ in range(50):
                async with http.get(f"{running.http_url}/api/v1/transactions/{tx_id}") as r:
                    tx = await r.json()
                if not tx["active"]:
                    break
                await asyncio.sleep(0.1)
        assert tx["active"] is False, tx
        assert str(tx["stop_reason"]).startswith("Orphaned: charger not heard from since "), tx
        assert tx["meter_stop_wh"] == 700.0 and tx["energy_wh"] == 600.0
    finally:
        await running.app.stop()


async def get_transaction(server: RunningServer, tx_id: int) -> dict[str, object]:
    async with (
        aiohttp.ClientSession(headers=server.headers) as http,
        http.get(f"{server.http_url}/api/v1/transactions/{tx_id}") as r,
    ):
        found: dict[str, object] = await r.json()
        return found


async def test_v201_a_transaction_authorized_before_the_cable_outlives_its_free_connector(
    server: RunningServer,
) -> None:
    # The order a real 2.0.1 charger reports a driver who swipes first (TxStartPoint Authorized): Started, the
    # connector still Available while the driver plugs in, then the cable; the charge goes on to its own end.
    async with websockets.connect(f"{server.ocpp_url}/SWIPEFIRST", subprotocols=["ocpp2.0.1"]) as ws:  # type: ignore[list-item]
        await rpc(ws, "b", "BootNotification", {"reason": "PowerUp",
                                                "chargingStation": {"vendorName": "Acme", "model": "R"}})  # fmt: skip
        tx = {"transactionId": "T-1", "chargingState": "Idle"}
        await rpc(ws, "e0", "TransactionEvent", {
            "eventType": "Started", "timestamp": "2026-11-25T18:00:00Z", "triggerReason": "Authorized", "seqNo": 0,
            "transactionInfo": tx, "evse": {"id": 1, "connectorId": 1}, "idToken": {"idToken": "T", "type": "ISO14443"},
            "meterValue": [{"timestamp": "2026-11-25T18:00:00Z", "sampledValue": [{"value": 1000}]}]})  # fmt: skip
        await rpc(ws, "s", "StatusNotification", {"timestamp": "2026-11-25T18:00:05Z", "connectorStatus": "Available",
                                                  "evseId": 1, "connectorId": 1})  # fmt: skip
        await rpc(ws, "e1", "TransactionEvent", {
            "eventType": "Updated", "timestamp": "2026-11-25T18:00:40Z", "triggerReason": "CablePluggedIn",
            "seqNo": 1, "transactionInfo": {"transactionId": "T-1", "chargingState": "Charging"}})  # fmt: skip
        listed = await rpc(ws, "x", "Heartbeat", {})
        assert isinstance(listed, dict)
        async with (
            aiohttp.ClientSession(headers=server.headers) as http,
            http.get(f"{server.http_url}/api/v1/transactions?charger_id=SWIPEFIRST") as r,
        ):
            [charging] = await r.json()
        assert (charging["active"], charging["provisional"], charging["stop_reason"]) == (True, False, None)
        await rpc(ws, "e2", "TransactionEvent", {
            "eventType": "Ended", "timestamp": "2026-11-25T19:00:00Z", "triggerReason": "EVCommunicationLost",
            "seqNo": 2, "transactionInfo": {"transactionId": "T-1", "stoppedReason": "EVDisconnected"},
            "meterValue": [{"timestamp": "2026-11-25T19:00:00Z", "sampledValue": [{"value": 8000}]}]})  # fmt: skip
    ended = await get_transaction(server, int(charging["id"]))
    assert (ended["active"], ended["energy_wh"], ended["stop_reason"], ended["provisional"]) == (
        False, 7000.0, "EVDisconnected", False)  # fmt: skip


async def test_a_reapers_stop_reads_provisional_in_the_api(server: RunningServer) -> None:
    async with websockets.connect(f"{server.ocpp_url}/REBOOTS", subprotocols=["ocpp1.6"]) as ws:  # type: ignore[list-item]
        tx_id = await start_with_reading(ws, 900)
        await rpc(ws, "st", "StatusNotification", {"connectorId": 1, "status": "Available", "errorCode": "NoError",
                                                   "timestamp": "2026-11-25T18:30:00Z"})  # fmt: skip
        assert (await get_transaction(server, tx_id))["provisional"] is True
        await rpc(ws, "stop", "StopTransaction", {"transactionId": tx_id, "meterStop": 950,
                                                  "timestamp": "2026-11-25T18:20:00Z", "reason": "PowerLoss"})  # fmt: skip
    tx = await get_transaction(server, tx_id)
    assert (tx["provisional"], tx["stop_reason"], tx["energy_wh"]) == (False, "PowerLoss", 850.0)


async def test_an_orphan_closed_on_reconnect_stops_when_the_charger_was_last_heard_from(server: RunningServer) -> None:
    async with websockets.connect(f"{server.ocpp_url}/POWERCUT", subprotocols=["ocpp1.6"]) as ws:  # type: ignore[list-item]
        tx_id = await start_with_reading(ws, 900)
    last_heard = datetime.now(UTC)  # the power goes; it comes back a while later
    await asyncio.sleep(1.2)
    async with websockets.connect(f"{server.ocpp_url}/POWERCUT", subprotocols=["ocpp1.6"]) as ws:  # type: ignore[list-item]
        await rpc(ws, "b2", "BootNotification", {"chargePointVendor": "Acme", "chargePointModel": "R"})
        await rpc(ws, "st", "StatusNotification", {"connectorId": 1, "status": "Available", "errorCode": "NoError",
                                                   "timestamp": "2026-11-25T18:30:00Z"})  # fmt: skip
    tx = await get_transaction(server, tx_id)
    assert tx["active"] is False
    assert datetime.fromisoformat(str(tx["stopped_at"])) <= last_heard  # not the reconnect time
    assert tx["provisional"] is True


@pytest.mark.slow
async def test_after_a_server_restart_an_orphan_stops_when_the_charger_was_last_heard_from(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data")
    await server.start()
    try:
        async with websockets.connect(f"{server.ocpp_url}/POWERCUT", subprotocols=["ocpp1.6"]) as ws:  # type: ignore[list-item]
            tx_id = await start_with_reading(ws, 900)
            last_heard = datetime.now(UTC)
            server.kill()  # the server dies with the charger's link open; the charger's power goes too
        await asyncio.sleep(1.2)
        await server.start()
        async with websockets.connect(f"{server.ocpp_url}/POWERCUT", subprotocols=["ocpp1.6"]) as ws:  # type: ignore[list-item]
            await rpc(ws, "b2", "BootNotification", {"chargePointVendor": "Acme", "chargePointModel": "R"})
            await rpc(ws, "st", "StatusNotification", {"connectorId": 1, "status": "Available", "errorCode": "NoError",
                                                       "timestamp": "2026-11-25T18:30:00Z"})  # fmt: skip
        tx = await server.get(f"/api/v1/transactions/{tx_id}")
        assert isinstance(tx, dict) and tx["active"] is False
        assert datetime.fromisoformat(str(tx["stopped_at"])) <= last_heard  # its stored last_seen, not the reconnect
    finally:
        server.terminate()
