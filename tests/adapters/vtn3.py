"""A small OpenADR 3 VTN for tests: the 3.0.1 API's /auth/token, /programs, /events and /reports in aiohttp.

Follows the OpenADR 3.0.1 OpenAPI document (``oadr3.0.1.yaml``): JSON bodies in camelCase, server-provisioned
``id`` / ``createdDateTime`` / ``modificationDateTime`` / ``objectType``; ``skip`` and ``limit`` (0..50) paging;
``programID``, ``targetType`` + ``targetValues`` and ``clientName`` filters; errors as ``problem`` objects (400
bad request, 403 forbidden without a valid bearer token, 404 not found). Tokens come from the client-credentials
grant on ``/auth/token`` (RFC 6749 4.4: a form with grant_type, client_id, client_secret).

Tests seed it with ``add_program`` / ``add_event`` (the business-logic side) or over HTTP with a BL token.
"""

from __future__ import annotations

import itertools
import secrets
import socket
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
MAX_LIMIT = 50  # 3.0.1: ``limit`` maximum


def problem(status: int, title: str, detail: str) -> web.Response:
    return web.json_response({"type": "about:blank", "title": title, "status": status, "detail": detail}, status=status)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Vtn3:
    """State and routes. ``clients`` maps client_id -> secret; every token issued stays valid while it runs."""

    def __init__(self, clients: dict[str, str]) -> None:
        self.clients = clients
        self.tokens: dict[str, str] = {}  # token -> client_id
        self.programs: dict[str, dict[str, Any]] = {}
        self.events: dict[str, dict[str, Any]] = {}
        self.reports: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(1)
        self.port = free_port()
        self.app = web.Application(middlewares=[self._auth])
        self.app.add_routes(
            [
                web.post("/auth/token", self._token),
                web.get("/programs", self._list(self.programs)),
                web.get("/programs/{id}", self._one(self.programs)),
                web.get("/events", self._list(self.events)),
                web.post("/events", self._create(self.events, "EVENT")),
                web.get("/events/{id}", self._one(self.events)),
                web.delete("/events/{id}", self._delete(self.events)),
                web.get("/reports", self._list(self.reports)),
                web.post("/reports", self._create(self.reports, "REPORT")),
            ]
        )
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # --- the business-logic side, for tests ---
    def add_program(self, body: dict[str, Any]) -> str:
        return self._provision(self.programs, body, "PROGRAM")

    def add_event(self, body: dict[str, Any]) -> str:
        return self._provision(self.events, body, "EVENT")

    def modify_event(self, event_id: str, body: dict[str, Any]) -> None:
        created = self.events[event_id]["createdDateTime"]
        self.events[event_id] = {
            **body,
            "id": event_id,
            "objectType": "EVENT",
            "createdDateTime": created,
            "modificationDateTime": _now(),
        }

    def _provision(self, store: dict[str, dict[str, Any]], body: dict[str, Any], kind: str) -> str:
        object_id = f"{kind.lower()}-{next(self._ids)}"
        store[object_id] = {
            **body,
            "id": object_id,
            "objectType": kind,
            "createdDateTime": _now(),
            "modificationDateTime": _now(),
        }
        return object_id

    # --- HTTP ---
    @web.middleware
    async def _auth(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path == "/auth/token":
            return await handler(request)
        header = request.headers.get("Authorization", "")
        token = header.removeprefix("Bearer ") if header.startswith("Bearer ") else ""
        if token not in self.tokens:
            return problem(403, "Forbidden", "a valid bearer token is required")
        return await handler(request)

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        client_id, secret = str(form.get("client_id", "")), str(form.get("client_secret", ""))
        if form.get("grant_type") != "client_credentials":
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        if self.clients.get(client_id) != secret:
            return web.json_response({"error": "invalid_client"}, status=401)
        token = secrets.token_urlsafe(16)
        self.tokens[token] = client_id
        return web.json_response({"access_token": token, "token_type": "Bearer", "expires_in": 3600})

    def _list(self, store: dict[str, dict[str, Any]]) -> Handler:
        async def handle(request: web.Request) -> web.StreamResponse:
            query = request.query
            try:
                skip, limit = int(query.get("skip", 0)), int(query.get("limit", MAX_LIMIT))
            except ValueError:
                return problem(400, "Bad Request", "skip and limit must be integers")
            if skip < 0 or not 0 <= limit <= MAX_LIMIT:
                return problem(400, "Bad Request", f"skip must be >= 0 and limit 0..{MAX_LIMIT}")
            found = [one for one in store.values() if _matches(one, query)]
            return web.json_response(found[skip : skip + limit])

        return handle

    def _one(self, store: dict[str, dict[str, Any]]) -> Handler:
        async def handle(request: web.Request) -> web.StreamResponse:
            found = store.get(request.match_info["id"])
            return web.json_response(found) if found else problem(404, "Not Found", request.match_info["id"])

        return handle

    def _create(self, store: dict[str, dict[str, Any]], kind: str) -> Handler:
        async def handle(request: web.Request) -> web.StreamResponse:
            try:
                body = await request.json()
            except ValueError:
                return problem(400, "Bad Request", "the body is not JSON")
            if kind == "REPORT" and not {"programID", "eventID", "clientName", "resources"} <= set(body):
                return problem(400, "Bad Request", "a report needs programID, eventID, clientName and resources")
            if kind == "REPORT" and body["eventID"] not in self.events:
                return problem(400, "Bad Request", f"no event {body['eventID']}")
            return web.json_response(store[self._provision(store, body, kind)], status=201)

        return handle

    def _delete(self, store: dict[str, dict[str, Any]]) -> Handler:
        async def handle(request: web.Request) -> web.StreamResponse:
            found = store.pop(request.match_info["id"], None)
            return web.json_response(found) if found else problem(404, "Not Found", request.match_info["id"])

        return handle


def _matches(one: dict[str, Any], query: Any) -> bool:
    for key in ("programID", "eventID", "clientName"):
        if key in query and one.get(key) != query[key]:
            return False
    if "targetType" in query:
        values = set(query.getall("targetValues", []))
        targets = [target for target in one.get("targets") or [] if target.get("type") == query["targetType"]]
        if not any(values & set(target.get("values", [])) for target in targets):
            return False
    return True


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")
