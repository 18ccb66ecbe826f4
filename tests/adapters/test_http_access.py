"""Who may call what: every route of the served OpenAPI document (routes other modules add included) refuses a
missing or wrong token 401 and a role too low 403, as the one table in ``http_access`` says; every JSON body
route refuses a malformed body 422 naming the field; tokens made over REST work at once and stop when revoked."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from chargewise.adapters.http_access import required_role
from chargewise.domain.api_clients import Role
from tests.adapters.test_http_sites import serve

PATH_VALUES = {"id": "WALL", "name": "home", "charger": "wallbox", "evse": "1", "serial": "1f", "token": "x",
               "filename": "f.bin", "path": "app.js"}  # real ones: a refusal is not a 404


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Any]:
    app = await serve(tmp_path, with_site=True)
    await app.admin.add("WALL")
    try:
        yield app
    finally:
        await app.stop()


async def send(app: Any, method: str, path: str, token: str | None, **kwargs: Any) -> tuple[int, Any]:
    headers = {} if token is None else {"Authorization": token if " " in token else f"Bearer {token}"}
    async with (
        aiohttp.ClientSession(headers=headers) as http,
        http.request(method, f"http://127.0.0.1:{app.http.port}{path}", **kwargs) as r,
    ):
        return r.status, await r.json(content_type=None) if r.content_type == "application/json" else await r.text()


ENDLESS = {"/api/v1/events"}  # server-sent events


def api_operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    """(METHOD, pattern, concrete path, operation) of every /api/ operation."""
    for pattern, item in doc["paths"].items():
        if pattern.startswith("/api/"):
            for method, op in item.items():
                yield method.upper(), pattern, re.sub(r"{(\w+)}", lambda m: PATH_VALUES[m.group(1)], pattern), op


async def make_token(app: Any, role: str) -> str:
    status, made = await send(app, "POST", "/api/v1/api-tokens", "t", json={"name": f"{role}-1", "role": role})
    assert status == 201 and made["role"] == role and made["secret"].startswith("cw_")
    return str(made["secret"])


def test_the_role_table() -> None:
    assert required_role("GET", "/api/v1/chargers") is Role.VIEWER
    assert required_role("HEAD", "/api/v1/anything/added/later") is Role.VIEWER
    assert required_role("POST", "/api/v1/chargers/{id}/calls") is Role.OPERATOR
    assert required_role("POST", "/api/v1/anything/added/later") is Role.OPERATOR  # the default for a change
    assert required_role("POST", "/api/v1/chargers/{id}/approve") is Role.OPERATOR
    assert required_role("PUT", "/api/v1/sites/{name}/evses/{charger}/{evse}/mode") is Role.OPERATOR
    assert required_role("POST", "/api/v1/chargers") is Role.ADMIN
    assert required_role("put", "/api/v1/chargers/{id}/password") is Role.ADMIN
    assert required_role("DELETE", "/api/v1/chargers/{id}") is Role.ADMIN
    assert required_role("GET", "/api/v1/api-tokens") is Role.ADMIN  # reads of secrets' owners too
    assert required_role("GET", "/api/v1/webhooks/{id}") is Role.ADMIN
    assert Role.ADMIN.allows(Role.OPERATOR) and Role.OPERATOR.allows(Role.VIEWER)
    assert not Role.VIEWER.allows(Role.OPERATOR) and not Role.OPERATOR.allows(Role.ADMIN)


async def test_every_route_refuses_missing_wrong_and_too_low_tokens(running: Any) -> None:
    _, doc = await send(running, "GET", "/openapi.json", None)
    viewer, operator = await make_token(running, "viewer"), await make_token(running, "operator")
    operations = list(api_operations(doc))
    assert len(operations) >= 35  # the walk covers the document, whatever other modules added to it
    wrong: list[str] = []
    for method, pattern, path, _ in operations:
        where = f"{method} {pattern}"
        for token in (None, "nope", "cw_" + "x" * 43, "Basic dDp0", "Bearer", viewer + "x"):
            status, problem = await send(running, method, path, token)
            if status != 401 or problem.get("code") != "unauthorized" or not problem.get("fix"):
                wrong.append(f"{where} with {token!r}: {status} {problem}")
        needed = required_role(method, pattern)
        for role, token in (("viewer", viewer), ("operator", operator)):
            if pattern in ENDLESS and Role(role).allows(needed):
                continue  # an admitted request to an endless stream never ends (tests/adapters/test_http_events.py)
            status, problem = await send(running, method, path, token, json={})
            allowed = Role(role).allows(needed)
            if allowed and status in (401, 403):
                wrong.append(f"{where} as {role}: refused {status} {problem}")
            if not allowed and (status != 403 or problem.get("code") != "forbidden" or needed.value not in
                                problem["message"]):  # fmt: skip
                wrong.append(f"{where} as {role}: {status}, expected 403 naming {needed.value}")
    assert wrong == []
    mutating = [op for op in operations if op[0] != "GET"]
    assert mutating and all(required_role(m, p) is not Role.VIEWER for m, p, _, _ in mutating)


async def test_every_json_body_is_refused_422_naming_the_field(running: Any) -> None:
    _, doc = await send(running, "GET", "/openapi.json", None)
    schemas = doc["components"]["schemas"]
    wrong, checked = [], 0
    for method, pattern, path, op in api_operations(doc):
        content = op.get("requestBody", {}).get("content", {})
        if "application/json" not in content:
            continue
        model = schemas[content["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]]
        first = next(iter(model["properties"]))
        for bad, field in (({first: [[]]}, first), ({"__no_such_field__": 1}, None), (b"{not json", None)):
            kwargs = {"data": bad} if isinstance(bad, bytes) else {"json": bad}
            status, problem = await send(running, method, path, "t", **kwargs)
            named = problem.get("field") if isinstance(problem, dict) else None
            if status != 422 or problem.get("code") != "invalid_body" or (field and not str(named).startswith(field)):
                wrong.append(f"{method} {pattern} {bad!r}: {status} {problem}")
        checked += 1
    assert checked >= 12 and wrong == []
    status, problem = await send(running, "POST", "/api/v1/tokens.csv", "t", data="id_tag,colour\nA,red\n")
    assert status == 422 and "colour" in problem["message"]


async def test_tokens_made_over_rest_work_at_once_and_stop_when_revoked(running: Any) -> None:
    viewer = await make_token(running, "viewer")
    assert (await send(running, "GET", "/api/v1/chargers", viewer))[0] == 200
    status, problem = await send(running, "POST", "/api/v1/chargers/WALL/approve", viewer)
    assert status == 403 and "operator" in problem["message"] and "api-tokens create" in problem["fix"]
    status, listed = await send(running, "GET", "/api/v1/api-tokens", "t")
    assert status == 200 and [t["name"] for t in listed] == ["viewer-1"] and "secret" not in listed[0]
    assert "secret_hash" not in listed[0]
    status, problem = await send(running, "POST", "/api/v1/api-tokens", "t", json={"name": "viewer-1", "role": "admin"})
    assert status == 409
    status, problem = await send(running, "POST", "/api/v1/api-tokens", "t", json={"name": "x", "role": "boss"})
    assert status == 422 and "viewer" in problem["fix"]
    assert (await send(running, "GET", "/api/v1/api-tokens", viewer))[0] == 403  # admin only, reads too
    assert (await send(running, "DELETE", "/api/v1/api-tokens/viewer-1", "t"))[0] == 204
    assert (await send(running, "GET", "/api/v1/chargers", viewer))[0] == 401
    assert (await send(running, "DELETE", "/api/v1/api-tokens/viewer-1", "t"))[0] == 404


async def test_an_operator_sends_commands_but_not_credential_changes(running: Any) -> None:
    operator = await make_token(running, "operator")
    status, problem = await send(running, "POST", "/api/v1/chargers/WALL/calls", operator,
                                 json={"action": "Reset", "payload": {"type": "Soft"}})  # fmt: skip
    assert status == 409 and "not connected" in problem["message"]  # allowed: refused only for being offline
    for action in ("ChangeConfiguration", "SetVariables", "UpdateFirmware"):
        status, problem = await send(running, "POST", "/api/v1/chargers/WALL/calls", operator,
                                     json={"action": action, "payload": {}})  # fmt: skip
        assert status == 403 and action in problem["message"], action
        status, _ = await send(running, "POST", "/api/v1/chargers/WALL/jobs", operator, json={"action": action})
        assert status == 403, action
