"""The synthetic halves of ``python -m bench.charging``: a 1,000-EV x 96-slot site with per-phase caps, a TOU
tariff and a demand-response event, and the evcc failure case (four cars on one 32 A circuit)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from chargewise.charging.plan import Limit, Plan, PlanRequest, Session, Slots, plan
from chargewise.charging.plan_explain import explain

DAY = datetime(2026, 3, 2)
PHASES = ("L1", "L2", "L3")


def tou(slot: int, minutes: float) -> float:
    """A TOU tariff in $/kWh: 0.12 at night, 0.25 by day, 0.40 from 17:00 to 21:00."""
    hour = slot * minutes / 60
    return 0.40 if 17 <= hour < 21 else 0.25 if 7 <= hour < 17 else 0.12


def fleet_request(n_ev: int = 1000, seed: int = 11) -> tuple[PlanRequest, Limit]:
    """1,000 sessions over one day in 15-minute slots, a 3 x 1,600 A main and a DR event 17:00-19:00 that halves
    the main's kW cap. Returns the request and the DR limit (for the compliance check)."""
    rng = np.random.default_rng(seed)
    n = 96
    slots = Slots.uniform(start=DAY, minutes=15, count=n)
    sessions: list[Session] = []
    wiring: dict[str, tuple[float, float, float]] = {}
    for k in range(n_ev):
        arrival = int(rng.integers(0, 72))
        stay = int(rng.integers(8, 48))
        three = rng.random() < 0.6
        kpa = 0.69 if three else 0.23
        top = 16.0 if three else 32.0
        energy = float(min(rng.uniform(4, 30), 0.8 * top * kpa * stay / 4))
        sid = f"ev{k:04d}"
        sessions.append(
            Session(
                id=sid,
                energy_kwh=energy,
                arrival=arrival,
                departure=min(n, arrival + stay),
                max_amps=top,
                kw_per_amp=kpa,
            )
        )
        wiring[sid] = (1.0, 1.0, 1.0) if three else tuple(float(p == k % 3) for p in range(3))  # type: ignore[assignment]
    limits = [
        Limit(name=f"main {ph}", coefficients={s: w[p] for s, w in wiring.items() if w[p]}, caps=(1600.0,) * n)
        for p, ph in enumerate(PHASES)
    ]
    full_kw = 3 * 1600 * 0.23
    dr_slots = range(17 * 4, 19 * 4)
    caps = tuple(full_kw / 2 if t in dr_slots else full_kw for t in range(n))
    dr = Limit(
        name="main kW",
        coefficients={s.id: s.kw_per_amp for s in sessions},
        caps=caps,
        unit="kW",
        notes={t: "demand-response event 17:00-19:00 halves the main" for t in dr_slots},
    )
    prices = tuple(tou(t, 15) for t in range(n))
    return PlanRequest(slots=slots, sessions=sessions, limits=[*limits, dr], prices=prices), dr


@dataclass(kw_only=True)
class FleetResult:
    method: str
    seconds: float
    cost: float
    lp_cost: float
    lp_seconds: float
    missed_kwh: float
    lp_missed_kwh: float
    heuristic_seconds: float
    heuristic_cost: float
    heuristic_missed_kwh: float
    over_dr_kw_min: float
    over_phase_a: float
    site_kw: list[float]
    dr_caps: list[float]
    prices: list[float]


def kw_minutes_over(p: Plan, dr: Limit, minutes: float) -> float:
    return float(sum(max(0.0, kw - cap) * minutes for kw, cap in zip(p.site_kw, dr.caps, strict=True)))


def phase_over(request: PlanRequest, p: Plan) -> float:
    worst = 0.0
    for lim in request.limits:
        for t in range(len(request.slots)):
            use = sum(
                c.real * p.amps[s][t] for s, c in map(lambda kv: (kv[0], complex(kv[1])), lim.coefficients.items())
            )
            worst = max(worst, use - lim.caps[t])
    return worst


