"""What people set on the sites through REST and MQTT that must outlive a restart (an acknowledged change is
never lost): the sites put through ``PUT /api/v1/sites/{name}`` (or removed), and per EVSE the session's needs
as told, its live mode and a person's current cap. A SQL implementation (``adapters.sql.site_settings``) and
an in-memory fake (``adapters.memory_settings``) behind one port; ``services.site_settings`` writes and reads
them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True, kw_only=True, slots=True)
class EvseSetting:
    """One EVSE's live settings. ``source`` is None when no needs were told (then ``energy_kwh``,
    ``departure`` and ``register_wh`` are unused); ``in_session`` whether its session had begun when they were
    set (a session that ended while the server was down then takes them with it)."""

    evse_id: str  # CHARGER/N
    energy_kwh: float | None = None
    departure: datetime | None = None
    register_wh: float | None = None
    source: str | None = None  # "rest", "mqtt", "ev" (learned needs are learned again)
    mode: str | None = None
    cap_a: float | None = None
    in_session: bool = False

    @property
    def empty(self) -> bool:
        return self.source is None and self.mode is None and self.cap_a is None


@dataclass(frozen=True, kw_only=True, slots=True)
class SiteDocument:
    """A site put through REST (``document``: the request's site file as data), or removed (None)."""

    name: str
    document: dict[str, Any] | None
    at: datetime


class SiteSettingStore(Protocol):
    async def put_site_document(self, site: SiteDocument) -> None:
        """Insert or replace the site of that name (a removal is kept too: ``document`` None)."""
        ...

    async def site_documents(self) -> list[SiteDocument]:
        """Every site put or removed, by name."""
        ...

    async def put_evse_setting(self, setting: EvseSetting) -> None:
        """Insert or replace the EVSE's settings; an ``empty`` one deletes them."""
        ...

    async def evse_settings(self) -> list[EvseSetting]:
        """Every EVSE's settings, by id."""
        ...
