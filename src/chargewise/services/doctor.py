"""``Doctor``: one charger's link signals and the connectivity doctor's findings, for the REST API and the CLI.

``await Doctor(...).explain(charger_id, since)`` reads the charger's row and its recorded signals
(``LinkSignals``) and runs the pure rules (``chargewise.doctor.rules.diagnose``) with the clock's time. An
unknown charger is :class:`~chargewise.services.admin_errors.NotFound` (REST 404, one CLI line).
"""

from __future__ import annotations

import re
from collections.abc import Container
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from chargewise.doctor.findings import Diagnosis
from chargewise.doctor.rules import diagnose
from chargewise.doctor.signals import Signals
from chargewise.domain.ports import Clock, Store
from chargewise.services.admin_errors import InvalidRequest, NotFound, storable
from chargewise.services.link_signals import LinkSignals

DEFAULT_WINDOW = timedelta(days=7)
SESSIONS = 200  # the charger's newest transactions looked at (a car at the charger from start to stop)
_UNITS = {"m": 60, "h": 3600, "d": 86_400, "w": 604_800}
_DURATION = re.compile(r"(\d{1,6})\s*([mhdw])")


@dataclass(frozen=True, kw_only=True, slots=True)
class Explained:
    signals: Signals
    diagnosis: Diagnosis


def parse_since(text: str | None, now: datetime) -> datetime:
    """``since`` as a person writes it: a duration back from now (``90m``, ``24h``, ``7d``, ``2w``) or an ISO
    8601 time (UTC when it names no zone); None: the last 7 days."""
    if text is None or not text.strip():
        return now - DEFAULT_WINDOW
    found = _DURATION.fullmatch(text.strip().lower())
    if found:
        return now - timedelta(seconds=int(found.group(1)) * _UNITS[found.group(2)])
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidRequest(f"since {text[:40]!r} is neither a duration nor an ISO 8601 time",
                             fix="give e.g. 24h, 7d or 2026-12-01T08:00:00Z") from None  # fmt: skip
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    if moment >= now:
        raise InvalidRequest(f"since {text[:40]!r} is not in the past", fix="give a time before now, e.g. 24h")
    return moment


class Doctor:
    """Build it over the store and the process's ``LinkSignals`` (the CLI: one over the stored rows only);
    ``connected`` is the live registry, if this process has one."""

    def __init__(self, *, store: Store, signals: LinkSignals, clock: Clock,
                 connected: Container[str] | None = None) -> None:  # fmt: skip
        self.store = store
        self.signals = signals
        self.clock = clock
        self.connected = connected

    async def explain(self, charger_id: str, since: str | None = None) -> Explained:
        """The charger's signals since ``since`` (see :func:`parse_since`) and what the doctor makes of them."""
        now = self.clock.now()
        start = parse_since(since, now)
        charger = await self.store.get_charger(charger_id) if storable(charger_id) else None
        if charger is None:
            raise NotFound(
                f"unknown charger {charger_id[:80]!r}", fix="list the chargers with: chargewise chargers list"
            )
        live = None if self.connected is None else charger_id in self.connected
        sessions = await self.store.list_transactions(charger_id=charger_id, limit=SESSIONS)
        signals = await self.signals.signals(charger_id, start, now, charger=charger, connected_now=live,
                                             transactions=sessions)  # fmt: skip
        return Explained(signals=signals, diagnosis=diagnose(signals, now))
