"""REST for smart charging: sites with their live allocation, live mode switches, the site meter feed, and
demand-response events. Thin: parse, call ``SmartCharging`` / ``DemandResponse``, render ``api_site_models``.
Refusals are raised as ``AdminError``s, which the API's middleware turns into JSON Problems."""

from __future__ import annotations

from dataclasses import dataclass

import msgspec
from aiohttp import web

from chargewise.adapters import api_site_models as m
from chargewise.adapters.clock import SystemClock
from chargewise.adapters.http_common import body, ok, problem
from chargewise.charging.demand import DemandError
from chargewise.charging.demand_request import parse_event_request
from chargewise.charging.site import PHASES, Mode, limits_at
from chargewise.charging.state import MeterReading
from chargewise.domain.ports import Clock
from chargewise.services.admin_errors import InvalidRequest, NotFound
from chargewise.services.demand_response import DemandResponse
from chargewise.services.smart_charging import SiteLoop, SmartCharging


@dataclass(frozen=True, kw_only=True)
class SiteDeps:
    charging: SmartCharging | None
    demand: DemandResponse | None
    clock: Clock


SITES: web.AppKey[SiteDeps] = web.AppKey("chargewise-sites")


def _charging(request: web.Request) -> SmartCharging:
    charging = request.app[SITES].charging
    if charging is None:
        raise NotFound("smart charging is off: no site", fix="start the server with --site SITE_FILE (docs/sites.md)")
    return charging


def _site(request: web.Request) -> SiteLoop:
    charging, name = _charging(request), request.match_info["name"]
    if name not in charging.sites:
        known = ", ".join(sorted(charging.sites))
        fix = f"use one of: {known}" if known else "start the server with --site SITE_FILE, or PUT the site"
        raise NotFound(f"no site {name!r}", fix=fix)
    return charging.sites[name]


def site_view(charging: SmartCharging, site: SiteLoop, clock: Clock) -> m.SiteView:
    now = clock.now()
    limits = limits_at(site.file.site, now)
    alloc = site.previous
    nodes = [
        m.NodeView(
            id=node.id,
            parent=node.parent,
            kind=node.kind,
            limit_a=[m.finite(a) for a in limits[node.id].phase_a],
            limit_kw=m.finite(limits[node.id].power_w / 1000.0),
            capped_by=limits[node.id].capped_by,
            allotted_a=list(alloc.node_a.get(node.id, (0.0, 0.0, 0.0))) if alloc else [0.0, 0.0, 0.0],
            drawn_kw=None if (kw := charging.node_kw(site, node.id)) is None else round(kw, 3),
        )
        for node in site.file.site.nodes.values()
    ]
    return m.SiteView(name=site.name, policy=site.file.policy.kind.value, allocated_at=alloc.at if alloc else None,
                      nodes=nodes, evses=[evse_view(charging, site, e) for e in site.file.site.evses])  # fmt: skip


def evse_view(charging: SmartCharging, site: SiteLoop, evse_id: str) -> m.EvseView:
    evse = site.file.site.evses[evse_id]
    limit = site.previous.limits.get(evse_id) if site.previous else None
    applied = site.applied.get(evse_id)
    verdict = applied.verdict if applied else None
    needs = site.needs.get(evse_id)
    return m.EvseView(
        id=evse_id, charger=evse.charger, parent=evse.parent, wiring=[PHASES[p] for p in evse.wiring],
        online=charging.telemetry.is_online(evse.charger), mode=site.modes.get(evse_id, evse.mode).value,
        limit_a=limit.limit_a if limit else None, phases=limit.phases if limit else None,
        limit_w=limit.limit_w if limit else None, cause=limit.cause.value if limit else None,
        binding=limit.binding if limit else None, reason=limit.reason if limit else None,
        applied=applied.accepted if applied else None, profile=applied.purpose if applied else None,
        verified=verdict.ok if verdict else None,
        detail=(verdict.detail if verdict else applied.detail) if applied else None,
        energy_kwh=needs.energy_kwh if needs else None, departure=needs.departure if needs else None,
        needs_from=needs.source if needs else None,
    )  # fmt: skip


async def list_sites(request: web.Request) -> web.Response:
    deps = request.app[SITES]
    if deps.charging is None:
        return ok([])
    return ok([site_view(deps.charging, s, deps.clock) for s in deps.charging.sites.values()])


async def get_site(request: web.Request) -> web.Response:
    return ok(site_view(_charging(request), _site(request), request.app[SITES].clock))


