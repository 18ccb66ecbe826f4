"""REST for a site's joint plan (``GET /api/v1/sites/{name}/plan``) and for sites made through REST
(``PUT`` / ``DELETE /api/v1/sites/{name}``, taking effect in the running loop). Thin: validate with the site
file's own rules (``charging.sitefile.parse_data``), call ``SmartCharging``, render the models."""

from __future__ import annotations

from pathlib import Path

import msgspec
from aiohttp import web

from chargewise.adapters import api_site_plan_models as m
from chargewise.adapters.http_common import body, ok, problem
from chargewise.adapters.http_sites import SITES, site_view
from chargewise.adapters.site_files import with_tariff
from chargewise.charging.sitefile import parse_data
from chargewise.charging.sitefile_values import SiteFileError
from chargewise.services.admin_errors import InvalidRequest, NotFound
from chargewise.services.smart_charging import SiteLoop, SmartCharging


def _charging(request: web.Request) -> SmartCharging:
    charging = request.app[SITES].charging
    if charging is None:
        raise NotFound("smart charging is off", fix="start the server with serve (it runs the sites' loops)")
    return charging


def _site(request: web.Request) -> SiteLoop:
    charging, name = _charging(request), request.match_info["name"]
    if name not in charging.sites:
        known = ", ".join(sorted(charging.sites)) or "none"
        raise NotFound(f"no site {name!r}", fix=f"use one of: {known}, or PUT /api/v1/sites/{name} to make it")
    return charging.sites[name]


def plan_view(site: SiteLoop) -> m.PlanView:
    live, tariff = site.plan, site.file.tariff
    evses: list[m.PlannedEvse] = []
    if live is not None:
        for s in live.request.sessions:
            evses.append(m.PlannedEvse(
                id=s.id, energy_kwh=round(s.energy_kwh, 3), departure=live.request.slots.begin(s.departure),
                delivered_kwh=round(live.plan.delivered_kwh[s.id], 3),
                shortfall_kwh=round(live.plan.shortfall_kwh[s.id], 3),
                amps=[round(a, 2) for a in live.plan.amps[s.id]], target_a=round(live.targets.get(s.id, 0.0), 1),
                explanation=list(live.explanations.get(s.id, [])),
            ))  # fmt: skip
    slots = live.request.slots if live is not None else None
    return m.PlanView(
        site=site.name, made_at=live.made_at if live else None, trigger=live.trigger if live else None,
        method=live.plan.method if live else None,
        slot_starts=[slots.begin(t) for t in range(len(slots))] if slots else [],
        slot_minutes=list(slots.minutes) if slots else [],
        prices=list(live.request.prices) if live else [], currency=tariff.currency if tariff else None,
        energy_cost=round(live.plan.energy_cost, 4) if live else None,
        peak_kw=round(live.plan.peak_kw, 3) if live else None, prices_note=live.prices_note if live else "",
        evses=evses, sessions=sessions_now(site),
    )  # fmt: skip


def sessions_now(site: SiteLoop) -> list[m.SessionNow]:
    """Every EVSE with a session: why it charges now or not (the plan's line for this slot, then the
    allocation's reason)."""
    out = []
    live = site.plan
    for evse_id in sorted(site.in_session):
        limit = site.previous.limits.get(evse_id) if site.previous else None
        mode = site.modes.get(evse_id) or site.file.site.evses[evse_id].mode
        if limit is not None:
            mode = limit.mode
        planned = live is not None and evse_id in live.targets
        reason = limit.reason if limit is not None else "no cycle yet"
        if planned and live is not None:
            lines = live.explanations.get(evse_id, [])
            why = f"plan: {lines[1].split(' ', 1)[1] if len(lines) > 1 else lines[0] if lines else ''}; {reason}"
        elif mode.value == "plan":
            why = f"mode plan without an energy and a departure still ahead (told or learned): {reason}"
        else:
            why = reason
        out.append(m.SessionNow(id=evse_id, mode=mode.value, planned=planned, why=why,
                                limit_a=limit.limit_a if limit else None))  # fmt: skip
    return out


async def get_plan(request: web.Request) -> web.Response:
    return ok(plan_view(_site(request)))


async def put_site(request: web.Request) -> web.Response:
    charging, name = _charging(request), request.match_info["name"]
    document = msgspec.to_builtins(await body(request, m.SiteDocument))
    raw = {k: v for k, v in document.items() if v is not None}
    head = dict(raw.get("site") or {})
    if head.get("name", name) != name:
        raise InvalidRequest(f"site.name: {head['name']!r} is not the URL's {name!r}", fix=f"write {name!r} or omit it")
    raw["site"] = {**head, "name": name}
    try:
        file = with_tariff(parse_data(raw), Path.cwd())
        created = charging.put_site(file)
    except SiteFileError as exc:
        raise InvalidRequest(str(exc), fix="see docs/sites.md for every key") from None
    except ValueError as exc:
        return problem(409, str(exc), "remove it from the other site first, or put it there")
    await charging.keep_site(name, raw)
    view = site_view(charging, charging.sites[name], request.app[SITES].clock)
    return ok(view, status=201 if created else 200)


async def delete_site(request: web.Request) -> web.Response:
    site, charging = _site(request), _charging(request)
    charging.remove_site(site.name)
    await charging.keep_site(site.name, None)
    return ok(m.SiteRemoved(name=site.name, removed=True))


def add_routes(app: web.Application) -> None:
    """Register the routes on ``app``; call after ``http_sites.add_routes`` (it sets the dependencies)."""
    r = app.router
    r.add_get("/api/v1/sites/{name}/plan", get_plan)
    r.add_put("/api/v1/sites/{name}", put_site)
    r.add_delete("/api/v1/sites/{name}", delete_site)
