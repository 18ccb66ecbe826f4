"""The REST API's contract: bearer auth, precise 4xx answers with a fix, paged lists, the OpenAPI document."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
import websockets

from chargewise.domain.model import Registration
from chargewise.domain.ports import NewTransaction
from chargewise.services.admin import Admin
from tests.conftest import RunningServer

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


async def request(
    server: RunningServer, method: str, path: str, *, auth: bool = True, **kwargs: object
) -> tuple[int, Any]:
    status, _headers, body = await exchange(server, method, path, auth=auth, **kwargs)
    return status, body


async def exchange(
    server: RunningServer, method: str, path: str, *, auth: bool = True, **kwargs: object
) -> tuple[int, dict[str, str], Any]:
    headers = server.headers if auth else {}
    async with (
        aiohttp.ClientSession(headers=headers) as http,
        http.request(method, server.http_url + path, **kwargs) as r,  # type: ignore[arg-type]
    ):
        body = await r.json(content_type=None) if r.status != 204 else None
        return r.status, dict(r.headers), body


async def test_bearer_token_required(server: RunningServer) -> None:
    status, body = await request(server, "GET", "/api/v1/chargers", auth=False)
    assert status == 401 and "Authorization: Bearer" in body["fix"]
    assert (await request(server, "GET", "/healthz", auth=False))[0] == 200


async def test_openapi_document_is_served(server: RunningServer) -> None:
    status, doc = await request(server, "GET", "/openapi.json", auth=False)
    assert status == 200 and doc["openapi"].startswith("3.1")
    assert "/api/v1/chargers/{id}/calls" in doc["paths"]
    listing = doc["paths"]["/api/v1/chargers"]["get"]
    assert [p["name"] for p in listing["parameters"]] == ["limit", "cursor"]
    assert set(listing["responses"]["200"]["headers"]) == {"X-Total-Count", "Link"}


async def test_bad_bodies_get_422_naming_the_field(server: RunningServer) -> None:
    status, body = await request(server, "POST", "/api/v1/chargers", data=b"{not json")
    assert status == 422 and "invalid request body" in body["message"] and body["code"] == "invalid_body"
    status, body = await request(server, "POST", "/api/v1/chargers", json={"id": "X", "colour": "red"})
    assert status == 422 and "colour" in body["error"] and body["field"] == "colour"
    status, body = await request(server, "POST", "/api/v1/chargers", json={"id": 5})
    assert status == 422 and body["field"] == "id"
    status, body = await request(server, "POST", "/api/v1/chargers/X/calls", json={"action": "Reset", "payload": []})
    assert status == 422 and body["field"] == "payload"
    status, body = await request(server, "POST", "/api/v1/chargers", json={"id": "X", "password": "short"})
    assert status == 422 and "16 to 40" in body["error"]
    status, body = await request(server, "POST", "/api/v1/chargers", json={"id": "X", "registration": "Maybe"})
    assert status == 422 and "Accepted, Pending, Rejected" in body["fix"]
    status, body = await request(server, "POST", "/api/v1/tokens", json={"id_tag": "T", "status": "Bogus"})
    assert status == 422 and "Accepted" in body["error"]
    status, body = await request(
        server, "POST", "/api/v1/tokens", json={"id_tag": "T", "expires_at": "2030-01-01T00:00:00"}
    )
    assert status == 422 and "time zone" in body["error"]
    status, body = await request(server, "GET", "/api/v1/transactions?active=maybe")
    assert status == 400 and "true or false" in body["error"]
    assert (await request(server, "GET", "/api/v1/transactions/abc"))[0] == 400
    assert (await request(server, "POST", "/api/v1/chargers/X/calls", json={"payload": {}}))[0] == 422


@pytest.mark.parametrize("bad", [".", "..", "a b", "x" * 49, "CP:1", ""])
async def test_adding_a_charger_applies_the_handshakes_id_rule(server: RunningServer, bad: str) -> None:
    status, body = await request(server, "POST", "/api/v1/chargers", json={"id": bad})
    assert status == 422 and "1-48 characters" in body["error"]
    assert (await request(server, "GET", "/api/v1/chargers"))[1] == []


async def test_charger_lifecycle(server: RunningServer) -> None:
    new = {"id": "LIFE", "registration": "Pending", "quirks": ["long-strings"]}
    status, charger = await request(server, "POST", "/api/v1/chargers", json=new)
    assert status == 201 and charger["registration"] == "Pending" and charger["quirks"] == ["long-strings"]
    assert (await request(server, "POST", "/api/v1/chargers", json={"id": "LIFE"}))[0] == 409
    for route, registration in (("approve", "Accepted"), ("reject", "Rejected"), ("pending", "Pending")):
        status, charger = await request(server, "POST", f"/api/v1/chargers/LIFE/{route}")
        assert status == 200 and charger["registration"] == registration, route
    status, charger = await request(server, "PUT", "/api/v1/chargers/LIFE/password", json={"password": "p" * 16})
    assert status == 200 and charger["password_set"] is True
    entry = server.app.directory.get("LIFE")
    assert entry is not None and entry.password_hash is not None  # the handshake knows it at once
    status, charger = await request(server, "DELETE", "/api/v1/chargers/LIFE/password")
    assert status == 200 and charger["password_set"] is False
    status, charger = await request(server, "PUT", "/api/v1/chargers/LIFE/quirks", json={"quirks": ["enum-case"]})
    assert status == 200 and charger["quirks"] == ["enum-case"]
    status, body = await request(server, "PUT", "/api/v1/chargers/LIFE/quirks", json={"quirks": ["be-nice"]})
    assert status == 422 and "unknown quirk" in body["error"]
    assert (await request(server, "DELETE", "/api/v1/chargers/LIFE"))[0] == 204
    assert (await request(server, "GET", "/api/v1/chargers/LIFE"))[0] == 404
    assert (await request(server, "DELETE", "/api/v1/chargers/LIFE"))[0] == 404


async def test_tokens_are_added_listed_and_blocked(server: RunningServer) -> None:
    status, _ = await request(
        server, "POST", "/api/v1/tokens", json={"id_tag": "T1", "expires_at": "2030-01-01T00:00:00Z"}
    )
    assert status == 201
    status, token = await request(server, "POST", "/api/v1/tokens/T1/block")
    assert status == 200 and token["status"] == "Blocked"
    status, tokens = await request(server, "GET", "/api/v1/tokens")
    assert tokens == [
        {"id_tag": "T1", "status": "Blocked", "expires_at": "2030-01-01T00:00:00Z", "parent_id_tag": None}
    ]
    assert (await request(server, "POST", "/api/v1/tokens/T2/block"))[0] == 404


async def follow(server: RunningServer, path: str) -> tuple[list[list[Any]], set[str]]:
    """Every page of a listing, following its Link headers; with the totals each page gave."""
    pages, totals = [], set()
    next_path: str | None = path
    while next_path is not None:
        status, headers, body = await exchange(server, "GET", next_path)
        assert status == 200, body
        pages.append(body)
        totals.add(headers["X-Total-Count"])
        link = re.fullmatch(r'<([^>]+)>; rel="next"', headers.get("Link", ""))
        next_path = link.group(1) if link else None
    return pages, totals


async def test_every_list_is_paged_with_a_total_and_a_next_link(server: RunningServer) -> None:
    store = server.app.store
    for n in range(5):
        await request(server, "POST", "/api/v1/chargers", json={"id": f"CP-{n}"})
        await request(server, "POST", "/api/v1/tokens", json={"id_tag": f"T{n}"})
    ids = [
        (await store.start_transaction(NewTransaction(charger_id="CP-1", evse_id=1, connector_id=1, id_tag=None,
                                                      started_at=T0, meter_start_wh=0, dedupe_key=str(n))))[0].id
        for n in range(3)
    ]  # fmt: skip

    pages, totals = await follow(server, "/api/v1/chargers?limit=2")
    assert [[c["id"] for c in page] for page in pages] == [["CP-0", "CP-1"], ["CP-2", "CP-3"], ["CP-4"]]
    assert totals == {"5"}
    pages, totals = await follow(server, "/api/v1/tokens?limit=4")
    assert [len(page) for page in pages] == [4, 1] and totals == {"5"}
    pages, totals = await follow(server, "/api/v1/transactions?charger_id=CP-1&limit=2")
    assert [[t["id"] for t in page] for page in pages] == [ids[:0:-1], ids[:1]] and totals == {"3"}
    _, headers, body = await exchange(server, "GET", "/api/v1/chargers")
    assert len(body) == 5 and "Link" not in headers  # default limit 100


async def test_a_disconnected_chargers_connectors_read_offline(server: RunningServer) -> None:
    async with websockets.connect(f"{server.ocpp_url}/CP-OFF", subprotocols=["ocpp1.6"]) as ws:  # type: ignore[list-item]
        for n, (action, payload) in enumerate([
            ("BootNotification", {"chargePointVendor": "A", "chargePointModel": "B"}),
            ("StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Charging"}),
        ]):  # fmt: skip
            await ws.send(json.dumps([2, str(n), action, payload]))
            assert json.loads(await ws.recv())[0] == 3
        _, charger = await request(server, "GET", "/api/v1/chargers/CP-OFF")
        assert [(c["status"], c["last_status"]) for c in charger["connectors"]] == [("Charging", "Charging")]
    for _ in range(100):
        _, charger = await request(server, "GET", "/api/v1/chargers/CP-OFF")
        if not charger["connected"]:
            break
        await asyncio.sleep(0.05)
    assert [(c["status"], c["last_status"]) for c in charger["connectors"]] == [("Offline", "Charging")]
    _, listed = await request(server, "GET", "/api/v1/chargers")
    assert listed[0]["connectors"][0]["status"] == "Offline"


@pytest.mark.parametrize("route", ["pending", "reject"])
async def test_a_connected_charger_put_back_is_disconnected_and_boots_into_it(
    server: RunningServer, route: str
) -> None:
    url = f"{server.ocpp_url}/CP-BACK"
    boot = json.dumps([2, "b", "BootNotification", {"chargePointVendor": "A", "chargePointModel": "B"}])
    async with websockets.connect(url, subprotocols=["ocpp1.6"]) as ws:  # type: ignore[list-item]
        await ws.send(boot)
        assert json.loads(await ws.recv())[2]["status"] == "Accepted"
        status, charger = await request(server, "POST", f"/api/v1/chargers/CP-BACK/{route}")
        assert status == 200
        with pytest.raises(websockets.ConnectionClosedOK):
            await asyncio.wait_for(ws.recv(), 5)
        assert ws.close_code == 1000 and charger["registration"] in (ws.close_reason or "")
    async with websockets.connect(url, subprotocols=["ocpp1.6"]) as ws:  # type: ignore[list-item]
        await ws.send(boot)
        assert json.loads(await ws.recv())[2]["status"] == charger["registration"]


async def test_a_change_from_another_process_reaches_the_live_link(server: RunningServer) -> None:
    async with websockets.connect(f"{server.ocpp_url}/CP-CLI", subprotocols=["ocpp1.6"]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps([2, "b", "BootNotification", {"chargePointVendor": "A", "chargePointModel": "B"}]))
        await ws.recv()
        await server.app.admin.reload()  # the server's periodic reload sees the charger
        await Admin(store=server.app.store).set_registration("CP-CLI", Registration.REJECTED)  # what the CLI does
        assert await server.app.admin.reload() == ["CP-CLI"]
        with pytest.raises(websockets.ConnectionClosedOK):
            await asyncio.wait_for(ws.recv(), 5)
