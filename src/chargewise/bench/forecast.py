"""Expected arrivals for the ACN planner, learned from the sessions it has seen on past days (pure; no I/O).

Model-predictive control that sees only the cars plugged in now cannot tell a quiet morning from a busy one:
charging early leaves capacity for cars that arrive later, holding the peak down saves demand charge, and which
one a morning needs depends on who is still to come. `History` keeps every session the planner has seen (its
arrival, stay, energy and station, in simulation periods) and `History.expected` turns the last `DAYS` days of
the same kind (weekdays, or weekend days) into the arrivals expected in the next `WINDOW_H` hours: each past
day's sessions shifted to today, weighed 1/DAYS, merged per (station group, arrival, departure) so the plan
gets a few aggregate cars instead of one per past session.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

DAYS = 3  # same-kind past days averaged into a forecast
WINDOW_H = 12.0  # arrivals further ahead than this are not forecast (re-planned before they matter)


@dataclass(frozen=True, kw_only=True)
class Seen:
    """One session as the planner first saw it: periods since the simulation's start, kWh, amps."""

    arrival: int
    departure: int
    energy_kwh: float
    max_amps: float
    station: str


@dataclass(frozen=True, kw_only=True)
class Expected:
    """An aggregate of expected cars: arrival and departure in periods from now, kWh, summed amps, a station
    of the group (for the network's coefficients)."""

    arrival: int
    departure: int
    energy_kwh: float
    max_amps: float
    station: str


@dataclass(kw_only=True)
class History:
    """Sessions seen so far, by id; `start` is the simulation's first period as a local time."""

    start: datetime
    period_min: float
    seen: dict[str, Seen] = field(default_factory=dict)
    by_day: dict[int, list[Seen]] = field(default_factory=dict)

    def note(self, session_id: str, session: Seen) -> None:
        if session_id not in self.seen:
            self.seen[session_id] = session
            self.by_day.setdefault(self.day_of(session.arrival), []).append(session)

    @property
    def per_day(self) -> int:
        return round(24 * 60 / self.period_min)

    def day_of(self, period: int) -> int:
        """Days since the midnight before the simulation's start (simulation time: 24 h a day)."""
        since_midnight = (self.start.hour * 60 + self.start.minute) / self.period_min
        return int((period + since_midnight) // self.per_day)

    def weekend(self, day: int) -> bool:
        return (self.start.date() + timedelta(days=day)).weekday() >= 5

    def knows(self, now: int) -> bool:
        """Whether a past day of today's kind has been seen (else there is nothing to forecast from)."""
        today = self.day_of(now)
        return any(d < today and self.weekend(d) == self.weekend(today) for d in self.by_day)

    def expected(
        self,
        now: int,
        group: Callable[[str], Hashable],
        *,
        snap: Callable[[int], int],
        leave: Callable[[int], int] | None = None,
    ) -> list[Expected]:
        """The cars expected to arrive after ``now`` and within `WINDOW_H`, as aggregates. ``group`` maps a
        station to its network group (stations with the same coefficients); ``snap`` maps an arrival (periods
        from now) to the start of its block and ``leave`` a departure (default: ``snap``), so that cars in one
        group arriving and leaving in the same blocks merge."""
        leave = leave or snap
        per_day = self.per_day
        window = round(WINDOW_H * 60 / self.period_min)
        today = self.day_of(now)
        by_day = self.by_day
        merged: dict[tuple[Hashable, int, int], list[float | str]] = {}
        for target in (today, today + 1):
            past = [d for d in sorted(by_day, reverse=True) if d < today and self.weekend(d) == self.weekend(target)]
            past = past[:DAYS]
            for d in past:
                shift = (target - d) * per_day
                for s in by_day[d]:
                    arrival = s.arrival + shift - now
                    if arrival <= 0 or arrival > window:
                        continue
                    key = (group(s.station), snap(arrival), leave(s.departure + shift - now))
                    entry = merged.setdefault(key, [0.0, 0.0, s.station])
                    entry[0] = float(entry[0]) + s.energy_kwh / len(past)
                    entry[1] = float(entry[1]) + s.max_amps / len(past)
        return [
            Expected(arrival=a, departure=max(a + 1, b), energy_kwh=float(e), max_amps=float(m), station=str(st))
            for (_, a, b), (e, m, st) in sorted(merged.items(), key=lambda kv: (kv[0][1], kv[0][2], str(kv[0][0])))
        ]


def presence(arrival: int, departure: int, grid: Iterable[int]) -> list[float]:
    """The fraction of each plan block (sizes in periods) inside [arrival, departure)."""
    out: list[float] = []
    begin = 0
    for size in grid:
        overlap = min(departure, begin + size) - max(arrival, begin)
        out.append(max(0.0, overlap) / size)
        begin += size
    return out