def run_fleet() -> FleetResult:
    """Plan the fleet with `plan` (auto), with the LP and with the heuristic, each CPU-timed."""
    request, dr = fleet_request()
    t0 = time.process_time()
    chosen = plan(request)
    seconds = time.process_time() - t0
    t0 = time.process_time()
    exact = plan(request, method="lp")
    lp_seconds = time.process_time() - t0
    t0 = time.process_time()
    quick = plan(request, method="heuristic")
    quick_seconds = time.process_time() - t0
    return FleetResult(
        method=chosen.method,
        seconds=seconds,
        cost=chosen.energy_cost,
        lp_cost=exact.energy_cost,
        lp_seconds=lp_seconds,
        missed_kwh=sum(chosen.shortfall_kwh.values()),
        lp_missed_kwh=sum(exact.shortfall_kwh.values()),
        heuristic_seconds=quick_seconds,
        heuristic_cost=quick.energy_cost,
        heuristic_missed_kwh=sum(quick.shortfall_kwh.values()),
        over_dr_kw_min=kw_minutes_over(chosen, dr, 15),
        over_phase_a=phase_over(request, chosen),
        site_kw=list(chosen.site_kw),
        dr_caps=list(dr.caps),
        prices=list(request.prices),
    )


# The evcc case: four three-phase cars (16 A max, 11 kW) on one 32 A circuit, plugged in A, C, D, B in that
# order, a cheap night 00:00-05:00 (evcc PR #31902 and issue #30340 describe the failure).
EVCC_CARS = (("A", 30.0, 12), ("C", 25.0, 13), ("D", 10.0, 11), ("B", 20.0, 9))  # id, kWh, departure slot


def evcc_request() -> PlanRequest:
    n = 14  # 18:00 .. 08:00 in hourly slots
    slots = Slots.uniform(start=DAY.replace(hour=18), minutes=60, count=n)
    prices = tuple(0.10 if 6 <= t < 11 else 0.30 for t in range(n))
    sessions = [Session(id=c, energy_kwh=e, departure=d, max_amps=16.0, kw_per_amp=0.69) for c, e, d in EVCC_CARS]
    circuit = Limit(name="circuit garage", coefficients={c: 1.0 for c, _, _ in EVCC_CARS}, caps=(32.0,) * n)
    return PlanRequest(slots=slots, sessions=sessions, limits=[circuit], prices=prices)


def evcc_like(request: PlanRequest) -> dict[str, float]:
    """evcc's way: every hour each car re-plans alone (cheapest slots before its departure at its own maximum,
    now if it is late), then the circuit serves cars first-come up to its limit. Returns kWh delivered."""
    n = len(request.slots)
    cap = request.limits[0].caps[0]
    left = {s.id: s.energy_kwh for s in request.sessions}
    for t in range(n):
        wants: dict[str, float] = {}
        for s in request.sessions:
            if t >= s.departure or left[s.id] <= 1e-9:
                continue
            hours_needed = left[s.id] / (s.max_at(t) * s.kw_per_amp)
            future = sorted(range(t, s.departure), key=lambda u: (request.prices[u], u))
            chosen = future[: int(np.ceil(hours_needed - 1e-9))]
            wants[s.id] = s.max_at(t) if t in chosen else 0.0
        room = cap
        for s in request.sessions:  # plug-in order: first come, first served
            a = min(wants.get(s.id, 0.0), room, left[s.id] / s.kw_per_amp)
            room -= a
            left[s.id] -= a * s.kw_per_amp
    return {s.id: s.energy_kwh - left[s.id] for s in request.sessions}


def run_evcc() -> tuple[dict[str, tuple[float, float, float]], dict[str, list[str]]]:
    """Per car: (wanted, chargewise delivered, evcc-like delivered) kWh, and chargewise's explanations."""
    request = evcc_request()
    ours = plan(request)
    theirs = evcc_like(request)
    rows = {s.id: (s.energy_kwh, ours.delivered_kwh[s.id], theirs[s.id]) for s in request.sessions}
    return rows, explain(request, ours)
