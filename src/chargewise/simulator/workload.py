"""Arrival workloads: when EVs come, how long they stay, how much energy they want; placed on chargers.

Sources:

- **ACN replay** (:func:`load_acn`): an ``acnportal`` EventQueue JSON (gzip), e.g. the Caltech ACN March 2019
  file in ``../shared/data/acn/`` (954 sessions, 8,900.5 kWh). Read with gzip + json; ``acnportal`` is not
  needed. Arrival and departure are periods (5 minutes in that file) counted from local midnight of day 0.
- **Generated** (:func:`generate_home`, :func:`generate_workplace`), seeded. These distributions are our
  assumptions, chosen to have the familiar shapes; they are not fitted to a named study:

  ==========  ==================================  ===============================  =====================
  site        arrival (local hour)                stay                             energy at the meter
  ==========  ==================================  ===============================  =====================
  home        normal(18.5, 1.5) in [15, 23.5],    until next day normal(7.5, 0.75) 0.18 kWh/km x
              on 70 % of days                     in [5.5, 10]                     lognormal(40 km, 0.5)
  workplace   normal(9.0, 1.5) in [6, 13],        normal(7.5 h, 2) in [1.5, 11]    lognormal(7 kWh, 0.6)
              weekdays                                                             (ACN median: 6.7 kWh)
  ==========  ==================================  ===============================  =====================

Time acceleration is the runner's job: a workload is in simulated seconds from its origin.
"""

from __future__ import annotations

import gzip
import json
import math
import random
import re
from dataclasses import dataclass
from pathlib import Path

HOUR = 3600.0
DAY = 86_400.0

# (capacity kWh, OBC amps per phase, OBC phases): a small generic fleet.
FLEET = ((40.0, 32.0, 1), (60.0, 32.0, 1), (64.0, 16.0, 3), (77.0, 16.0, 3), (82.0, 48.0, 1))


@dataclass(frozen=True, kw_only=True, slots=True)
class Session:
    """One charging session; times in seconds from the workload origin (local midnight of day 0)."""

    station: str
    arrive_s: float
    depart_s: float
    energy_wh: float


@dataclass(frozen=True, kw_only=True, slots=True)
class Visit:
    """A session placed on a connector, with the EV that comes: build an :class:`~.ev.EV` from it."""

    charger: int  # 0-based index of the charger in the run
    connector: int  # 1-based
    arrive_s: float
    depart_s: float
    energy_wh: float
    capacity_wh: float
    soc: float
    obc_max_a: float
    phases: int
    id_tag: str | None  # None: started remotely by the CSMS


def load_acn(path: str | Path) -> list[Session]:
    """Sessions of an acnportal EventQueue file (``.json.gz``), sorted by arrival. The period length is read
    from the file name (``_5m_``; 5 minutes when absent)."""
    path = Path(path)
    match = re.search(r"_(\d+)m_", path.name)
    period_s = 60.0 * (int(match.group(1)) if match else 5)
    raw = json.loads(gzip.decompress(path.read_bytes()))
    if isinstance(raw, str):  # acnportal serialises to a JSON string
        raw = json.loads(raw)
    sessions = [
        Session(
            station=str(obj["attributes"]["_station_id"]),
            arrive_s=obj["attributes"]["_arrival"] * period_s,
            depart_s=obj["attributes"]["_departure"] * period_s,
            energy_wh=float(obj["attributes"]["_requested_energy"]) * 1000.0,
        )
        for obj in raw["context_dict"].values()
        if obj["class"].endswith(".ev.EV")
    ]
    return sorted(sessions, key=lambda s: (s.arrive_s, s.station))


def _clipped_normal(rng: random.Random, mean: float, sd: float, lo: float, hi: float) -> float:
    return min(hi, max(lo, rng.gauss(mean, sd)))


def home_energy_wh(rng: random.Random) -> float:
    """Energy a home session takes at the meter: 0.18 kWh/km x lognormal(40 km, 0.5)."""
    km = 40.0 * math.exp(rng.gauss(0.0, 0.5))
    return 180.0 * km


