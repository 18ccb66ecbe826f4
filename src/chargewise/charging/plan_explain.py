"""Why each session charges in a slot, or does not: sentences a driver or an installer can read.

Call `explain(request, plan)` after `plan`; it returns, per session, one line per slot it is plugged in and a
summary line first (met, or how much it misses and what stands in the way). Pure: it reads the request and
the plan only.
"""

from __future__ import annotations

from chargewise.charging.plan_heuristic import laxity_hours
from chargewise.charging.plan_model import Limit, Plan, PlanRequest, Session

TOL = 1e-6


def usage(limit: Limit, plan: Plan, slot: int) -> float:
    """The limit's quantity in ``slot`` under the plan (|sum a_i x_i|)."""
    z = sum(complex(c) * plan.amps[sid][slot] for sid, c in limit.coefficients.items() if sid in plan.amps)
    return abs(z)


def binding(request: PlanRequest, plan: Plan, session: Session, slot: int) -> list[Limit]:
    """Limits the session loads that are at their cap in ``slot``."""
    out = []
    for lim in request.limits:
        if session.id in lim.coefficients and abs(complex(lim.coefficients[session.id])) > 0:
            cap = lim.caps[slot]
            if usage(lim, plan, slot) >= cap - TOL * max(1.0, cap):
                out.append(lim)
    return out


def clock(request: PlanRequest, slot: int) -> str:
    return request.slots.begin(slot).strftime("%H:%M")


def describe_limit(request: PlanRequest, plan: Plan, lim: Limit, slot: int, session: Session) -> str:
    note = lim.notes.get(slot)
    text = f"{lim.name} at its {lim.caps[slot]:g} {lim.unit} limit"
    if note:
        text += f" ({note})"
    minutes = request.slots.minutes
    mine = laxity_hours(session, minutes)
    others = [
        s.id
        for s in request.sessions
        if s.id != session.id
        and s.id in lim.coefficients
        and plan.amps[s.id][slot] > TOL
        and laxity_hours(s, minutes) < mine
    ]
    if others:
        text += f"; {', '.join(sorted(others)[:3])} {'has' if len(others) == 1 else 'have'} less slack"
    return text


def slot_reason(request: PlanRequest, plan: Plan, s: Session, t: int, used_prices: list[float]) -> str:
    a = plan.amps[s.id][t]
    price = request.prices[t]
    departs = clock(request, min(s.departure, len(request.slots)))
    limits = binding(request, plan, s, t)
    if a > TOL:
        head = f"charges {a:.1f} A (its maximum)" if a >= s.max_at(t) - TOL else f"charges {a:.1f} A"
        if limits:
            return f"{head}: {describe_limit(request, plan, limits[0], t, s)}"
        return f"{head}: among the cheapest remaining slots before its {departs} departure ({price:.3f} $/kWh)"
    if plan.shortfall_kwh[s.id] <= TOL and (not used_prices or price > max(used_prices) + TOL):
        return f"idle: {price:.3f} $/kWh; cheaper slots before its {departs} departure cover its energy"
    if limits:
        return f"idle: {describe_limit(request, plan, limits[0], t, s)}"
    if plan.shortfall_kwh[s.id] <= TOL:
        return "idle: its energy is covered by other slots at the same price"
    return "idle: no headroom left"


def summary(request: PlanRequest, plan: Plan, s: Session) -> str:
    departs = clock(request, min(s.departure, len(request.slots)))
    miss = plan.shortfall_kwh[s.id]
    if miss <= TOL:
        return f"{s.id}: {plan.delivered_kwh[s.id]:.2f} kWh by {departs}, as asked"
    present = [t for t in range(len(request.slots)) if s.present(t)]
    full = [t for t in present if plan.amps[s.id][t] >= s.max_at(t) - TOL]
    if len(full) == len(present):
        why = "its maximum current in every slot it is plugged in cannot deliver more"
    else:
        names = sorted({lim.name for t in present for lim in binding(request, plan, s, t)})
        why = f"{', '.join(names) or 'the limits'} full in its other slots"
    return f"{s.id}: misses {miss:.2f} kWh of {s.energy_kwh:.2f} by {departs}: {why}"


def explain(request: PlanRequest, plan: Plan) -> dict[str, list[str]]:
    """Per session: a summary line, then ``"HH:MM <reason>"`` for each slot it is plugged in."""
    out: dict[str, list[str]] = {}
    n = len(request.slots)
    for s in request.sessions:
        present = [t for t in range(n) if s.present(t)]
        used = [request.prices[t] for t in present if plan.amps[s.id][t] > TOL]
        lines = [summary(request, plan, s)]
        lines += [f"{clock(request, t)} {slot_reason(request, plan, s, t, used)}" for t in present]
        out[s.id] = lines
    return out
