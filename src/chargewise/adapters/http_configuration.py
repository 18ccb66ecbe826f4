"""REST for a charger's configuration, read and changed through the connected charger (``Configuration``):
``GET/PUT /api/v1/chargers/{id}/configuration``. The charger's refusal is a 502 Problem with its CallError."""

from __future__ import annotations

from aiohttp import web

from chargewise.adapters import api_charger_models as m
from chargewise.adapters.http_common import InvalidBody, body, link_problem, ok, problem, query
from chargewise.ocpp.errors import LocalProtocolError
from chargewise.services.admin import Admin
from chargewise.services.admin_errors import InvalidRequest
from chargewise.services.configuration import ChargerRefused, Configuration
from chargewise.services.connections import CallTimeout, ChargerOffline, NotAccepted, Registry

CONFIGURATION: web.AppKey[tuple[Configuration, Registry, Admin]] = web.AppKey("chargewise-configuration")


async def _guarded(request: web.Request, read: bool) -> web.Response:
    configuration, registry, admin = request.app[CONFIGURATION]
    charger_id = request.match_info["id"]
    try:
        if read:
            query(request, {"key"}, repeatable={"key"})
            settings = await configuration.read(charger_id, request.query.getall("key", []))
        else:
            query(request, ())
            change = await body(request, m.ConfigurationChange)
            settings = await configuration.write(charger_id, change.values)
    except ChargerOffline as exc:
        await admin.charger(charger_id)  # 404 for a charger we do not know
        return link_problem(exc)
    except (NotAccepted, CallTimeout) as exc:
        return link_problem(exc)
    except ChargerRefused as exc:
        return problem(502, exc.message, exc.fix, code="charger_refused")
    except LocalProtocolError as exc:
        fix = "keys of at most 50 characters, values of at most 500 (1.6) or 1000 (2.0.1)"
        if read:
            raise InvalidRequest(str(exc), fix=fix) from None
        raise InvalidBody(str(exc), fix=fix, field="values") from None
    link = registry.get(charger_id)
    return ok(m.settings_view(charger_id, link.version.value if link else "", settings))


async def get_configuration(request: web.Request) -> web.Response:
    return await _guarded(request, read=True)


async def put_configuration(request: web.Request) -> web.Response:
    return await _guarded(request, read=False)


def add_routes(app: web.Application, registry: Registry, admin: Admin) -> None:
    app[CONFIGURATION] = (Configuration(registry=registry), registry, admin)
    app.router.add_get("/api/v1/chargers/{id}/configuration", get_configuration)
    app.router.add_put("/api/v1/chargers/{id}/configuration", put_configuration)
