"""REST models of a site's joint plan and of the site document PUT through REST (``adapters/http_site_plan.py``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from chargewise.adapters.api_site_models import SiteView


class PlannedEvse(msgspec.Struct, kw_only=True):
    id: str  # CHARGER/N
    energy_kwh: float  # still wanted when the plan was made
    departure: datetime
    delivered_kwh: float  # what the plan delivers by the departure
    shortfall_kwh: float  # what it cannot (0: the departure target is met)
    amps: list[float]  # the plan's current per slot
    target_a: float  # this slot's target (the allocation may give less, never more than the site allows)
    explanation: list[str]  # a summary, then "HH:MM why" per slot it is plugged in


class SessionNow(msgspec.Struct, kw_only=True):
    id: str
    mode: str
    planned: bool
    limit_a: float | None  # what the last cycle gave it
    why: str  # why it charges now, or does not


class PlanView(msgspec.Struct, kw_only=True):
    site: str
    made_at: datetime | None  # null: no session to plan
    trigger: str | None  # what made this plan: first plan, slot, sessions or needs, limits or prices
    method: str | None  # lp or heuristic
    slot_starts: list[datetime]
    slot_minutes: list[float]
    prices: list[float]  # per kWh, per slot
    currency: str | None  # the tariff's (null: no tariff, flat prices)
    energy_cost: float | None
    peak_kw: float | None
    prices_note: str
    evses: list[PlannedEvse]
    sessions: list[SessionNow]  # every EVSE with a session: why it charges now or not


class SiteDocument(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The site file's tables as JSON (docs/sites.md): ``nodes`` and ``chargers`` are required, the rest optional;
    ``site.name`` defaults to the URL's name. A relative ``tariff.file`` is read from the server's working
    directory."""

    nodes: dict[str, Any]
    chargers: dict[str, Any] = {}
    site: dict[str, Any] | None = None
    policy: dict[str, Any] | None = None
    meter: dict[str, Any] | None = None
    tariff: dict[str, Any] | None = None
    tokens: dict[str, Any] | None = None


class SiteRemoved(msgspec.Struct, kw_only=True):
    name: str
    removed: bool


PLAN_404 = {404: "no such site"}
ROUTES: list[tuple[str, str, str, type | None, Any, dict[int, str]]] = [
    ("/api/v1/sites/{name}/plan", "get",
     "The site's joint plan: per-EVSE current per slot, cost, and why each car charges now or not", None,
     PlanView, PLAN_404),
    ("/api/v1/sites/{name}", "put", "Create or replace a site (the site file as JSON); its loop runs at once",
     SiteDocument, SiteView, {400: "the document names the field that is wrong", 409: "a charger is in another site"}),
    ("/api/v1/sites/{name}", "delete", "Remove a site: its loop stops (chargers keep their last limits)", None,
     SiteRemoved, PLAN_404),
]  # fmt: skip
