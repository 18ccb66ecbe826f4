"""The REST API (``/api/v1``), health check and OpenAPI document, on aiohttp.

Every ``/api/v1`` route needs ``Authorization: Bearer <token>`` of a role high enough for it (``http_access``:
the one table of roles). Handlers are thin: they parse the request, call a service (``Admin`` for chargers,
``Records`` for tokens, ``Ledger`` for transactions) and render a response model from ``api_models``. Every
refusal is a JSON ``Problem`` (``code``, ``message``, ``fix``): 401/403 for the token, 422 for a bad body (naming
the field), 400 for a bad query or path, 404/409 as the case is; a 500 means a bug of ours. Lists are paged:
``?limit=&cursor=``, the total in ``X-Total-Count`` and the next page in a ``Link: <...>; rel="next"`` header
(the body stays a JSON array). Times are UTC, ISO 8601. Other modules add their routes to the same app
(``http_sites``, ``http_clients``, ``http_jobs``, ``http_configuration``, ``http_exports``, ...).
"""

from __future__ import annotations

import logging
import re
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from aiohttp import web

from chargewise.adapters import api_models as m
from chargewise.adapters import (
    http_authorization,
    http_clients,
    http_cluster,
    http_configuration,
    http_dashboard,
    http_events,
    http_exports,
    http_firmware,
    http_jobs,
    http_logs,
    http_site_plan,
    http_trace,
    prometheus,
)
from chargewise.adapters.api_client_models import JobRequest
from chargewise.adapters.http_access import ACCESS, ADMIN_ACTIONS, access, require
from chargewise.adapters.http_certs import CertDeps
from chargewise.adapters.http_certs import add_routes as add_cert_routes
from chargewise.adapters.http_common import (
    BODY_READ,
    LINK_ERRORS,
    InvalidBody,
    body,
    flag,
    link_problem,
    listed,
    ok,
    problem,
    query,
)
from chargewise.adapters.http_sites import SiteDeps, add_routes
from chargewise.adapters.memory_api_clients import MemoryApiClientStore
from chargewise.domain.api_clients import Role
from chargewise.domain.model import Registration
from chargewise.domain.ports import StoreBusy
from chargewise.ocpp.errors import LocalProtocolError
from chargewise.services.admin import Admin, parse_registration
from chargewise.services.admin_errors import AdminError, AlreadyExists, InvalidRequest, NotFound
from chargewise.services.api_tokens import ApiTokens
from chargewise.services.cluster import Cluster
from chargewise.services.connections import Registry
from chargewise.services.doctor import Doctor
from chargewise.services.events import EventHub
from chargewise.services.jobs import Jobs
from chargewise.services.leases import Leases
from chargewise.services.local_lists import LocalLists
from chargewise.services.log_uploads import LogUploads
from chargewise.services.paging import parse_limit
from chargewise.services.records import Ledger, Records, parse_status
from chargewise.services.reservations import Reservations
from chargewise.services.webhooks import Webhooks

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
STATUS = {InvalidRequest: 400, InvalidBody: 422, NotFound: 404, AlreadyExists: 409}
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
    tokens: ApiTokens | None = None  # role tokens; None: the admin token alone (kept in memory)
    webhooks: Webhooks | None = None  # outgoing webhooks fed by the event hub; None: off
    jobs: Jobs | None = None  # asynchronous commands; None: made here over the registry, without callbacks
    firmware: http_firmware.FirmwareDeps | None = None  # artifacts, downloads, campaigns (adapters/http_firmware.py)
    events: EventHub | None = None  # the event hub behind GET /api/v1/events (``central.events``)
    logs: LogUploads | None = None  # log uploads and the upload endpoint (adapters/http_logs.py)
    local_lists: LocalLists | None = None  # local authorization lists (adapters/http_authorization.py)
    reservations: Reservations | None = None  # reservations (adapters/http_authorization.py)
    certs: CertDeps | None = None  # certificates and credential changes (adapters/http_certs.py)
    ready: Callable[[], bool] = lambda: True  # GET /readyz: takes chargers (not draining, bus up)
    cluster: tuple[Cluster, Leases] | None = None  # GET /api/v1/cluster (adapters/http_cluster.py)
    trace: http_trace.TraceDeps | None = None  # the message trace's routes (adapters/http_trace.py)
    metrics: prometheus.MetricsDeps | None = None  # GET /metrics (adapters/prometheus.py)


DEPS: web.AppKey[ApiDeps] = web.AppKey("chargewise")


