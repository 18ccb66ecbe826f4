"""REST for the message trace: a charger's last OCPP frames (``services.frame_trace``), as JSON, as an NDJSON
download, and live as an NDJSON stream (what ``chargewise trace CHARGER`` reads). Bearer auth as the rest of
``/api/v1``; frames are redacted before they are kept, so nothing here can show a credential."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from chargewise.adapters.http_common import ok, problem
from chargewise.services.admin_errors import InvalidRequest, NotFound
from chargewise.services.frame_trace import FrameTrace

KEEPALIVE_S = 15.0  # an empty line this often keeps proxies from closing a quiet stream


@dataclass(frozen=True, kw_only=True)
class TraceDeps:
    trace: FrameTrace
    known: Callable[[str], bool]  # whether the charger id is one the server knows (the directory)


TRACE: web.AppKey[TraceDeps] = web.AppKey("chargewise-trace")


def _params(request: web.Request, allowed: set[str]) -> dict[str, str]:
    unknown = sorted(set(request.query) - allowed)
    if unknown:
        raise InvalidRequest(f"unknown query parameter {unknown[0][:40]!r}", fix=f"use {', '.join(sorted(allowed))}")
    return dict(request.query)


def _count(text: str | None, what: str, default: int | None) -> int | None:
    if text is None:
        return default
    if not text.isdigit() or not 0 <= int(text) <= 10_000:
        raise InvalidRequest(f"{what} {text[:20]!r} is not a whole number 0-10000", fix=f"give e.g. {what}=50")
    return int(text)


def _charger(request: web.Request) -> str:
    charger_id = request.match_info["id"]
    deps = request.app[TRACE]
    if not deps.known(charger_id) and not deps.trace.frames(charger_id, 1):
        raise NotFound(f"unknown charger {charger_id[:80]!r}", fix="list the chargers with GET /api/v1/chargers")
    return charger_id


async def get_trace(request: web.Request) -> web.Response:
    params = _params(request, {"limit", "format"})
    charger_id = _charger(request)
    limit = _count(params.get("limit"), "limit", None)
    form = params.get("format", "json")
    if form not in ("json", "ndjson"):
        raise InvalidRequest(f"format {form[:20]!r} is not json or ndjson", fix="give format=json or format=ndjson")
    frames = [f.as_json() for f in request.app[TRACE].trace.frames(charger_id, limit)]
    if form == "json":
        return ok(frames)
    body = "".join(json.dumps(f) + "\n" for f in frames)
    name = "".join(c if c.isalnum() or c in "-_" else "_" for c in charger_id)
    return web.Response(text=body, content_type="application/x-ndjson",
                        headers={"Content-Disposition": f'attachment; filename="{name}-trace.ndjson"'})  # fmt: skip


async def stream_trace(request: web.Request) -> web.StreamResponse:
    params = _params(request, {"history"})
    charger_id = _charger(request)
    history = _count(params.get("history"), "history", 20) or 0
    trace = request.app[TRACE].trace
    follower = trace.follow(charger_id)  # before the history is read: no frame falls between the two
    response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson", "Cache-Control": "no-cache"})
    try:
        await response.prepare(request)
        backlog = trace.frames(charger_id, history) if history else []
        follower.queue.clear()
        for old in backlog:
            await response.write((json.dumps(old.as_json()) + "\n").encode())
        while True:
            new = await follower.next(KEEPALIVE_S)
            line = "\n" if new is None else json.dumps(new.as_json()) + "\n"
            await response.write(line.encode())
    except ConnectionResetError:
        pass  # the client left
    finally:
        trace.unfollow(follower)
    return response


def add_routes(app: web.Application, deps: TraceDeps | None) -> None:
    """The trace routes (they answer 404 when the server keeps no trace: ``--trace-frames 0``)."""
    if deps is None:
        app.router.add_get("/api/v1/chargers/{id}/trace", _no_trace)
        app.router.add_get("/api/v1/chargers/{id}/trace/stream", _no_trace)
        return
    app[TRACE] = deps
    app.router.add_get("/api/v1/chargers/{id}/trace", get_trace)
    app.router.add_get("/api/v1/chargers/{id}/trace/stream", stream_trace)


async def _no_trace(request: web.Request) -> web.Response:
    return problem(404, "this server keeps no message trace", "start it without --trace-frames 0")
