"""Joint charging plan for all sessions of a site: call `plan` with a `PlanRequest`, get a `Plan`.

Build the request from the site's limits and the sessions' needs (see `plan_model` for the units), apply
`Plan.first_step` now and call `plan` again at the next slot or on any change; `explain` says why.
"""

from __future__ import annotations

from chargewise.charging import plan_heuristic, plan_lp
from chargewise.charging.plan_explain import explain
from chargewise.charging.plan_model import Limit, Plan, PlanRequest, Session, Slots, node_limits

__all__ = ["Limit", "Plan", "PlanRequest", "Session", "Slots", "explain", "node_limits", "plan"]

LP_MAX_VARIABLES = 250_000  # session-slots; measured by bench/charging.py (docs/bench-charging.md)


def plan(request: PlanRequest, *, method: str = "auto") -> Plan:
    """Plan all sessions together: meet energy by departure first, then minimise energy and demand cost.

    ``method``: "lp" (HiGHS, optimal, any limits), "heuristic" (least-laxity water-filling over the cheapest
    slots; linear limits only), or "auto": the LP up to `LP_MAX_VARIABLES` session-slots (a 1,000-EV x 96-slot
    site solves in about 0.3 s), above that the heuristic when every limit is linear, no demand charge applies,
    no session has a minimum current or a weight below 1 and it meets every session's energy; else the LP.
    """
    if method == "lp":
        return plan_lp.solve(request)
    if method == "heuristic":
        return plan_heuristic.solve(request)
    if method != "auto":
        raise ValueError(f"method: {method!r} is not one of auto, lp, heuristic")
    size = sum(max(0, min(len(request.slots), s.departure) - max(0, s.arrival)) for s in request.sessions)
    simple = request.demand_charge == 0 and all(lim.linear for lim in request.limits)
    simple = simple and all(s.min_amps == 0 and s.weight == 1 for s in request.sessions)
    if size > LP_MAX_VARIABLES and simple:
        quick = plan_heuristic.solve(request)
        if not quick.missed:
            return quick
    return plan_lp.solve(request)