@web.middleware
async def problems(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every refusal as a JSON Problem; aiohttp's own (unknown route, wrong method, body too large) too."""
    try:
        return await handler(request)
    except AdminError as exc:  # a refusal once the body was read is the body's fault: 422
        status = STATUS.get(type(exc), 400)
        if status == 400 and request.get(BODY_READ, False):
            status = 422
        return problem(status, exc.message, exc.fix, field=exc.field if isinstance(exc, InvalidBody) else None)
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
    """Synchronous: the charger's CallResult or CallError; with ``?async=true`` a job at once (``http_jobs``)."""
    charger_id = request.match_info["id"]
    asynchronous = flag(query(request, {"async"}), "async")
    command = await body(request, m.CallRequest)
    if asynchronous:
        return http_jobs.accepted(request, charger_id, JobRequest(action=command.action, payload=command.payload))
    if command.action in ADMIN_ACTIONS and (refused := require(request, Role.ADMIN, command.action)) is not None:
        return refused
    try:
        outcome = await request.app[DEPS].registry.call(charger_id, command.action, command.payload)
    except LINK_ERRORS as exc:
        return link_problem(exc)
    except LocalProtocolError as exc:
        return problem(422, str(exc), "send a payload the OCPP schema of this action allows", field="payload")
    return ok(m.call_view(outcome))


async def list_connectors(request: web.Request) -> web.Response:
    query(request, ())
    return ok(m.charger_view(await request.app[DEPS].admin.charger(request.match_info["id"])).connectors)


async def explain_charger(request: web.Request) -> web.Response:
    params = query(request, {"since"})
    doctor = request.app[DEPS].doctor
    if doctor is None:
        return problem(503, "the connectivity doctor is not running here", "ask the server that serves the chargers")
    return ok(m.doctor_view(await doctor.explain(request.match_info["id"], params.get("since"))))


# ---------------------------------------------------------------------- transactions
async def list_transactions(request: web.Request) -> web.Response:
    params = query(request, PAGING | http_exports.FILTERS)
    filters = http_exports.transaction_filters(request, params)
    listing = await request.app[DEPS].ledger.transactions(limit=parse_limit(params.get("limit")),
                                                          cursor=params.get("cursor"), **filters)  # fmt: skip
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


async def readyz(request: web.Request) -> web.Response:
    """For a load balancer: 200 while this node takes chargers, 503 while it drains or its bus is down."""
    if not request.app[DEPS].ready():
        return problem(503, "not ready: draining, or the cluster bus is down", "send chargers to another node")
    return ok(m.Health(status="ready", connected_chargers=len(request.app[DEPS].registry)))


async def openapi(request: web.Request) -> web.Response:
    return ok(m.openapi_document())


def build(deps: ApiDeps) -> web.Application:
    web_app = web.Application(middlewares=[problems, access])
    web_app[DEPS] = deps
    web_app[ACCESS] = deps.tokens or ApiTokens(store=MemoryApiClientStore(), now=lambda: datetime.now(UTC),
                                               admin_token=deps.admin_token)  # fmt: skip
    r = web_app.router
    r.add_get("/healthz", healthz)
    r.add_get("/readyz", readyz)
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
    r.add_get("/api/v1/chargers/{id}/connectors", list_connectors)
    r.add_get("/api/v1/chargers/{id}/doctor", explain_charger)
    r.add_get("/api/v1/transactions", list_transactions)
    r.add_get("/api/v1/transactions/{id}", get_transaction)
    r.add_get("/api/v1/tokens", list_tokens)
    r.add_post("/api/v1/tokens", put_token)
    r.add_post("/api/v1/tokens/{id}/block", block_token)
    add_routes(web_app, deps.sites)  # without smart charging they answer that it is off
    http_clients.add_routes(web_app, http_clients.ClientDeps(tokens=web_app[ACCESS], webhooks=deps.webhooks))
    jobs = deps.jobs or Jobs(call=deps.registry.call, post=None, now=lambda: datetime.now(UTC))
    http_jobs.add_routes(web_app, jobs)
    http_configuration.add_routes(web_app, deps.registry, deps.admin)
    http_exports.add_routes(web_app, http_exports.ExportDeps(records=deps.records, ledger=deps.ledger))
    http_site_plan.add_routes(web_app)  # a site's plan; sites PUT and DELETE through REST
    http_firmware.add_routes(web_app, deps.firmware)
    http_events.add_routes(web_app, deps.events)  # the SSE stream (its query-token middleware goes first)
    http_dashboard.add_routes(web_app)  # the web dashboard at /
    http_logs.add_routes(web_app, deps.logs)
    http_authorization.add_routes(web_app, deps.local_lists, deps.reservations)
    add_cert_routes(web_app, deps.certs)
    http_cluster.add_routes(web_app, deps.cluster)
    http_trace.add_routes(web_app, deps.trace)
    prometheus.add_routes(web_app, deps.metrics)
    return web_app


class HttpServer:
    """``ssl_context``: serve HTTPS (``serve --http-tls-cert/--http-tls-key``); ``share_port``: serve --workers."""

    def __init__(self, deps: ApiDeps, *, host: str, port: int, ssl_context: ssl.SSLContext | None = None,
                 share_port: bool = False) -> None:  # fmt: skip
        self.runner = web.AppRunner(build(deps), access_log=None)
        self.host, self.port, self.share_port = host, port, share_port
        self.ssl_context = ssl_context

    async def start(self) -> None:
        await self.runner.setup()
        # serve --workers: every worker answers REST on the same port (SO_REUSEPORT), as for the OCPP port
        site = web.TCPSite(self.runner, self.host, self.port, reuse_address=True, ssl_context=self.ssl_context,
                           reuse_port=self.share_port or None)  # fmt: skip
        await site.start()
        if self.port == 0:
            server = site._server
            assert server is not None
            self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]

    async def stop(self) -> None:
        await self.runner.cleanup()
