"""The REST API's contract: bearer auth, precise 4xx answers, the OpenAPI document it serves."""

from __future__ import annotations

import aiohttp

from tests.conftest import RunningServer


async def request(
    server: RunningServer, method: str, path: str, *, auth: bool = True, **kwargs: object
) -> tuple[int, object]:
    headers = server.headers if auth else {}
    async with (
        aiohttp.ClientSession(headers=headers) as http,
        http.request(method, server.http_url + path, **kwargs) as r,
    ):  # type: ignore[arg-type]
        return r.status, await r.json(content_type=None) if r.status != 204 else None


async def test_bearer_token_required(server: RunningServer) -> None:
    status, body = await request(server, "GET", "/api/v1/chargers", auth=False)
    assert status == 401 and "Authorization: Bearer" in body["error"]  # type: ignore[index]
    assert (await request(server, "GET", "/healthz", auth=False))[0] == 200


async def test_openapi_document_is_served(server: RunningServer) -> None:
    status, doc = await request(server, "GET", "/openapi.json", auth=False)
    assert status == 200 and doc["openapi"].startswith("3.1")  # type: ignore[index]
    assert "/api/v1/chargers/{id}/calls" in doc["paths"]  # type: ignore[index]


async def test_bad_bodies_get_400_with_the_reason(server: RunningServer) -> None:
    status, body = await request(server, "POST", "/api/v1/chargers", data=b"{not json")
    assert status == 400 and "invalid request body" in body["error"]  # type: ignore[index]
    status, body = await request(server, "POST", "/api/v1/chargers", json={"id": "X", "colour": "red"})
    assert status == 400 and "colour" in body["error"]  # type: ignore[index]
    status, body = await request(server, "POST", "/api/v1/chargers", json={"id": "X", "password": "short"})
    assert status == 400 and "16 to 40" in body["error"]  # type: ignore[index]
    status, body = await request(server, "POST", "/api/v1/chargers", json={"id": "X", "registration": "Maybe"})
    assert status == 400  # type: ignore[index]
    status, body = await request(server, "POST", "/api/v1/tokens", json={"id_tag": "T", "status": "Bogus"})
    assert status == 400 and "Accepted" in body["error"]  # type: ignore[index]
    status, body = await request(
        server, "POST", "/api/v1/tokens", json={"id_tag": "T", "expires_at": "2030-01-01T00:00:00"}
    )
    assert status == 400 and "time zone" in body["error"]  # type: ignore[index]
    status, body = await request(server, "GET", "/api/v1/transactions?active=maybe")
    assert status == 400 and "true or false" in body["error"]  # type: ignore[index]
    status, body = await request(server, "GET", "/api/v1/transactions/abc")
    assert status == 400  # type: ignore[index]
    assert (await request(server, "POST", "/api/v1/chargers/X/calls", json={"payload": {}}))[0] == 400


async def test_charger_lifecycle(server: RunningServer) -> None:
    status, charger = await request(server, "POST", "/api/v1/chargers", json={"id": "LIFE", "registration": "Pending"})
    assert status == 201 and charger["registration"] == "Pending"  # type: ignore[index]
    assert (await request(server, "POST", "/api/v1/chargers", json={"id": "LIFE"}))[0] == 409
    status, charger = await request(server, "POST", "/api/v1/chargers/LIFE/approve")
    assert status == 200 and charger["registration"] == "Accepted"  # type: ignore[index]
    assert (await request(server, "DELETE", "/api/v1/chargers/LIFE"))[0] == 204
    assert (await request(server, "GET", "/api/v1/chargers/LIFE"))[0] == 404
    assert (await request(server, "DELETE", "/api/v1/chargers/LIFE"))[0] == 404
    status, tokens = await request(
        server, "POST", "/api/v1/tokens", json={"id_tag": "T1", "expires_at": "2030-01-01T00:00:00Z"}
    )
    assert status == 201
    status, tokens = await request(server, "GET", "/api/v1/tokens")
    assert tokens == [
        {"id_tag": "T1", "status": "Accepted", "expires_at": "2030-01-01T00:00:00Z", "parent_id_tag": None}
    ]
