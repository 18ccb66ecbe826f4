"""Reservations end to end: made and cancelled through REST, honoured by the server at Authorize and at the
start of a transaction (an outside peer that ignores them is refused), and by simulated chargers of both
versions (Reserved, other tokens turned down, the reserving token's start ends it)."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import websockets

from chargewise.domain.model import ConnectorStatus, IdToken, OcppVersion
from chargewise.services.central import Policy, UnknownChargerPolicy
from chargewise.simulator.templates import load_template
from chargewise.simulator.workload import Visit
from tests.conftest import RunningServer, start_server
from tests.simulator.ocpp_csms import until
from tests.simulator.test_runner import Runner, spec

V16, V201 = OcppVersion.V16, OcppVersion.V201
POLICY = Policy(unknown_chargers=UnknownChargerPolicy.ACCEPT, free_charging=False)


async def served(tmp_path: Path) -> RunningServer:
    server = await start_server(tmp_path / "data", policy=POLICY)
    for tag in ("MINE", "OTHER"):
        await server.app.store.put_token(IdToken(id_tag=tag))
    return server


async def call(ws: Any, unique_id: str, action: str, payload: dict[str, Any]) -> Any:
    """Send a call and return its result, answering the server's own calls meanwhile (NotSupported)."""
    await ws.send(json.dumps([2, unique_id, action, payload]))
    while True:
        frame = json.loads(await ws.recv())
        if frame[0] == 2:
            await ws.send(json.dumps([4, frame[1], "NotSupported", "", {}]))
        elif frame[1] == unique_id:
            assert frame[0] == 3, frame
            return frame[2]


async def reserve_through_rest(server: RunningServer, ws: Any, charger_id: str, body: dict[str, Any]) -> Any:
    """POST the reservation and answer the ReserveNow it causes with Accepted (other calls: NotSupported)."""
    async with aiohttp.ClientSession(headers=server.headers) as http:
        posted = asyncio.ensure_future(http.post(f"{server.http_url}/api/v1/chargers/{charger_id}/reservations",
                                                 json=body))  # fmt: skip
        while not posted.done():
            try:
                frame = json.loads(await asyncio.wait_for(ws.recv(), 0.2))
            except TimeoutError:
                continue
            if frame[0] == 2:
                answer = [3, frame[1], {"status": "Accepted"}] if frame[2] == "ReserveNow" else [
                    4, frame[1], "NotSupported", "", {}]  # fmt: skip
                await ws.send(json.dumps(answer))
        async with await posted as r:
            assert r.status == 201, await r.text()
            return await r.json()


async def get(server: RunningServer, path: str) -> Any:
    async with aiohttp.ClientSession(headers=server.headers) as http, http.get(f"{server.http_url}{path}") as r:
        return await r.json()


@pytest.mark.parametrize("version", [V16, V201])
async def test_the_server_refuses_other_tokens_on_a_reserved_evse_and_the_reserver_uses_it(
    tmp_path: Path, version: OcppVersion
) -> None:
    server = await served(tmp_path)
    charger_id = f"RES-{version.value}"
    try:
        async with websockets.connect(f"{server.ocpp_url}/{charger_id}", subprotocols=[version.subprotocol]) as ws:  # type: ignore[list-item]
            if version is V16:
                await call(ws, "b", "BootNotification", {"chargePointVendor": "Acme", "chargePointModel": "R"})
                await call(ws, "s", "StatusNotification", {"connectorId": 1, "errorCode": "NoError",
                                                           "status": "Available"})  # fmt: skip
            else:
                await call(ws, "b", "BootNotification", {"reason": "PowerUp", "chargingStation": {"vendorName": "Acme",
                                                                                                   "model": "R"}})  # fmt: skip
                await call(ws, "s", "StatusNotification", {"timestamp": "2026-12-02T10:00:00Z",
                                                           "connectorStatus": "Available", "evseId": 1,
                                                           "connectorId": 1})  # fmt: skip
            made = await reserve_through_rest(server, ws, charger_id, {"id_tag": "MINE", "evse_id": 1, "minutes": 30})
            assert made["status"] == "Accepted" and made["id"] > 0

            async def authorize(tag: str) -> str:
                if version is V16:
                    return str((await call(ws, f"a-{tag}", "Authorize", {"idTag": tag}))["idTagInfo"]["status"])
                answer = await call(ws, f"a-{tag}", "Authorize", {"idToken": {"idToken": tag, "type": "ISO14443"}})
                return str(answer["idTokenInfo"]["status"])

            async def start(tag: str, reservation: int | None) -> str:
                if version is V16:
                    payload: dict[str, Any] = {"connectorId": 1, "idTag": tag, "meterStart": 0,
                                               "timestamp": f"2026-12-02T10:0{len(tag)}:00Z"}  # fmt: skip
                    if reservation:
                        payload["reservationId"] = reservation
                    return str((await call(ws, f"s-{tag}", "StartTransaction", payload))["idTagInfo"]["status"])
                payload = {"eventType": "Started", "timestamp": "2026-12-02T10:05:00Z", "triggerReason": "Authorized",
                           "seqNo": 0, "transactionInfo": {"transactionId": f"TX-{tag}"},
                           "evse": {"id": 1, "connectorId": 1}, "idToken": {"idToken": tag, "type": "ISO14443"}}  # fmt: skip
                if reservation:
                    payload["reservationId"] = reservation
                return str((await call(ws, f"s-{tag}", "TransactionEvent", payload))["idTokenInfo"]["status"])

            assert await authorize("OTHER") == "Invalid"  # every EVSE it has is reserved for another token
            assert await authorize("MINE") == "Accepted"
            assert await start("OTHER", None) == "Invalid"
            assert await start("MINE", made["id"]) == "Accepted"
            used = await get(server, f"/api/v1/reservations/{made['id']}")
            [mine] = [t for t in await server.app.store.list_transactions(charger_id=charger_id) if t.id_tag == "MINE"]
            assert used["status"] == "Used" and used["transaction_id"] == mine.id
            assert await authorize("OTHER") == "Accepted"  # the reservation is over
    finally:
        await server.app.stop()