def workplace_energy_wh(rng: random.Random) -> float:
    """Energy a workplace session takes at the meter: lognormal(7 kWh, 0.6)."""
    return 7000.0 * math.exp(rng.gauss(0.0, 0.6))


def generate_home(rng: random.Random, *, homes: int, days: int) -> list[Session]:
    """Evening-arrival home sessions for ``homes`` chargers over ``days`` days (see the module table)."""
    sessions = []
    for day in range(days):
        for home in range(homes):
            if rng.random() >= 0.7:
                continue
            arrive = day * DAY + _clipped_normal(rng, 18.5, 1.5, 15.0, 23.5) * HOUR
            depart = (day + 1) * DAY + _clipped_normal(rng, 7.5, 0.75, 5.5, 10.0) * HOUR
            sessions.append(
                Session(station=f"home-{home}", arrive_s=arrive, depart_s=depart, energy_wh=home_energy_wh(rng))
            )
    return sorted(sessions, key=lambda s: (s.arrive_s, s.station))


def generate_workplace(rng: random.Random, *, stations: int, days: int, per_station: float = 1.3) -> list[Session]:
    """Morning-arrival workplace sessions on weekdays (day 0 is a Monday); ``per_station`` sessions a day."""
    sessions = []
    for day in range(days):
        if day % 7 >= 5:
            continue
        for n in range(round(stations * per_station)):
            arrive = day * DAY + _clipped_normal(rng, 9.0, 1.5, 6.0, 13.0) * HOUR
            stay = _clipped_normal(rng, 7.5, 2.0, 1.5, 11.0) * HOUR
            energy = workplace_energy_wh(rng)
            station = f"work-{n % stations}"
            sessions.append(Session(station=station, arrive_s=arrive, depart_s=arrive + stay, energy_wh=energy))
    return sorted(sessions, key=lambda s: (s.arrive_s, s.station))


def place(
    sessions: list[Session],
    *,
    chargers: int,
    connectors: int,
    rng: random.Random,
    remote_start_share: float = 0.0,
) -> tuple[list[Visit], int]:
    """Put sessions on connectors: each station maps to a charger (sorted names, round robin); a session
    whose charger is busy takes the next charger with a free connector. Returns the visits and how many
    sessions found every connector busy (turned away)."""
    stations = sorted({s.station for s in sessions})
    home = {name: i % chargers for i, name in enumerate(stations)}
    busy_until = [[-math.inf] * connectors for _ in range(chargers)]
    visits, turned_away = [], 0
    for s in sessions:
        slot = _free_slot(busy_until, home[s.station], s.arrive_s)
        if slot is None:
            turned_away += 1
            continue
        charger, connector = slot
        busy_until[charger][connector] = s.depart_s
        visits.append(_visit(s, charger, connector + 1, rng, remote_start_share))
    return visits, turned_away


def _free_slot(busy_until: list[list[float]], first: int, at: float) -> tuple[int, int] | None:
    count = len(busy_until)
    for k in range(count):
        charger = (first + k) % count
        for connector, until in enumerate(busy_until[charger]):
            if until <= at:
                return charger, connector
    return None


def _visit(s: Session, charger: int, connector: int, rng: random.Random, remote_share: float) -> Visit:
    capacity_kwh, obc_a, phases = FLEET[rng.randrange(len(FLEET))]
    capacity = capacity_kwh * 1000.0
    energy = min(s.energy_wh, 0.85 * capacity)  # what fits in the battery from about 5 %
    soc = min(0.95, max(0.05, 1.0 - energy * 0.9 / capacity - rng.uniform(0.0, 0.1)))
    tag = None if rng.random() < remote_share else f"EV{rng.randrange(16**8):08X}"
    return Visit(
        charger=charger,
        connector=connector,
        arrive_s=s.arrive_s,
        depart_s=s.depart_s,
        energy_wh=energy,
        capacity_wh=capacity,
        soc=soc,
        obc_max_a=obc_a,
        phases=phases,
        id_tag=tag,
    )