async def set_mode(request: web.Request) -> web.Response:
    site, charging = _site(request), _charging(request)
    evse_id = f"{request.match_info['charger']}/{request.match_info['evse']}"
    if evse_id not in site.file.site.evses:
        raise NotFound(f"site {site.name!r} has no EVSE {evse_id!r}", fix="see GET /api/v1/sites/{name} for its EVSEs")
    change = await body(request, m.ModeChange)
    try:
        mode = Mode(change.mode)
    except ValueError:
        raise InvalidRequest(f"unknown mode {change.mode!r}", fix=f"use {', '.join(x.value for x in Mode)}") from None
    charging.set_mode(evse_id, mode)
    await charging.keep(evse_id)
    return ok(evse_view(charging, site, evse_id))


async def put_session(request: web.Request) -> web.Response:
    site, charging = _site(request), _charging(request)
    evse_id = f"{request.match_info['charger']}/{request.match_info['evse']}"
    if evse_id not in site.file.site.evses:
        raise NotFound(f"site {site.name!r} has no EVSE {evse_id!r}", fix="see GET /api/v1/sites/{name} for its EVSEs")
    needs = await body(request, m.SessionNeedsRequest)
    if needs.energy_kwh is not None and not 0 <= needs.energy_kwh <= 1000:
        raise InvalidRequest(f"energy_kwh {needs.energy_kwh:g} is out of range", fix="give 0 to 1000 kWh")
    if needs.departure is not None and needs.departure.tzinfo is None:
        raise InvalidRequest("departure has no offset", fix="write e.g. 2026-12-03T07:30:00+01:00 or ...Z")
    charging.set_needs(evse_id, needs.energy_kwh, needs.departure, "rest")
    await charging.keep(evse_id)
    return ok(evse_view(charging, site, evse_id))


async def put_meter(request: web.Request) -> web.Response:
    site, charging = _site(request), _charging(request)
    update = await body(request, m.MeterUpdate)
    if update.phase_a is None and update.power_w is None:
        raise InvalidRequest("an empty reading", fix="send phase_a (three currents, A) and/or power_w (W)")
    if update.phase_a is not None and len(update.phase_a) != 3:
        raise InvalidRequest("phase_a needs three values (L1, L2, L3)", fix="send e.g. [12.5, 8.0, 10.1]")
    phases = None if update.phase_a is None else (update.phase_a[0], update.phase_a[1], update.phase_a[2])
    charging.set_meter(site.name, MeterReading(phase_a=phases, power_w=update.power_w))
    return ok(site_view(charging, site, request.app[SITES].clock))


async def list_demand(request: web.Request) -> web.Response:
    deps = request.app[SITES]
    if deps.demand is None:
        return ok([])
    now = deps.clock.now()
    views = [m.demand_view(e, now, await deps.demand.recorded_compliance(e.id)) for e in await deps.demand.events()]
    return ok(views)


async def post_demand(request: web.Request) -> web.Response:
    deps = request.app[SITES]
    if deps.demand is None or deps.charging is None or not deps.charging.sites:
        return problem(409, "smart charging is off: no site to shed load on", "start with --site SITE_FILE")
    request_body = msgspec.to_builtins(await body(request, m.DemandRequest))
    try:
        event = parse_event_request({k: v for k, v in request_body.items() if v is not None})
        await deps.demand.receive([event])
    except DemandError as exc:
        raise InvalidRequest(str(exc), fix="see docs/demand-response.md for the fields") from None
    held = next(e for e in await deps.demand.events() if e.id == event.id)
    return ok(m.demand_view(held, deps.clock.now(), None), status=201)


def add_routes(app: web.Application, deps: SiteDeps | None) -> None:
    """Register the routes on ``app`` (the API's bearer check and Problem middleware apply); with ``deps`` None
    they answer that smart charging is off."""
    app[SITES] = deps or SiteDeps(charging=None, demand=None, clock=SystemClock())
    r = app.router
    r.add_get("/api/v1/sites", list_sites)
    r.add_get("/api/v1/sites/{name}", get_site)
    r.add_put("/api/v1/sites/{name}/evses/{charger}/{evse}/mode", set_mode)
    r.add_put("/api/v1/sites/{name}/evses/{charger}/{evse}/session", put_session)
    r.add_put("/api/v1/sites/{name}/meter", put_meter)
    r.add_get("/api/v1/demand-response/events", list_demand)
    r.add_post("/api/v1/demand-response/events", post_demand)
