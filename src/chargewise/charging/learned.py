"""Departure and energy learned per id token from its past sessions, for a session whose driver told neither.

Rule (docs/sites.md, "Learned needs"): of the token's last :data:`LAST_N` completed sessions (at least
:data:`MIN_SESSIONS`), the energy is the median of what each delivered, and the departure is the session's
start plus the median of how long after that time of day the earlier sessions ended (so a car that comes at
08:00 and leaves at 17:00 gets 17:00, and one that comes at 18:00 and leaves at 07:30 the next morning 07:30).
Pure: the sessions and the start come in as data.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

LAST_N = 10
MIN_SESSIONS = 3
_DAY_S = 86_400.0


@dataclass(frozen=True, kw_only=True, slots=True)
class PastSession:
    """A completed session of the token: when it ended and what it delivered (None: not known)."""

    stopped_at: datetime
    energy_kwh: float | None


@dataclass(frozen=True, kw_only=True, slots=True)
class Learned:
    energy_kwh: float | None
    departure: datetime | None
    sessions: int  # how many past sessions the figures come from


def learn(history: Sequence[PastSession], started: datetime, zone: tzinfo | None = None) -> Learned | None:
    """The needs of a session that started at ``started``, from the token's ``history`` (any order); None with
    fewer than :data:`MIN_SESSIONS` sessions. Times of day are read in ``zone`` (the site's; UTC if None)."""
    recent = sorted(history, key=lambda s: s.stopped_at)[-LAST_N:]
    if len(recent) < MIN_SESSIONS:
        return None
    begin = _seconds_of_day(started, zone)
    after = [(_seconds_of_day(s.stopped_at, zone) - begin) % _DAY_S for s in recent]
    energies = [s.energy_kwh for s in recent if s.energy_kwh is not None and s.energy_kwh > 0]
    energy = statistics.median(energies) if len(energies) >= MIN_SESSIONS else None
    offset = statistics.median(after)
    departure = started + timedelta(seconds=offset) if offset > 0 else None
    return Learned(energy_kwh=None if energy is None else round(energy, 3), departure=departure, sessions=len(recent))


def _seconds_of_day(t: datetime, zone: tzinfo | None) -> float:
    local = t.astimezone(zone) if zone is not None else t
    return local.hour * 3600.0 + local.minute * 60.0 + local.second