@pytest.mark.parametrize("version", [V16, V201])
async def test_a_simulated_charger_honours_a_reservation_made_and_cancelled_through_rest(
    tmp_path: Path, version: OcppVersion
) -> None:
    server = await served(tmp_path)
    start = time.time()
    charger_id = f"SIMRES-{version.value}"

    def ev(at: float, leave: float, tag: str) -> Visit:
        return Visit(charger=0, connector=1, arrive_s=start + at, depart_s=start + leave, energy_wh=30_000,
                     capacity_wh=60_000, soc=0.3, obc_max_a=16, phases=1, id_tag=tag)  # fmt: skip

    base = spec(charger_id, version, tpl=load_template("dual-ac-15118"), ev_at=None, start=start)
    import dataclasses

    runner = Runner([dataclasses.replace(base, visits=(ev(200, 300, "OTHER"), ev(400, 40_000, "MINE")))],
                    url=server.ocpp_url, speed=60, start=start)  # fmt: skip
    try:
        await runner.start()
        fw = runner.drivers[0].fw
        await until(lambda: fw.registered and charger_id in server.app.registry, 10)
        async with aiohttp.ClientSession(headers=server.headers) as http:
            url = f"{server.http_url}/api/v1/chargers/{charger_id}/reservations"
            async with http.post(url, json={"id_tag": "MINE", "evse_id": 1, "minutes": 600}) as r:
                made = await r.json()
            assert r.status == 201 and made["status"] == "Accepted", made

            async def reported() -> ConnectorStatus | None:
                charger = await server.app.store.get_charger(charger_id)
                return next((c.status for c in charger.connectors if c.evse_id == 1), None) if charger else None

            for _ in range(100):
                if await reported() is ConnectorStatus.RESERVED:
                    break
                await asyncio.sleep(0.05)
            assert await reported() is ConnectorStatus.RESERVED
            await until(lambda: fw.connectors[0].tx is not None, 20)  # OTHER came and went; MINE started
            assert fw.connectors[0].tx.id_tag == "MINE" and fw.connectors[0].tx.reservation_id == made["id"]
            assert "reserved (reservation" in "\n".join(fw.log)  # OTHER was turned down by the charger
            for _ in range(100):
                used = await get(server, f"/api/v1/reservations/{made['id']}")
                if used["status"] == "Used":
                    break
                await asyncio.sleep(0.05)
            assert used["status"] == "Used" and used["transaction_id"] is not None
            async with http.post(url, json={"id_tag": "OTHER", "evse_id": 1, "minutes": 600}) as r:
                busy = await r.json()
            assert busy["status"] == "Occupied"  # connector 1 is charging
            async with http.post(url, json={"id_tag": "OTHER", "evse_id": 2, "minutes": 600}) as r:
                second = await r.json()
            assert second["status"] == "Accepted" and set(fw.station.local_auth.reservations) == {second["id"]}
            async with http.post(f"{server.http_url}/api/v1/reservations/{second['id']}/cancel") as r:
                cancelled = await r.json()
            assert cancelled["status"] == "Cancelled" and fw.station.local_auth.reservations == {}
            async with http.post(f"{server.http_url}/api/v1/reservations/{second['id']}/cancel") as r:
                again = await r.json()
            assert r.status == 400 and "Cancelled" in again["error"] and again["fix"]
    finally:
        await runner.stop()
        await server.app.stop()
    assert runner.errors() == []


async def test_bad_reservations_get_one_problem_naming_the_field_and_the_fix(tmp_path: Path) -> None:
    server = await served(tmp_path)
    try:
        async with aiohttp.ClientSession(headers=server.headers) as http:
            url = f"{server.http_url}/api/v1/chargers/NOBODY/reservations"
            cases = [({"id_tag": "MINE"}, 422, "expires_at or minutes"),
                     ({"id_tag": "MINE", "minutes": 5, "expires_at": "2030-01-01T00:00:00Z"}, 422, "either"),
                     ({"id_tag": "MINE", "minutes": 5, "evse_id": -1}, 422, "evse"),
                     ({"id_tag": "MINE", "expires_at": "2020-01-01T00:00:00Z"}, 422, "expires_at"),
                     ({"id_tag": "", "minutes": 5}, 422, "id_tag"),
                     ({"id_tag": "MINE", "minutes": 5}, 409, "not connected")]  # fmt: skip
            for body, status, fragment in cases:
                async with http.post(url, json=body) as r:
                    problem = await r.json()
                assert r.status == status and fragment in problem["error"] and problem["fix"], (body, problem)
            async with http.post(f"{server.http_url}/api/v1/reservations/abc/cancel") as r:
                assert r.status == 400 and "integer" in (await r.json())["error"]
            async with http.post(f"{server.http_url}/api/v1/reservations/99/cancel") as r:
                assert r.status == 404
    finally:
        await server.app.stop()
