"""Who may call which REST route: the one table of roles, and the middleware that applies it.

Rules (every route of every module registered on the API's app, present and future, falls under them):

1. Outside ``/api/`` (``/healthz``, ``/openapi.json``, the dashboard's files) no token is needed.
2. Under ``/api/`` a request without a valid bearer token is refused 401; one whose token's role is below
   the route's is refused 403. Both are JSON Problems.
3. A route's role is looked up by method and path *pattern* (``/api/v1/chargers/{id}``): first in
   :data:`ADMIN_ROUTES` (exact) and :data:`ADMIN_PREFIXES`, then :data:`VIEWER_ROUTES`; otherwise a read
   (GET, HEAD, OPTIONS) needs a viewer and anything else an operator.
4. ``POST .../calls`` and ``.../jobs`` send any OCPP action; the ones that change a charger's credentials,
   network or firmware (:data:`ADMIN_ACTIONS`) need an admin, checked by the handler with :func:`require`.

A module that adds a route an operator must not reach adds its (method, pattern) to :data:`ADMIN_ROUTES` here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from chargewise.adapters.http_common import problem
from chargewise.domain.api_clients import Role
from chargewise.services.api_tokens import ApiTokens

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
READS = frozenset({"GET", "HEAD", "OPTIONS"})

#: (method, path pattern) that only an admin may call: credentials, registration of new chargers, removal.
ADMIN_ROUTES: frozenset[tuple[str, str]] = frozenset({
    ("POST", "/api/v1/chargers"),  # a new charger comes with its password and security profile
    ("DELETE", "/api/v1/chargers/{id}"),
    ("PUT", "/api/v1/chargers/{id}/password"),
    ("DELETE", "/api/v1/chargers/{id}/password"),
    ("PUT", "/api/v1/chargers/{id}/configuration"),  # keys include AuthorizationKey, BasicAuthPassword, URLs
    ("POST", "/api/v1/chargers/{id}/password-rotation"),  # credentials (adapters/http_certs.py)
    ("POST", "/api/v1/chargers/{id}/security-profile"),
    ("POST", "/api/v1/chargers/{id}/certificates"),  # what a charger trusts
    ("DELETE", "/api/v1/chargers/{id}/certificates/{serial}"),
    ("POST", "/api/v1/firmware/artifacts"),  # what firmware chargers may be given (adapters/http_firmware.py)
    ("DELETE", "/api/v1/firmware/artifacts/{id}"),
})  # fmt: skip
#: Every method under these paths is an admin's: API tokens, and webhooks (their secrets and URLs).
ADMIN_PREFIXES = ("/api/v1/api-tokens", "/api/v1/webhooks")
#: Non-reads a viewer may make (none yet: a viewer only reads).
VIEWER_ROUTES: frozenset[tuple[str, str]] = frozenset()
#: OCPP actions sent through ``/calls`` or ``/jobs`` that only an admin may send.
ADMIN_ACTIONS = frozenset({
    "ChangeConfiguration", "SetVariables", "SetNetworkProfile", "InstallCertificate", "DeleteCertificate",
    "CertificateSigned", "UpdateFirmware", "SignedUpdateFirmware", "SendLocalList",
})  # fmt: skip

ACCESS: web.AppKey[ApiTokens] = web.AppKey("chargewise-access")
ROLE: web.RequestKey[Role] = web.RequestKey("chargewise-role", Role)  # the request's role, for handlers


def required_role(method: str, pattern: str) -> Role:
    """The least role that may call ``method`` on the route ``pattern`` (rule 3)."""
    method = method.upper()
    if (method, pattern) in ADMIN_ROUTES or pattern.startswith(ADMIN_PREFIXES):
        return Role.ADMIN
    if method in READS or (method, pattern) in VIEWER_ROUTES:
        return Role.VIEWER
    return Role.OPERATOR


def require(request: web.Request, needed: Role, what: str) -> web.Response | None:
    """A 403 Problem if the request's role is below ``needed`` (``what``: the thing refused), else None."""
    role = request.get(ROLE, Role.VIEWER)
    if role.allows(needed):
        return None
    return problem(403, f"{what} needs the {needed.value} role; this token is {role.value}",
                   f"use a token with the {needed.value} role (chargewise api-tokens create --role {needed.value})",
                   code="forbidden")  # fmt: skip


@web.middleware
async def access(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Rules 1-3, before the handler runs."""
    if not request.path.startswith("/api/"):
        return await handler(request)
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    role = await request.app[ACCESS].role_of(secret.strip()) if scheme.lower() == "bearer" else None
    if role is None:
        return problem(401, "missing or wrong bearer token", "send Authorization: Bearer <token> (the admin token, "
                       "or one from chargewise api-tokens create)", code="unauthorized")  # fmt: skip
    request[ROLE] = role
    resource = request.match_info.route.resource
    if resource is not None:  # an unknown route is answered 404 by the router after this
        refused = require(request, required_role(request.method, resource.canonical),
                          f"{request.method} {resource.canonical}")  # fmt: skip
        if refused is not None:
            return refused
    return await handler(request)
