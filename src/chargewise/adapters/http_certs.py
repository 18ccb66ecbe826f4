"""REST for charger certificates and credential changes. Thin: parse, call ``Certificates`` /
``CredentialChanges``, render ``api_cert_models``; refusals become JSON Problems."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from aiohttp import web

from chargewise.adapters import api_cert_models as m
from chargewise.adapters.http_common import body, ok, problem
from chargewise.ocpp.errors import LocalProtocolError
from chargewise.security.commands import KINDS
from chargewise.services.admin_errors import InvalidRequest
from chargewise.services.certificates import Certificates
from chargewise.services.connections import CallTimeout, ChargerOffline, NotAccepted
from chargewise.services.credentials import Busy, CredentialChanges

T = TypeVar("T")


@dataclass(frozen=True, kw_only=True)
class CertDeps:
    certificates: Certificates
    credentials: CredentialChanges


CERTS: web.AppKey[CertDeps | None] = web.AppKey("chargewise-certs")


def _deps(request: web.Request) -> CertDeps:
    deps = request.app[CERTS]
    if deps is None:
        raise InvalidRequest("certificates are not served here", fix="ask the server that serves the chargers")
    return deps


async def _live(work: Awaitable[T], render: Callable[[T], object]) -> web.Response:
    """Run a command on a live charger; its being offline or slow is a Problem, not a 500."""
    try:
        return ok(render(await work))
    except (ChargerOffline, NotAccepted) as exc:
        return problem(409, str(exc), "retry when the charger is connected and accepted (GET /api/v1/chargers/{id})")
    except CallTimeout as exc:
        return problem(504, str(exc), "retry; check the charger's connection if it keeps happening")
    except Busy as exc:
        return problem(409, exc.message, exc.fix)
    except LocalProtocolError as exc:
        return problem(400, str(exc), "send values the OCPP schema of this action allows")


async def get_ca(request: web.Request) -> web.Response:
    certs = _deps(request).certificates
    return ok(m.CaView(subject=certs.ca_subject(), sha256_fingerprint=certs.ca_fingerprint(),
                       not_after=certs.ca_not_after(), pem=certs.root_pem()))  # fmt: skip


async def list_installed(request: web.Request) -> web.Response:
    unknown = sorted(set(request.query) - {"type"})
    if unknown:
        raise InvalidRequest(f"unknown query parameter {unknown[0][:40]!r}", fix="use type")
    kinds = request.query.getall("type", [])
    for kind in kinds:
        if kind not in KINDS:
            raise InvalidRequest(f"type {kind[:40]!r} is unknown", fix=f"use one of {', '.join(KINDS)}")
    work = _deps(request).certificates.installed(request.match_info["id"], kinds)
    return await _live(work, lambda found: [m.installed_view(i) for i in found])


async def install(request: web.Request) -> web.Response:
    new = await body(request, m.InstallRequest)
    work = _deps(request).certificates.install(request.match_info["id"], new.type, new.certificate)
    return await _live(work, m.command_view)


async def delete(request: web.Request) -> web.Response:
    work = _deps(request).certificates.delete(request.match_info["id"], request.match_info["serial"])
    return await _live(work, m.command_view)


async def renew(request: web.Request) -> web.Response:
    return await _live(_deps(request).certificates.renew(request.match_info["id"]), m.command_view)


async def signings(request: web.Request) -> web.Response:
    found = _deps(request).certificates.signings.get(request.match_info["id"], [])
    return ok([m.signing_view(s) for s in found])


async def rotate(request: web.Request) -> web.Response:
    new = await body(request, m.RotationRequest)
    work = _deps(request).credentials.rotate_password(request.match_info["id"], new.password)
    return await _live(work, m.change_view)


async def raise_profile(request: web.Request) -> web.Response:
    new = await body(request, m.ProfileRequest)
    work = _deps(request).credentials.raise_profile(request.match_info["id"], new.profile, csms_url=new.csms_url,
                                                    deadline=new.deadline_s, interface=new.interface)  # fmt: skip
    return await _live(work, m.change_view)


def add_routes(app: web.Application, deps: CertDeps | None) -> None:
    """Register the routes on ``app`` (the API's bearer check and Problem middleware apply); with ``deps`` None
    they answer that certificates are not served here."""
    app[CERTS] = deps
    r = app.router
    r.add_get("/api/v1/ca", get_ca)
    r.add_get("/api/v1/chargers/{id}/certificates", list_installed)
    r.add_post("/api/v1/chargers/{id}/certificates", install)
    r.add_post("/api/v1/chargers/{id}/certificates/renew", renew)
    r.add_delete("/api/v1/chargers/{id}/certificates/{serial}", delete)
    r.add_get("/api/v1/chargers/{id}/signings", signings)
    r.add_post("/api/v1/chargers/{id}/password-rotation", rotate)
    r.add_post("/api/v1/chargers/{id}/security-profile", raise_profile)
