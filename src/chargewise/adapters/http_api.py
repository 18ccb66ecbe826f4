"""The REST API (``/api/v1``), health check and OpenAPI document, on aiohttp.

Every ``/api/v1`` route needs ``Authorization: Bearer <admin token>``. Handlers are thin: they parse the
request, call a service (``Admin`` for chargers, ``Records`` for tokens, ``Ledger`` for transactions) and render
a response model from ``api_models``. Every refusal is a JSON ``Problem`` (``error`` and ``fix``) with a 4xx
status; a 500 means a bug of ours. Lists are paged: ``?limit=&cursor=``, the total in ``X-Total-Count`` and the
next page in a ``Link: <...>; rel="next"`` header (the body stays a JSON array).
"""

from __future__ import annotations

import hmac
import logging
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from aiohttp import web

from chargewise.adapters import api_models as m
from chargewise.adapters import http_trace, prometheus
from chargewise.adapters.http_common import body, ok, problem
from chargewise.adapters.http_sites import SiteDeps, add_routes
from chargewise.domain.model import Registration
from chargewise.domain.ports import StoreBusy
from chargewise.ocpp.errors import LocalProtocolError
from chargewise.services.admin import Admin, parse_registration
from chargewise.services.admin_errors import AdminError, AlreadyExists, InvalidRequest, NotFound
from chargewise.services.connections import CallTimeout, ChargerOffline, NotAccepted, Registry
from chargewise.services.doctor import Doctor
from chargewise.services.paging import Listing, parse_limit
from chargewise.services.records import Ledger, Records, parse_status

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
T = TypeVar("T")
STATUS = {InvalidRequest: 400, NotFound: 404, AlreadyExists: 409}
PAGING = frozenset({"limit", "cursor"})


@dataclass(frozen=True, kw_only=True)
class ApiDeps:
    """What the API serves from; ``bootstrap`` builds it."""

    admin: Admin
    records: Records
    ledger: Ledger
    registry: Registry
    admin_token: str
    sites: SiteDeps | None = None  # smart charging's routes (adapters/http_sites.py)
    doctor: Doctor | None = None  # the connectivity doctor (``bootstrap`` builds it over the live signals)
    trace: http_trace.TraceDeps | None = None  # the message trace's routes (adapters/http_trace.py)
    metrics: prometheus.MetricsDeps | None = None  # GET /metrics (adapters/prometheus.py)


DEPS: web.AppKey[ApiDeps] = web.AppKey("chargewise")


def query(request: web.Request, allowed: Iterable[str]) -> dict[str, str]:
    """The query parameters, refusing unknown ones (a misspelt ``limt`` would silently be ignored)."""
    known = frozenset(allowed)
    unknown = sorted(set(request.query) - known)
    if unknown:
        raise InvalidRequest(f"unknown query parameter {unknown[0][:40]!r}", fix=f"use {', '.join(sorted(known))}")
    return {key: request.query[key] for key in request.query}


def listed(request: web.Request, listing: Listing[T], render: Callable[[T], Any]) -> web.Response:
    headers = {"X-Total-Count": str(listing.total)}
    if listing.next_cursor is not None:
        following = request.rel_url.update_query(limit=str(listing.limit), cursor=listing.next_cursor)
        headers["Link"] = f'<{following}>; rel="next"'
    return ok([render(item) for item in listing.items], headers=headers)


