"""REST models of sites, their live allocation, and demand-response events (``adapters/http_sites.py``)."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import msgspec

from chargewise.charging.demand import Cap, Compliance, DemandEvent, Price, Shed, status_at


def finite(value: float) -> float | None:
    return None if math.isinf(value) else value


class NodeView(msgspec.Struct, kw_only=True):
    id: str
    parent: str | None
    kind: str
    limit_a: list[float | None]  # per site phase L1, L2, L3 in force now (null: none)
    limit_kw: float | None
    capped_by: str  # "schedule" or "demand response" when that lowered the limit now
    allotted_a: list[float]  # what the allocation gives the EVSEs below it (plus other load), per phase
    drawn_kw: float | None  # what it draws now, from recent meter values or the site meter (null: unknown)


class EvseView(msgspec.Struct, kw_only=True):
    id: str  # CHARGER/N
    charger: str
    parent: str
    wiring: list[str]  # the site phase each of the EVSE's L1, L2, L3 lands on
    online: bool
    mode: str
    limit_a: float | None  # the allocated current per phase (null before the first cycle)
    phases: int | None
    limit_w: float | None
    cause: str | None  # why: node, ev_max, unused, cutoff, ramp, idle, offline, solar, plan, priority, hold
    binding: str | None  # the limit that decided it ("main L2")
    reason: str | None  # the allocation's sentence
    applied: bool | None  # the charger accepted the profile that carries it
    profile: str | None  # the purpose used (tx, tx-default, max)
    verified: bool | None  # GetCompositeSchedule read back at or under the limit
    detail: str | None
    energy_kwh: float | None = None  # the session's energy still wanted (driver or EV), if told
    departure: datetime | None = None  # when it leaves, if told
    needs_from: str | None = None  # "rest" (the driver) or "ev" (NotifyEVChargingNeeds)


class SiteView(msgspec.Struct, kw_only=True):
    name: str
    policy: str
    allocated_at: datetime | None
    nodes: list[NodeView]
    evses: list[EvseView]


class ModeChange(msgspec.Struct, forbid_unknown_fields=True):
    mode: str  # now, plan, solar, min+solar


class SessionNeedsRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What the session on an EVSE wants: energy (kWh) by a departure time (ISO 8601 with an offset); the
    deadline policy serves the least slack first. Kept until the session ends."""

    energy_kwh: float | None = None
    departure: datetime | None = None


class MeterUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The site meter: per-phase currents (site phase order) and/or total power in W (negative: export)."""

    phase_a: list[float] | None = None
    power_w: float | None = None


class DemandRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Exactly one of cap_kw, shed (0..1 of the node's limit, or of its baseline with shed_basis) or
    price_per_kwh. Times in ISO 8601 with an offset."""

    id: str
    node: str
    start: str
    end: str
    cap_kw: float | None = None
    shed: float | None = None
    shed_basis: str | None = None
    price_per_kwh: float | None = None
    currency: str | None = None
    near_minutes: float | None = None


class ComplianceView(msgspec.Struct, kw_only=True):
    cap_kw: float | None
    kw_minutes_over: float
    max_excess_kw: float
    minutes_to_comply: float | None
    covered_minutes: float


class DemandView(msgspec.Struct, kw_only=True):
    id: str
    source: str
    node: str
    start: datetime
    end: datetime
    signal: dict[str, Any]
    status: str
    opt: str | None
    opt_by: str | None
    opt_reason: str | None
    compliance: ComplianceView | None


def demand_view(event: DemandEvent, now: datetime, compliance: Compliance | None) -> DemandView:
    signal: dict[str, Any]
    match event.signal:
        case Cap(kw=kw):
            signal = {"cap_kw": kw}
        case Shed(fraction=fraction, basis=basis):
            signal = {"shed": fraction, "shed_basis": basis}
        case Price(per_kwh=price, currency=currency):
            signal = {"price_per_kwh": price, "currency": currency}
    done = None
    if compliance is not None:
        done = ComplianceView(cap_kw=compliance.cap_kw, kw_minutes_over=compliance.kw_minutes_over,
                              max_excess_kw=compliance.max_excess_kw, minutes_to_comply=compliance.minutes_to_comply,
                              covered_minutes=compliance.covered_minutes)  # fmt: skip
    opt = event.opt
    return DemandView(
        id=event.id, source=event.source, node=event.node, start=event.start, end=event.end, signal=signal,
        status=status_at(event, now), opt=None if opt is None else opt.kind, opt_by=None if opt is None else opt.by,
        opt_reason=None if opt is None else opt.reason, compliance=done,
    )  # fmt: skip


SITE_404 = {404: "no such site"}
ROUTES: list[tuple[str, str, str, type | None, Any, dict[int, str]]] = [
    ("/api/v1/sites", "get", "Sites under smart charging (serve --site), with their live allocation", None,
     list[SiteView], {}),
    ("/api/v1/sites/{name}", "get", "One site: each node's limits in force and load, each EVSE's limit and why",
     None, SiteView, SITE_404),
    ("/api/v1/sites/{name}/evses/{charger}/{evse}/mode", "put", "Switch a session's charging mode live",
     ModeChange, EvseView, {422: "unknown mode", **SITE_404}),
    ("/api/v1/sites/{name}/evses/{charger}/{evse}/session", "put",
     "Tell a session's energy and departure (the deadline policy ranks by them)", SessionNeedsRequest, EvseView,
     {422: "invalid energy or departure", **SITE_404}),
    ("/api/v1/sites/{name}/meter", "put", "Feed the site meter (house or building load; negative power: export)",
     MeterUpdate, SiteView, {422: "invalid reading", **SITE_404}),
    ("/api/v1/demand-response/events", "get", "Demand-response events (REST, OpenADR), their answers and compliance",
     None, list[DemandView], {}),
    ("/api/v1/demand-response/events", "post", "Add or update a demand-response event on a site node",
     DemandRequest, DemandView, {422: "invalid event", 409: "smart charging is off (no --site)"}),
]  # fmt: skip
