"""Registration over the wire: Pending and Rejected as 1.6 section 4.2 and 2.0.1 B02/B03 (OCTT TC_B_02/TC_B_03)
define them, charger records created only by a BootNotification, bounded newcomers, and ids that name nothing."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path
from typing import Any

import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from chargewise.domain.model import Registration
from chargewise.services.central import Policy, UnknownChargerPolicy
from chargewise.services.directory import entry_for
from tests.conftest import RunningServer, start_server
from tests.e2e.test_bad_input import BOOT, PROTOCOL, rest, rpc

PENDING_POLICY = Policy(unknown_chargers=UnknownChargerPolicy.PENDING, heartbeat_interval=300, free_charging=True)
STATUS = {
    "1.6": ["StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Charging"}],
    "2.0.1": ["StatusNotification", {"timestamp": "2026-11-25T18:00:00Z", "connectorStatus": "Occupied",
                                     "evseId": 1, "connectorId": 1}],
}  # fmt: skip
START = {
    "1.6": ["StartTransaction", {"connectorId": 1, "idTag": "T", "meterStart": 0, "timestamp": "2026-11-25T18:00:00Z"}],
    "2.0.1": ["TransactionEvent", {"eventType": "Started", "timestamp": "2026-11-25T18:00:00Z",
                                   "triggerReason": "Authorized", "seqNo": 0, "transactionInfo": {"transactionId": "t"},
                                   "evse": {"id": 1, "connectorId": 1}}],
}  # fmt: skip
METER = {
    "1.6": ["MeterValues", {"connectorId": 1, "meterValue": [{"timestamp": "2026-11-25T18:00:00Z",
                                                              "sampledValue": [{"value": "5"}]}]}],
    "2.0.1": ["MeterValues", {"evseId": 1, "meterValue": [{"timestamp": "2026-11-25T18:00:00Z",
                                                           "sampledValue": [{"value": 5.0}]}]}],
}  # fmt: skip
CONFIG_READ = {
    "1.6": ("GetConfiguration", {}),
    "2.0.1": ("GetBaseReport", {"requestId": 1, "reportBase": "FullInventory"}),
}
CONFIG_ANSWER = {"1.6": {"configurationKey": []}, "2.0.1": {"status": "Accepted"}}
REMOTE_START = {
    "1.6": ("RemoteStartTransaction", {"idTag": "T"}),
    "2.0.1": ("RequestStartTransaction", {"idToken": {"idToken": "T", "type": "ISO14443"}, "remoteStartId": 1}),
}


@pytest.fixture
async def pending_server(tmp_path: Path) -> AsyncIterator[RunningServer]:
    running = await start_server(tmp_path / "data", policy=PENDING_POLICY)
    try:
        yield running
    finally:
        await running.app.stop()


async def connect(server: RunningServer, charger_id: str, version: str) -> ClientConnection:
    return await websockets.connect(f"{server.ocpp_url}/{charger_id}", subprotocols=[PROTOCOL[version]])  # type: ignore[list-item]


async def answered(ws: ClientConnection, rest_call: Awaitable[tuple[int, object]], answer: dict[str, Any]) -> Any:
    """Run ``rest_call`` while the charger answers the one command it causes with ``answer``."""
    task = asyncio.ensure_future(rest_call)
    frame = json.loads(await asyncio.wait_for(ws.recv(), 5))
    assert frame[0] == 2, frame
    await ws.send(json.dumps([3, frame[1], answer]))
    return frame[2], await asyncio.wait_for(task, 5)


def command(server: RunningServer, charger_id: str, action: str, payload: dict[str, Any]) -> Awaitable[Any]:
    return rest(server, "POST", f"/api/v1/chargers/{charger_id}/calls", json={"action": action, "payload": payload})


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_a_pending_charger_may_be_configured_and_may_send_only_boot(
    pending_server: RunningServer, version: str
) -> None:
    server = pending_server
    ws = await connect(server, "NEWBIE", version)
    try:
        # before its BootNotification the charger has no record, and what it sends is refused and not stored
        answer = await rpc(ws, json.dumps([2, "h0", "Heartbeat", {}]))
        assert answer[:3] == [4, "h0", "SecurityError"], answer
        assert (await rest(server, "GET", "/api/v1/chargers"))[1] == []
        boot = await rpc(ws, json.dumps([2, "b1", "BootNotification", BOOT[version]]))
        assert boot[2]["status"] == "Pending"  # type: ignore[index]
        for action, payload in (STATUS[version], START[version], METER[version], ["Heartbeat", {}]):
            answer = await rpc(ws, json.dumps([2, "m", action, payload]))
            assert answer[:3] == [4, "m", "SecurityError"], (action, answer)
        status, charger = await rest(server, "GET", "/api/v1/chargers/NEWBIE")
        assert status == 200 and charger["registration"] == "Pending"  # type: ignore[index]
        assert charger["connectors"] == []  # type: ignore[index]
        assert (await rest(server, "GET", "/api/v1/transactions"))[1] == []
        # the CSMS may read and change its configuration, and trigger its boot; nothing else
        sent, (status, result) = await answered(ws, command(server, "NEWBIE", *CONFIG_READ[version]),
                                                CONFIG_ANSWER[version])  # fmt: skip
        assert (sent, status) == (CONFIG_READ[version][0], 200), result
        status, refused = await asyncio.wait_for(command(server, "NEWBIE", *REMOTE_START[version]), 2)
        assert status == 409 and "is Pending" in refused["error"], refused
        trigger = {"requestedMessage": "StatusNotification"}
        if version == "2.0.1":
            trigger["evse"] = {"id": 1}  # type: ignore[assignment]
        status, refused = await asyncio.wait_for(command(server, "NEWBIE", "TriggerMessage", trigger), 2)
        assert status == 409, refused
        # approved: at once commandable and heard, without a reboot
        assert (await rest(server, "POST", "/api/v1/chargers/NEWBIE/approve"))[0] == 200
        assert (await rpc(ws, json.dumps([2, "h1", "Heartbeat", {}])))[0] == 3
        sent, (status, _) = await answered(ws, command(server, "NEWBIE", *REMOTE_START[version]),
                                           {"status": "Accepted"})  # fmt: skip
        assert (sent, status) == (REMOTE_START[version][0], 200)
    finally:
        await ws.close()


async def test_a_rejected_charger_is_sent_nothing_and_heard_only_booting(server: RunningServer) -> None:
    charger = await server.app.store.add_charger("BANNED", registration=Registration.REJECTED)
    server.app.directory.put(entry_for(charger))
    ws = await connect(server, "BANNED", "2.0.1")
    try:
        assert (await rpc(ws, json.dumps([2, "b", "BootNotification", BOOT["2.0.1"]])))[2]["status"] == "Rejected"  # type: ignore[index]
        report = {"requestId": 1, "generatedAt": "2026-11-25T18:00:00Z", "seqNo": 0}
        assert (await rpc(ws, json.dumps([2, "r", "NotifyReport", report])))[2] == "SecurityError"
        status, refused = await asyncio.wait_for(command(server, "BANNED", *CONFIG_READ["2.0.1"]), 2)
        assert status == 409 and "Rejected" in refused["error"]
    finally:
        await ws.close()


@pytest.mark.parametrize("policy", [UnknownChargerPolicy.ACCEPT, UnknownChargerPolicy.PENDING])
async def test_links_that_never_boot_leave_no_record(tmp_path: Path, policy: UnknownChargerPolicy) -> None:
    server = await start_server(tmp_path / "data", unknown=policy)
    central, written = server.app.central, []
    connected, disconnected = central.connected, central.disconnected

    async def spy_connected(charger_id: str, **kwargs: Any) -> None:
        written.append(charger_id)
        await connected(charger_id, **kwargs)

    async def spy_disconnected(charger_id: str) -> None:
        written.append(charger_id)
        await disconnected(charger_id)

    central.connected, central.disconnected = spy_connected, spy_disconnected  # type: ignore[method-assign]
    try:
        silent = await connect(server, "SILENT", "1.6")  # opened, then closed without a word
        await silent.close()
        chatty = await connect(server, "CHATTY", "2.0.1")  # speaks, but never boots
        assert (await rpc(chatty, json.dumps([2, "s", *STATUS["2.0.1"]])))[2] == "SecurityError"
        await chatty.close()
        with pytest.raises(websockets.InvalidStatus):  # refused at the handshake
            await websockets.connect(f"{server.ocpp_url}/REFUSED", subprotocols=["ocpp1.5"])  # type: ignore[list-item]
        host, port = "127.0.0.1", server.app.ocpp.port
        _reader, writer = await asyncio.open_connection(host, port)  # a handshake given up half-way
        writer.write(f"GET /ocpp/HALFWAY HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n".encode())
        await writer.drain()
        writer.close()
        await asyncio.sleep(0.2)
        await server.app.central.drain()
        assert (await rest(server, "GET", "/api/v1/chargers"))[1] == []
        assert len(server.app.directory) == 0
        assert written == []  # not even a connection change was written for them
    finally:
        await server.app.stop()


async def test_pending_newcomers_beyond_the_bound_are_refused_at_the_handshake(tmp_path: Path) -> None:
    policy = Policy(unknown_chargers=UnknownChargerPolicy.PENDING, max_pending=1)
    server = await start_server(tmp_path / "data", policy=policy)
    try:
        first = await connect(server, "FIRST", "1.6")
        assert (await rpc(first, json.dumps([2, "b", "BootNotification", BOOT["1.6"]])))[2]["status"] == "Pending"  # type: ignore[index]
        with pytest.raises(websockets.InvalidStatus) as refused:
            await connect(server, "SECOND", "1.6")
        assert refused.value.response.status_code == 503
        assert refused.value.response.headers["Retry-After"] == "60"
        assert b"max_pending" in refused.value.response.body
        await first.close()
        # a known charger is not a newcomer
        charger = await server.app.store.add_charger("KNOWN", registration=Registration.ACCEPTED)
        server.app.directory.put(entry_for(charger))
        await (await connect(server, "KNOWN", "1.6")).close()
    finally:
        await server.app.stop()


@pytest.mark.parametrize("path", ["/ocpp/", "/ocpp", "/ocpp/.", "/ocpp/%2E%2E", "/.."])
async def test_paths_that_name_no_charger_are_refused(tmp_path: Path, path: str) -> None:
    server = await start_server(tmp_path / "data", unknown=UnknownChargerPolicy.ACCEPT)
    try:
        url = f"ws://127.0.0.1:{server.app.ocpp.port}{path}"
        with pytest.raises(websockets.InvalidStatus) as refused:
            await websockets.connect(url, subprotocols=["ocpp1.6"])  # type: ignore[list-item]
        assert refused.value.response.status_code in (400, 404)
        assert (await rest(server, "GET", "/api/v1/chargers"))[1] == []
    finally:
        await server.app.stop()
