"""A table of bad inputs thrown at every REST route, on SQLite and PostgreSQL: never a 5xx, always a JSON problem
saying what is wrong and how to fix it."""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import aiohttp

from tests.conftest import RunningServer

DEEP = b'{"id": ' + b"[" * 5000 + b"]" * 5000 + b"}"
NESTED_PAYLOAD = b'{"action": "Reset", "payload": {"a": ' + b"[" * 5000 + b"]" * 5000 + b"}}"
BIG = 2**70
HUGE_KEY = base64.urlsafe_b64encode(b"transactions:" + b"9" * 30).decode().rstrip("=")  # a cursor we never made

# (method, path, body: json object / raw bytes / None, expected status)
BAD_INPUTS: list[tuple[str, str, Any, int]] = [
    # paging, every list
    *[(m, f"{path}?{q}", None, 400) for m, path in [("GET", "/api/v1/chargers"), ("GET", "/api/v1/tokens"),
                                                     ("GET", "/api/v1/transactions")]
      for q in ["limit=0", "limit=-1", "limit=1001", f"limit={BIG}", "limit=" + "9" * 5000, "limit=abc", "limit=",
                "limit=1.5", "cursor=garbage", "cursor=", "cursor=" + "A" * 5000, "cursor=Y2hhcmdlcnM", "limt=5",
                f"cursor={HUGE_KEY}"]],
    ("GET", "/api/v1/transactions?active=maybe", None, 400),
    ("GET", "/api/v1/transactions?charger_id=%00", None, 200),
    # transactions by id
    ("GET", "/api/v1/transactions/99999999999999999999999", None, 404),
    ("GET", f"/api/v1/transactions/{2**31}", None, 404),
    ("GET", f"/api/v1/transactions/{2**63}", None, 404),
    ("GET", "/api/v1/transactions/-1", None, 404),
    ("GET", "/api/v1/transactions/0", None, 404),
    ("GET", "/api/v1/transactions/" + "9" * 5000, None, 400),
    ("GET", "/api/v1/transactions/1e5", None, 400),
    ("GET", "/api/v1/transactions/%D9%A3", None, 400),  # an Arabic-Indic digit: int() would take it
    ("GET", "/api/v1/transactions/--5", None, 400),
    # chargers
    ("GET", "/api/v1/chargers/" + "x" * 5000, None, 404),
    ("GET", "/api/v1/chargers/%00", None, 404),
    ("POST", "/api/v1/chargers", b"{not json", 422),
    ("POST", "/api/v1/chargers", b"\xff\xfe", 422),
    ("POST", "/api/v1/chargers", b"", 422),
    ("POST", "/api/v1/chargers", [], 422),
    ("POST", "/api/v1/chargers", DEEP, 422),
    ("POST", "/api/v1/chargers", {"id": 5}, 422),
    ("POST", "/api/v1/chargers", {"id": "."}, 422),
    ("POST", "/api/v1/chargers", {"id": ".."}, 422),
    ("POST", "/api/v1/chargers", {"id": ""}, 422),
    ("POST", "/api/v1/chargers", {"id": "x" * 100_000}, 422),
    ("POST", "/api/v1/chargers", {"id": "CP\u00e9"}, 422),
    ("POST", "/api/v1/chargers", {"id": "OK", "password": "p" * 10_000}, 422),
    ("POST", "/api/v1/chargers", {"id": "OK", "quirks": ["nope"]}, 422),
    ("POST", "/api/v1/chargers", {"id": "OK", "quirks": "long-strings"}, 422),
    ("POST", "/api/v1/chargers", {"id": "OK", "registration": None}, 422),
    ("POST", "/api/v1/chargers", b'{"id": "OK", "pad": "' + b"x" * (2 * 1024 * 1024) + b'"}', 413),
    ("DELETE", "/api/v1/chargers/NOPE", None, 404),
    *[("POST", f"/api/v1/chargers/NOPE/{route}", None, 404) for route in ("approve", "pending", "reject")],
    ("PUT", "/api/v1/chargers/NOPE/password", {"password": "p" * 16}, 404),
    ("PUT", "/api/v1/chargers/NOPE/password", {}, 422),
    ("PUT", "/api/v1/chargers/NOPE/password", {"password": 16}, 422),
    ("DELETE", "/api/v1/chargers/NOPE/password", None, 404),
    ("PUT", "/api/v1/chargers/NOPE/quirks", {"quirks": []}, 404),
    ("PUT", "/api/v1/chargers/NOPE/quirks", {"quirks": [1]}, 422),
    # commands
    ("POST", "/api/v1/chargers/NOPE/calls", {"action": "Reset", "payload": {"type": "Soft"}}, 409),
    ("POST", "/api/v1/chargers/NOPE/calls", {"action": "Reset", "payload": {"type": BIG}}, 409),
    ("POST", "/api/v1/chargers/NOPE/calls", NESTED_PAYLOAD, 422),
    ("POST", "/api/v1/chargers/NOPE/calls", {"action": 5}, 422),
    # tokens
    ("POST", "/api/v1/tokens", {"id_tag": "T", "expires_at": "0001-01-01T00:00:00+01:00"}, 422),
    ("POST", "/api/v1/tokens", {"id_tag": "T", "expires_at": "9999-12-31T23:59:59-01:00"}, 422),
    ("POST", "/api/v1/tokens", {"id_tag": "T", "expires_at": "not a time"}, 422),
    ("POST", "/api/v1/tokens", {"id_tag": "T", "expires_at": BIG}, 422),
    ("POST", "/api/v1/tokens", {"id_tag": ""}, 422),
    ("POST", "/api/v1/tokens", {"id_tag": "x" * 37}, 422),
    ("POST", "/api/v1/tokens", {"id_tag": "T\n"}, 422),
    ("POST", "/api/v1/tokens", {"id_tag": "T", "parent_id_tag": "x" * 1000}, 422),
    ("POST", "/api/v1/tokens", {"id_tag": "T", "status": "Bogus"}, 422),
    ("POST", "/api/v1/tokens/NOPE/block", None, 404),
    # routes and methods that do not exist
    ("GET", "/api/v1/nothing", None, 404),
    ("PATCH", "/api/v1/chargers", None, 405),
    ("GET", "/api/v1/chargers/X/calls", None, 405),
]  # fmt: skip


async def send(http: aiohttp.ClientSession, base: str, method: str, path: str, body: Any) -> tuple[int, str, Any]:
    kwargs: dict[str, Any] = {}
    if isinstance(body, bytes):
        kwargs["data"] = io.BytesIO(body)
    elif body is not None:
        kwargs["json"] = body
    async with http.request(method, base + path, **kwargs) as r:
        text = await r.text()
        return r.status, r.content_type, text


async def test_no_bad_input_gets_a_5xx_and_every_refusal_is_a_json_problem(any_db_server: RunningServer) -> None:
    failures = []
    async with aiohttp.ClientSession(headers=any_db_server.headers) as http:
        for method, path, body, expected in BAD_INPUTS:
            status, content_type, text = await send(http, any_db_server.http_url, method, path, body)
            where = f"{method} {path[:80]} {str(body)[:60]}"
            if status != expected:
                failures.append(f"{where}: {status}, expected {expected}: {text[:200]}")
            elif status >= 400:
                problem = json.loads(text) if content_type == "application/json" else None
                if not (isinstance(problem, dict) and problem.get("error") and problem.get("fix")):
                    failures.append(f"{where}: not a JSON problem with error and fix: {text[:200]}")
        status, _, _ = await send(http, any_db_server.http_url, "GET", "/healthz", None)
    assert failures == []
    assert status == 200  # and the server still serves
