"""The certificate and credential routes under bad input, on SQLite and PostgreSQL: never a 5xx, always a JSON
problem naming what is wrong and how to fix it. (Accepted paths, with real chargers: tests/e2e/test_certificates.py.)"""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from tests.adapters.test_http_bad_input import DEEP, send
from tests.conftest import RunningServer

CP = "/api/v1/chargers/CP1"
BAD: list[tuple[str, str, Any, int, str]] = [
    # bodies that do not decode into the model
    ("POST", f"{CP}/certificates", b"not json", 422, "invalid request body"),
    ("POST", f"{CP}/certificates", {"certificate": "x"}, 422, "type"),
    ("POST", f"{CP}/certificates", {"type": "csms-root", "extra": 1}, 422, "extra"),
    ("POST", f"{CP}/certificates", DEEP, 422, "invalid request body"),
    ("POST", f"{CP}/password-rotation", {"password": 5}, 422, "password"),
    ("POST", f"{CP}/security-profile", {}, 422, "profile"),
    ("POST", f"{CP}/security-profile", {"profile": "three"}, 422, "profile"),
    # unknown chargers (ids the store cannot even hold among them)
    ("POST", "/api/v1/chargers/NOPE/password-rotation", {}, 404, "no charger"),
    ("POST", "/api/v1/chargers/%00/password-rotation", {}, 404, "no charger"),
    ("POST", "/api/v1/chargers/" + "X" * 5000 + "/security-profile", {"profile": 2}, 404, "no charger"),
    # known but not connected
    ("POST", f"{CP}/password-rotation", {"password": "a-good-password-0123"}, 409, "not connected"),
    ("POST", f"{CP}/certificates/renew", None, 409, "not connected"),
    ("GET", f"{CP}/certificates", None, 409, "not connected"),
    ("DELETE", f"{CP}/certificates/1f", None, 409, "not connected"),
    # query parameters
    ("GET", f"{CP}/certificates?type=bogus", None, 400, "bogus"),
    ("GET", f"{CP}/certificates?kind=csms-root", None, 400, "kind"),
    # nothing signed yet: an empty list, not an error
    ("GET", f"{CP}/signings", None, 200, ""),
]


async def test_bad_input_to_the_certificate_routes(any_db_server: RunningServer) -> None:
    await any_db_server.app.admin.add("CP1", password="a-first-password-0123", security_profile=1)
    failures = []
    async with aiohttp.ClientSession(headers=any_db_server.headers) as http:
        for method, path, body, expected, named in BAD:
            status, content_type, text = await send(http, any_db_server.http_url, method, path, body)
            where = f"{method} {path[:60]} {str(body)[:40]}"
            if status != expected:
                failures.append(f"{where}: {status}, expected {expected}: {text[:200]}")
            elif status >= 400:
                problem = json.loads(text) if content_type == "application/json" else {}
                if not (problem.get("fix") and named in problem.get("error", "")):
                    failures.append(f"{where}: not a problem naming {named!r}: {text[:200]}")
        status, _, text = await send(http, any_db_server.http_url, "GET", "/api/v1/ca", None)
    assert failures == []
    assert status == 200 and "BEGIN CERTIFICATE" in json.loads(text)["pem"]  # made on first use
    assert (any_db_server.app.settings.data_dir / "ca" / "ca.pem").exists()
