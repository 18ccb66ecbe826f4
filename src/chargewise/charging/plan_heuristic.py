"""A fast joint plan without an LP: earliest-departure-first water-filling into each session's cheapest slots.

Sessions are taken in order of departure, so the one leaving first picks first (those that cannot finish even
alone, with negative laxity, go last); each fills its cheapest slots before departure (earlier on a tie) up to
its maximum and the headroom every limit it loads has left. Limits are treated linearly: a phasor limit is
bounded by ``sum |a_i| x_i`` (safe, conservative). Use it where the LP is not needed: `plan` in "auto" mode
takes it for very large sites (see `plan.LP_MAX_VARIABLES`) when it meets every session's energy and no demand
charge applies; the bench checks its cost against the LP's.
"""

from __future__ import annotations

import numpy as np

from chargewise.charging.plan_model import Plan, PlanRequest, Session, summarise

EPS = 1e-9


def laxity_hours(s: Session, minutes: tuple[float, ...]) -> float:
    """Hours plugged in (within the grid) minus the hours its energy needs at maximum current."""
    present = [t for t in range(len(minutes)) if s.present(t)]
    hours = sum(minutes[t] for t in present) / 60.0
    peak = max((s.max_at(t) for t in present), default=0.0) * s.kw_per_amp
    need = s.energy_kwh / peak if peak > 0 else float("inf")
    return hours - need


def solve(request: PlanRequest) -> Plan:
    """Plan by water-filling (see module doc); a session that cannot fit gets a shortfall."""
    n = len(request.slots)
    minutes = request.slots.minutes
    hours = np.array(minutes, dtype=np.float64) / 60.0
    prices = np.array(request.prices, dtype=np.float64)
    headroom = np.array([lim.caps for lim in request.limits], dtype=np.float64).reshape(len(request.limits), n)
    weights = [
        {k: abs(complex(v)) for k, v in lim.coefficients.items() if abs(complex(v)) > 0} for lim in request.limits
    ]
    # earliest departure first (on the 1,000-EV bench site 0.8 % over the LP's cost, least laxity first 1.0 %);
    # sessions that cannot finish even alone (negative laxity) go last, so they do not starve the others
    order = sorted(request.sessions, key=lambda s: (laxity_hours(s, minutes) < 0, s.departure, s.id))
    amps: dict[str, list[float]] = {s.id: [0.0] * n for s in request.sessions}
    for s in order:
        mine = [(j, w[s.id]) for j, w in enumerate(weights) if s.id in w]
        rows = np.array([j for j, _ in mine], dtype=np.int64)
        coef = np.array([c for _, c in mine], dtype=np.float64)
        slots = [t for t in range(max(0, s.arrival), min(n, s.departure))]
        slots.sort(key=lambda t: (prices[t], t))
        need = s.energy_kwh
        row = amps[s.id]
        for t in slots:
            if need <= EPS:
                break
            room = s.max_at(t)
            if rows.size:
                room = min(room, float(np.min(headroom[rows, t] / coef)))
            a = max(0.0, min(room, need / (s.kw_per_amp * hours[t])))
            if a <= EPS:
                continue
            row[t] = a
            need -= a * s.kw_per_amp * hours[t]
            if rows.size:
                headroom[rows, t] -= coef * a
    return summarise(request, amps, "heuristic")
