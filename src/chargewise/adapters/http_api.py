"""The REST API (``/api/v1``), health check and OpenAPI document, on aiohttp.

Every ``/api/v1`` route needs ``Authorization: Bearer <admin token>``. Handlers are thin: they parse the
request, call the services, and render a response model from ``api_models``.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import msgspec
from aiohttp import web

from chargewise.adapters import api_models as m
from chargewise.domain.model import IdToken, Registration, TokenStatus
from chargewise.ocpp.errors import LocalProtocolError
from chargewise.services.connections import CallTimeout, ChargerOffline, NotAccepted
from chargewise.services.directory import entry_for
from chargewise.services.passwords import check_new_password, hash_password

if TYPE_CHECKING:
    from chargewise.bootstrap import App

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
APP_KEY: web.AppKey[App] = web.AppKey("chargewise")


def ok(model: Any, status: int = 200) -> web.Response:
    return web.Response(body=msgspec.json.encode(model), status=status, content_type="application/json")


def problem(status: int, message: str) -> web.Response:
    return ok(m.Problem(error=message), status)


async def body(request: web.Request, model: type[Any]) -> Any:
    try:
        return msgspec.json.decode(await request.read(), type=model)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        message = msgspec.json.encode(m.Problem(error=f"invalid request body: {exc}")).decode()
        raise web.HTTPBadRequest(text=message, content_type="application/json") from None


@web.middleware
async def bearer_auth(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith("/api/"):
        expected = f"Bearer {request.app[APP_KEY].admin_token}"
        if not hmac.compare_digest(request.headers.get("Authorization", ""), expected):
            return problem(401, "missing or wrong bearer token: send Authorization: Bearer <admin token>")
    return await handler(request)


# ---------------------------------------------------------------------- chargers
async def list_chargers(request: web.Request) -> web.Response:
    app = request.app[APP_KEY]
    return ok([m.charger_view(c, app.registry.get(c.id)) for c in await app.store.list_chargers()])


async def get_charger(request: web.Request) -> web.Response:
    app = request.app[APP_KEY]
    charger = await app.store.get_charger(request.match_info["id"])
    if charger is None:
        return problem(404, f"no charger {request.match_info['id']!r}")
    return ok(m.charger_view(charger, app.registry.get(charger.id)))


async def add_charger(request: web.Request) -> web.Response:
    app = request.app[APP_KEY]
    new: m.NewCharger = await body(request, m.NewCharger)
    try:
        password_hash = hash_password(check_new_password(new.password)) if new.password else None
        charger = await app.store.add_charger(
            new.id, registration=Registration(new.registration), password_hash=password_hash
        )
    except ValueError as exc:
        return problem(400, str(exc))
    except KeyError:
        return problem(409, f"charger {new.id!r} exists already")
    app.directory.put(entry_for(charger))
    return ok(m.charger_view(charger, None), 201)


async def approve_charger(request: web.Request) -> web.Response:
    app = request.app[APP_KEY]
    charger_id = request.match_info["id"]
    try:
        await app.store.set_registration(charger_id, Registration.ACCEPTED)
    except KeyError:
        return problem(404, f"no charger {charger_id!r}")
    charger = await app.store.get_charger(charger_id)
    assert charger is not None
    app.directory.put(entry_for(charger))
    return ok(m.charger_view(charger, app.registry.get(charger_id)))


async def remove_charger(request: web.Request) -> web.Response:
    app = request.app[APP_KEY]
    charger_id = request.match_info["id"]
    if await app.store.get_charger(charger_id) is None:
        return problem(404, f"no charger {charger_id!r}")
    await app.store.remove_charger(charger_id)
    app.directory.remove(charger_id)
    link = app.registry.get(charger_id)
    if link is not None:
        link.close("charger removed")
    return web.Response(status=204)


async def call_charger(request: web.Request) -> web.Response:
    app = request.app[APP_KEY]
    charger_id = request.match_info["id"]
    command: m.CallRequest = await body(request, m.CallRequest)
    try:
        outcome = await app.registry.call(charger_id, command.action, command.payload)
    except ChargerOffline as exc:
        return problem(409, str(exc))
    except NotAccepted as exc:
        return problem(409, str(exc))
    except CallTimeout as exc:
        return problem(504, str(exc))
    except LocalProtocolError as exc:
        return problem(400, str(exc))
    return ok(m.call_view(outcome))


# ---------------------------------------------------------------------- transactions
async def list_transactions(request: web.Request) -> web.Response:
    store = request.app[APP_KEY].store
    active_arg = request.query.get("active")
    if active_arg not in (None, "true", "false"):
        return problem(400, "active must be true or false")
    active = None if active_arg is None else active_arg == "true"
    txs = await store.list_transactions(charger_id=request.query.get("charger_id") or None, active=active)
    return ok([m.transaction_view(tx, None) for tx in txs])


async def get_transaction(request: web.Request) -> web.Response:
    store = request.app[APP_KEY].store
    try:
        tx_id = int(request.match_info["id"])
    except ValueError:
        return problem(400, "transaction id must be an integer")
    tx = await store.get_transaction(tx_id)
    if tx is None:
        return problem(404, f"no transaction {tx_id}")
    return ok(m.transaction_view(tx, await store.meter_values(tx_id)))


# ---------------------------------------------------------------------- tokens
async def list_tokens(request: web.Request) -> web.Response:
    return ok([m.token_view(t) for t in await request.app[APP_KEY].store.list_tokens()])


async def put_token(request: web.Request) -> web.Response:
    new: m.NewToken = await body(request, m.NewToken)
    try:
        status = TokenStatus(new.status)
    except ValueError:
        return problem(400, f"status must be one of {', '.join(s.value for s in TokenStatus)}")
    if new.expires_at is not None and new.expires_at.tzinfo is None:
        return problem(400, "expires_at needs a time zone, e.g. 2027-01-01T00:00:00Z")
    token = IdToken(id_tag=new.id_tag, status=status, expires_at=new.expires_at, parent_id_tag=new.parent_id_tag)
    await request.app[APP_KEY].store.put_token(token)
    return ok(m.token_view(token), 201)


# ---------------------------------------------------------------------- misc
async def healthz(request: web.Request) -> web.Response:
    app = request.app[APP_KEY]
    return ok(m.Health(status="ok", connected_chargers=len(app.registry)))


async def openapi(request: web.Request) -> web.Response:
    return ok(m.openapi_document())


def build(app: App) -> web.Application:
    web_app = web.Application(middlewares=[bearer_auth])
    web_app[APP_KEY] = app
    r = web_app.router
    r.add_get("/healthz", healthz)
    r.add_get("/openapi.json", openapi)
    r.add_get("/api/v1/chargers", list_chargers)
    r.add_post("/api/v1/chargers", add_charger)
    r.add_get("/api/v1/chargers/{id}", get_charger)
    r.add_delete("/api/v1/chargers/{id}", remove_charger)
    r.add_post("/api/v1/chargers/{id}/approve", approve_charger)
    r.add_post("/api/v1/chargers/{id}/calls", call_charger)
    r.add_get("/api/v1/transactions", list_transactions)
    r.add_get("/api/v1/transactions/{id}", get_transaction)
    r.add_get("/api/v1/tokens", list_tokens)
    r.add_post("/api/v1/tokens", put_token)
    return web_app


class HttpServer:
    def __init__(self, app: App, *, host: str, port: int) -> None:
        self.runner = web.AppRunner(build(app), access_log=None)
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