@web.middleware
async def problems(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every refusal as a JSON Problem; aiohttp's own (unknown route, wrong method, body too large) too."""
    try:
        return await handler(request)
    except AdminError as exc:
        return problem(STATUS.get(type(exc), 400), exc.message, exc.fix)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        fix = "see /openapi.json for the routes and their methods"
        if isinstance(exc, web.HTTPRequestEntityTooLarge):
            fix = "send a smaller body"
        return problem(exc.status, exc.reason, fix)
    except StoreBusy:
        return problem(503, "the database is busy", "retry in a few seconds")
    except Exception:  # a bug of ours: logged with its traceback, the client told no more
        log.exception("%s %s failed", request.method, request.path)
        return problem(500, "internal error", "retry later; if it persists, report it with the server log")


@web.middleware
async def bearer_auth(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith("/api/"):
        expected = f"Bearer {request.app[DEPS].admin_token}"
        if not hmac.compare_digest(request.headers.get("Authorization", "").encode(), expected.encode()):
            return problem(401, "missing or wrong bearer token", "send Authorization: Bearer <admin token>")
    return await handler(request)


# ---------------------------------------------------------------------- chargers
async def list_chargers(request: web.Request) -> web.Response:
    params = query(request, PAGING)
    admin = request.app[DEPS].admin
    listing = await admin.chargers(limit=parse_limit(params.get("limit")), cursor=params.get("cursor"))
    return listed(request, listing, m.charger_view)


async def get_charger(request: web.Request) -> web.Response:
    return ok(m.charger_view(await request.app[DEPS].admin.charger(request.match_info["id"])))


async def add_charger(request: web.Request) -> web.Response:
    new = await body(request, m.NewCharger)
    added = await request.app[DEPS].admin.add(
        new.id,
        registration=parse_registration(new.registration),
        password=new.password,
        quirks=new.quirks,
        security_profile=new.security_profile,
    )
    return ok(m.charger_view(added), 201)


def registration_route(registration: Registration) -> Handler:
    async def set_registration(request: web.Request) -> web.Response:
        changed = await request.app[DEPS].admin.set_registration(request.match_info["id"], registration)
        return ok(m.charger_view(changed))

    return set_registration


async def set_password(request: web.Request) -> web.Response:
    new = await body(request, m.NewPassword)
    return ok(m.charger_view(await request.app[DEPS].admin.set_password(request.match_info["id"], new.password)))


async def clear_password(request: web.Request) -> web.Response:
    return ok(m.charger_view(await request.app[DEPS].admin.set_password(request.match_info["id"], None)))


async def set_quirks(request: web.Request) -> web.Response:
    new = await body(request, m.NewQuirks)
    return ok(m.charger_view(await request.app[DEPS].admin.set_quirks(request.match_info["id"], new.quirks)))


async def remove_charger(request: web.Request) -> web.Response:
    await request.app[DEPS].admin.remove(request.match_info["id"])
    return web.Response(status=204)


async def call_charger(request: web.Request) -> web.Response:
    charger_id = request.match_info["id"]
    command = await body(request, m.CallRequest)
    try:
        outcome = await request.app[DEPS].registry.call(charger_id, command.action, command.payload)
    except ChargerOffline as exc:
        return problem(409, str(exc), "retry when the charger is connected (GET /api/v1/chargers/{id})")
    except NotAccepted as exc:
        return problem(409, str(exc), "approve the charger, then wait for its BootNotification")
    except CallTimeout as exc:
        return problem(504, str(exc), "retry; check the charger's connection if it keeps happening")
    except LocalProtocolError as exc:
        return problem(400, str(exc), "send a payload the OCPP schema of this action allows")
    return ok(m.call_view(outcome))


async def explain_charger(request: web.Request) -> web.Response:
    params = query(request, {"since"})
    doctor = request.app[DEPS].doctor
    if doctor is None:
        return problem(503, "the connectivity doctor is not running here", "ask the server that serves the chargers")
    return ok(m.doctor_view(await doctor.explain(request.match_info["id"], params.get("since"))))


# ---------------------------------------------------------------------- transactions
async def list_transactions(request: web.Request) -> web.Response:
    params = query(request, PAGING | {"charger_id", "active"})
    active_arg = params.get("active")
    if active_arg not in (None, "true", "false"):
        raise InvalidRequest(f"active {active_arg[:20]!r} is not true or false", fix="give active=true or active=false")
    listing = await request.app[DEPS].ledger.transactions(
        limit=parse_limit(params.get("limit")), cursor=params.get("cursor"),
        charger_id=params.get("charger_id") or None, active=None if active_arg is None else active_arg == "true",
    )  # fmt: skip
    return listed(request, listing, lambda tx: m.transaction_view(tx, None))


async def get_transaction(request: web.Request) -> web.Response:
    text = request.match_info["id"]
    if not re.fullmatch(r"-?[0-9]{1,100}", text):
        raise InvalidRequest(f"transaction id {text[:40]!r} is not an integer", fix="give the id the listing shows")
    record = await request.app[DEPS].ledger.transaction(int(text))
    return ok(m.transaction_view(record.transaction, record.meter_values))


# ---------------------------------------------------------------------- tokens
async def list_tokens(request: web.Request) -> web.Response:
    params = query(request, PAGING)
    records = request.app[DEPS].records
    listing = await records.tokens(limit=parse_limit(params.get("limit")), cursor=params.get("cursor"))
    return listed(request, listing, m.token_view)


async def put_token(request: web.Request) -> web.Response:
    new = await body(request, m.NewToken)
    token = await request.app[DEPS].records.put_token(
        new.id_tag, status=parse_status(new.status), expires_at=new.expires_at, parent_id_tag=new.parent_id_tag
    )
    return ok(m.token_view(token), 201)


async def block_token(request: web.Request) -> web.Response:
    return ok(m.token_view(await request.app[DEPS].records.block_token(request.match_info["id"])))


# ---------------------------------------------------------------------- misc
async def healthz(request: web.Request) -> web.Response:
    return ok(m.Health(status="ok", connected_chargers=len(request.app[DEPS].registry)))


async def openapi(request: web.Request) -> web.Response:
    return ok(m.openapi_document())


def build(deps: ApiDeps) -> web.Application:
    web_app = web.Application(middlewares=[problems, bearer_auth])
    web_app[DEPS] = deps
    r = web_app.router
    r.add_get("/healthz", healthz)
    r.add_get("/openapi.json", openapi)
    r.add_get("/api/v1/chargers", list_chargers)
    r.add_post("/api/v1/chargers", add_charger)
    r.add_get("/api/v1/chargers/{id}", get_charger)
    r.add_delete("/api/v1/chargers/{id}", remove_charger)
    r.add_post("/api/v1/chargers/{id}/approve", registration_route(Registration.ACCEPTED))
    r.add_post("/api/v1/chargers/{id}/pending", registration_route(Registration.PENDING))
    r.add_post("/api/v1/chargers/{id}/reject", registration_route(Registration.REJECTED))
    r.add_put("/api/v1/chargers/{id}/password", set_password)
    r.add_delete("/api/v1/chargers/{id}/password", clear_password)
    r.add_put("/api/v1/chargers/{id}/quirks", set_quirks)
    r.add_post("/api/v1/chargers/{id}/calls", call_charger)
    r.add_get("/api/v1/chargers/{id}/doctor", explain_charger)
    r.add_get("/api/v1/transactions", list_transactions)
    r.add_get("/api/v1/transactions/{id}", get_transaction)
    r.add_get("/api/v1/tokens", list_tokens)
    r.add_post("/api/v1/tokens", put_token)
    r.add_post("/api/v1/tokens/{id}/block", block_token)
    add_routes(web_app, deps.sites)  # without smart charging they answer that it is off
    http_trace.add_routes(web_app, deps.trace)
    prometheus.add_routes(web_app, deps.metrics)
    return web_app


class HttpServer:
    def __init__(self, deps: ApiDeps, *, host: str, port: int) -> None:
        self.runner = web.AppRunner(build(deps), access_log=None)
        self.host, self.port = host, port

    async def start(self) -> None:
        await self.runner.setup()
        site = web.TCPSite(self.runner, self.host, self.port, reuse_address=True)
        await site.start()
        if self.port == 0:
            server = site._server
            assert server is not None
            self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]

    async def stop(self) -> None:
        await self.runner.cleanup()
