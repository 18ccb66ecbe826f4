"""Every kind of bad input gets the spec's answer; the server keeps serving others; nothing rejected is stored."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from chargewise.services.central import UnknownChargerPolicy
from chargewise.services.connections import LinkSettings
from tests.conftest import RunningServer, start_server

PROTOCOL = {"1.6": "ocpp1.6", "2.0.1": "ocpp2.0.1"}
BOOT = {
    "1.6": {"chargePointVendor": "Acme", "chargePointModel": "X"},
    "2.0.1": {"chargingStation": {"vendorName": "Acme", "model": "X"}, "reason": "PowerUp"},
}
START_MISSING_FIELD = {  # a transaction start missing one required field
    "1.6": ["StartTransaction", {"connectorId": 1, "idTag": "T", "timestamp": "2026-11-25T18:00:00Z"}],
    "2.0.1": ["TransactionEvent", {"eventType": "Started", "timestamp": "2026-11-25T18:00:00Z",
                                   "triggerReason": "Authorized", "seqNo": 0}],
}  # fmt: skip
START_WRONG_TYPE = {
    "1.6": ["StartTransaction", {"connectorId": "one", "idTag": "T", "meterStart": 0,
                                 "timestamp": "2026-11-25T18:00:00Z"}],
    "2.0.1": ["TransactionEvent", {"eventType": "Started", "timestamp": "2026-11-25T18:00:00Z",
                                   "triggerReason": "Authorized", "seqNo": "zero",
                                   "transactionInfo": {"transactionId": "t1"}}],
}  # fmt: skip
FORMAT = {"1.6": "FormationViolation", "2.0.1": "FormatViolation"}
MALFORMED = {"1.6": "FormationViolation", "2.0.1": "RpcFrameworkError"}
MESSAGE_TYPE = {"1.6": "FormationViolation", "2.0.1": "MessageTypeNotSupported"}

# (name, raw text to send, expected unique id, expected code per version)
BAD_FRAMES = [
    ("malformed JSON", lambda v: '[2, "1", "Heartbeat", {', "-1", MALFORMED),
    ("not an array", lambda v: '{"action": "Heartbeat"}', "-1", MALFORMED),
    ("unknown message type", lambda v: '[7, "m7", "Heartbeat", {}]', "m7", MESSAGE_TYPE),
    ("unknown action", lambda v: '[2, "m8", "MakeCoffee", {}]', "m8", {"1.6": "NotImplemented", "2.0.1": "NotImplemented"}),
    ("wrong direction", lambda v: '[2, "m9", "Reset", {"type": "Hard"}]', "m9",
     {"1.6": "NotSupported", "2.0.1": "NotSupported"}),
    ("missing required field", lambda v: json.dumps([2, "m10", *START_MISSING_FIELD[v]]), "m10",
     {"1.6": "OccurenceConstraintViolation", "2.0.1": "OccurrenceConstraintViolation"}),  # sic, 1.6 errata
    ("wrong type", lambda v: json.dumps([2, "m11", *START_WRONG_TYPE[v]]), "m11",
     {"1.6": "TypeConstraintViolation", "2.0.1": "TypeConstraintViolation"}),
    ("unexpected property", lambda v: json.dumps([2, "m12", "Heartbeat", {"extra": 1}]), "m12", FORMAT),
    ("bad enum value", lambda v: json.dumps([2, "m13", "BootNotification", {**BOOT[v], "reason": "Bored"}
                                             if v == "2.0.1" else {**BOOT[v], "chargePointModel": "x" * 21}]), "m13",
     {"1.6": "PropertyConstraintViolation", "2.0.1": "PropertyConstraintViolation"}),
]  # fmt: skip


@pytest.fixture
async def small_server(tmp_path: Path) -> AsyncIterator[RunningServer]:
    running = await start_server(tmp_path / "data", link=LinkSettings(max_message_size=4096, call_timeout=5))
    try:
        yield running
    finally:
        await running.app.stop()


async def rpc(ws: ClientConnection, text: str) -> list[object]:
    await ws.send(text)
    answer = json.loads(await asyncio.wait_for(ws.recv(), 5))
    assert isinstance(answer, list)
    return answer


async def booted(url: str, charger_id: str, version: str, **kwargs: object) -> ClientConnection:
    ws = await websockets.connect(f"{url}/{charger_id}", subprotocols=[PROTOCOL[version]], **kwargs)  # type: ignore[arg-type]
    answer = await rpc(ws, json.dumps([2, "boot", "BootNotification", BOOT[version]]))
    assert answer[0] == 3 and answer[2]["status"] == "Accepted", answer  # type: ignore[index]
    return ws


async def rest(server: RunningServer, method: str, path: str, **kwargs: object) -> tuple[int, object]:
    async with (
        aiohttp.ClientSession() as http,
        http.request(method, server.http_url + path, headers=server.headers, **kwargs) as r,
    ):  # type: ignore[arg-type]
        return r.status, await r.json(content_type=None)


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
@pytest.mark.parametrize(("name", "text", "unique_id", "codes"), BAD_FRAMES, ids=[b[0] for b in BAD_FRAMES])
async def test_bad_frame_gets_the_spec_answer(
    small_server: RunningServer, version: str, name: str, text: object, unique_id: str, codes: dict[str, str]
) -> None:
    bystander = await booted(small_server.ocpp_url, "BYSTANDER", "1.6")
    ws = await booted(small_server.ocpp_url, "BAD1", version)
    try:
        answer = await rpc(ws, text(version))  # type: ignore[operator]
        assert answer[:3] == [4, unique_id, codes[version]], answer
        assert isinstance(answer[3], str) and answer[3], "a CallError says what is wrong"
        # the same connection and another charger are still served
        assert (await rpc(ws, json.dumps([2, "hb", "Heartbeat", {}])))[0] == 3
        assert (await rpc(bystander, json.dumps([2, "hb", "Heartbeat", {}])))[0] == 3
    finally:
        await ws.close()
        await bystander.close()
    status, txs = await rest(small_server, "GET", "/api/v1/transactions")
    assert status == 200 and txs == [], "nothing from a rejected message is stored"


async def test_oversized_frame_is_closed_with_1009(small_server: RunningServer) -> None:
    bystander = await booted(small_server.ocpp_url, "BYSTANDER", "2.0.1")
    ws = await booted(small_server.ocpp_url, "BIG", "1.6")
    await ws.send(json.dumps([2, "big", "DataTransfer", {"vendorId": "x", "data": "a" * 10_000}]))
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await asyncio.wait_for(ws.recv(), 5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
    assert (await rpc(bystander, json.dumps([2, "hb", "Heartbeat", {}])))[0] == 3
    await bystander.close()


async def test_wrong_subprotocol_is_refused(server: RunningServer) -> None:
    with pytest.raises(websockets.InvalidStatus) as refused:
        await websockets.connect(f"{server.ocpp_url}/CP1", subprotocols=["ocpp1.5"])  # type: ignore[list-item]
    assert refused.value.response.status_code == 400
    assert b"ocpp1.6 or ocpp2.0.1" in refused.value.response.body
    with pytest.raises(websockets.InvalidStatus):
        await websockets.connect(f"{server.ocpp_url}/CP1")  # no subprotocol offered at all


async def test_invalid_identity_is_refused(server: RunningServer) -> None:
    with pytest.raises(websockets.InvalidStatus) as refused:
        await websockets.connect(f"{server.ocpp_url}/bad%20id", subprotocols=["ocpp1.6"])  # type: ignore[list-item]
    assert refused.value.response.status_code == 400


async def test_bad_credentials_are_refused_with_401(server: RunningServer) -> None:
    status, _ = await rest(
        server, "POST", "/api/v1/chargers", json={"id": "SECURE", "password": "correct-horse-battery"}
    )
    assert status == 201

    def basic(user: str, password: str) -> dict[str, str]:
        return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}

    for headers in ({}, basic("SECURE", "wrong-password-123456"), basic("OTHER", "correct-horse-battery")):
        with pytest.raises(websockets.InvalidStatus) as refused:
            await websockets.connect(f"{server.ocpp_url}/SECURE", subprotocols=["ocpp1.6"],  # type: ignore[list-item]
                                     additional_headers=headers)  # fmt: skip
        assert refused.value.response.status_code == 401
    ws = await booted(server.ocpp_url, "SECURE", "1.6", additional_headers=basic("SECURE", "correct-horse-battery"))
    await ws.close()


@pytest.mark.parametrize("policy", list(UnknownChargerPolicy))
async def test_unknown_charger_policy(tmp_path: Path, policy: UnknownChargerPolicy) -> None:
    server = await start_server(tmp_path / "data", unknown=policy)
    try:
        url = f"{server.ocpp_url}/NEWBIE"
        if policy is UnknownChargerPolicy.REJECT:
            with pytest.raises(websockets.InvalidStatus) as refused:
                await websockets.connect(url, subprotocols=["ocpp1.6"])  # type: ignore[list-item]
            assert refused.value.response.status_code == 404
            assert (await rest(server, "GET", "/api/v1/chargers"))[1] == []
            return
        async with websockets.connect(url, subprotocols=["ocpp1.6"]) as ws:  # type: ignore[list-item]
            answer = await rpc(ws, json.dumps([2, "b1", "BootNotification", BOOT["1.6"]]))
            expected = "Accepted" if policy is UnknownChargerPolicy.ACCEPT else "Pending"
            assert answer[2]["status"] == expected  # type: ignore[index]
            status, charger = await rest(server, "GET", "/api/v1/chargers/NEWBIE")
            assert status == 200 and charger["registration"] == expected  # type: ignore[index]
            if policy is UnknownChargerPolicy.PENDING:
                # an operator approves; the charger's next boot is answered Accepted
                assert (await rest(server, "POST", "/api/v1/chargers/NEWBIE/approve"))[0] == 200
                answer = await rpc(ws, json.dumps([2, "b2", "BootNotification", BOOT["1.6"]]))
                assert answer[2]["status"] == "Accepted"  # type: ignore[index]
    finally:
        await server.app.stop()


async def test_newest_connection_replaces_the_older(server: RunningServer) -> None:
    first = await booted(server.ocpp_url, "TWIN", "2.0.1")
    second = await booted(server.ocpp_url, "TWIN", "2.0.1")
    with pytest.raises(websockets.ConnectionClosed):
        await asyncio.wait_for(first.recv(), 5)
    assert (await rpc(second, json.dumps([2, "hb", "Heartbeat", {}])))[0] == 3
    status, charger = await rest(server, "GET", "/api/v1/chargers/TWIN")
    assert status == 200 and charger["connected"] is True  # type: ignore[index]
    await second.close()
