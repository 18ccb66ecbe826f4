"""REST for who uses the API: role tokens (``/api/v1/api-tokens``) and webhooks (``/api/v1/webhooks``), both
admin-only (``http_access``). Thin: parse, call ``ApiTokens`` / ``Webhooks``, render ``api_client_models``."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from chargewise.adapters import api_client_models as m
from chargewise.adapters.http_common import body, ok, query
from chargewise.services.admin_errors import NotFound
from chargewise.services.api_tokens import ApiTokens, parse_role
from chargewise.services.webhooks import Webhooks


@dataclass(frozen=True, kw_only=True)
class ClientDeps:
    tokens: ApiTokens
    webhooks: Webhooks | None  # None: this process sends no webhooks (a CLI, a test without the hub)


CLIENTS: web.AppKey[ClientDeps] = web.AppKey("chargewise-clients")


def _webhooks(request: web.Request) -> Webhooks:
    webhooks = request.app[CLIENTS].webhooks
    if webhooks is None:
        raise NotFound("webhooks are off in this process", fix="use the server that serves the REST API")
    return webhooks


async def list_tokens(request: web.Request) -> web.Response:
    query(request, ())
    return ok([m.token_view(t) for t in await request.app[CLIENTS].tokens.tokens()])


async def create_token(request: web.Request) -> web.Response:
    new = await body(request, m.NewApiToken)
    token, secret = await request.app[CLIENTS].tokens.create(new.name, parse_role(new.role))
    return ok(m.created_token(token, secret), 201)


async def revoke_token(request: web.Request) -> web.Response:
    await request.app[CLIENTS].tokens.revoke(request.match_info["id"])
    return web.Response(status=204)


async def list_webhooks(request: web.Request) -> web.Response:
    query(request, ())
    webhooks = request.app[CLIENTS].webhooks
    return ok([] if webhooks is None else [m.webhook_view(p) for p in webhooks.pumps()])


async def create_webhook(request: web.Request) -> web.Response:
    new = await body(request, m.NewWebhook)
    pump = await _webhooks(request).create(new.url, new.kinds, new.chargers)
    return ok(m.created_webhook(pump), 201)


async def get_webhook(request: web.Request) -> web.Response:
    return ok(m.webhook_view(_webhooks(request).get(request.match_info["id"])))


async def delete_webhook(request: web.Request) -> web.Response:
    await _webhooks(request).delete(request.match_info["id"])
    return web.Response(status=204)


def add_routes(app: web.Application, deps: ClientDeps) -> None:
    """Register the routes on ``app`` (the API's access check and Problem middleware apply)."""
    app[CLIENTS] = deps
    r = app.router
    r.add_get("/api/v1/api-tokens", list_tokens)
    r.add_post("/api/v1/api-tokens", create_token)
    r.add_delete("/api/v1/api-tokens/{id}", revoke_token)
    r.add_get("/api/v1/webhooks", list_webhooks)
    r.add_post("/api/v1/webhooks", create_webhook)
    r.add_get("/api/v1/webhooks/{id}", get_webhook)
    r.add_delete("/api/v1/webhooks/{id}", delete_webhook)
