"""A remote start sent through REST is linked to the transaction it causes, through the registry's observer."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import websockets

from tests.conftest import RunningServer
from tests.e2e.test_reaper import get_transaction, rpc


async def test_v201_remote_start_links_its_token_to_a_started_without_one(server: RunningServer) -> None:
    async with websockets.connect(f"{server.ocpp_url}/REMOTE201", subprotocols=["ocpp2.0.1"]) as ws:  # type: ignore[list-item]
        await rpc(ws, "b", "BootNotification", {"reason": "PowerUp",
                                                "chargingStation": {"vendorName": "Acme", "model": "R"}})  # fmt: skip
        request = {"idToken": {"idToken": "APP-USER-7", "type": "Central"}, "remoteStartId": 77, "evseId": 1}
        async with aiohttp.ClientSession(headers=server.headers) as http:
            posted = asyncio.ensure_future(http.post(
                f"{server.http_url}/api/v1/chargers/REMOTE201/calls",
                json={"action": "RequestStartTransaction", "payload": request}))  # fmt: skip
            call = json.loads(await ws.recv())
            assert call[2] == "RequestStartTransaction"
            await ws.send(json.dumps([3, call[1], {"status": "Accepted"}]))
            async with await posted as answer:
                assert answer.status == 200
        # the charger starts it with no idToken of its own (the remote start authorized it)
        await rpc(ws, "e0", "TransactionEvent", {
            "eventType": "Started", "timestamp": "2026-11-25T18:00:00Z", "triggerReason": "RemoteStart", "seqNo": 0,
            "transactionInfo": {"transactionId": "R-1", "remoteStartId": 77}, "evse": {"id": 1, "connectorId": 1}})  # fmt: skip
        async with (
            aiohttp.ClientSession(headers=server.headers) as http,
            http.get(f"{server.http_url}/api/v1/transactions?charger_id=REMOTE201") as r,
        ):
            [tx] = await r.json()
    assert tx["id_tag"] == "APP-USER-7"
    assert (await get_transaction(server, tx["id"]))["remote_id"] == "R-1"
