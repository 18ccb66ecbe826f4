"""The joint plan of a live site: from the site's limits, the sessions in mode ``plan`` and a tariff, build the
planner's request (:func:`request_for`), and turn the plan into this cycle's targets (:func:`targets`).

Pure: ``now``, the previous allocation and the prices come in as data. Call :func:`request_for` when something
changed (a session came or went, its needs changed, a tariff or a demand-response cap changed) and at least
once per slot (:func:`slot_start` tells which slot ``now`` is in), :func:`chargewise.charging.plan.plan` on it,
then :func:`targets` every cycle: they become each session's ``EvseState.target_a``, a cap the allocation
still fits under every node's limit.

What the planner is given, per node and site phase, is the limit in force in each slot (schedules and
demand-response caps applied, less the policy's margin) less what the other EVSEs below it were allotted in
the last cycle (offline EVSEs, idle EVSEs' draw, the site meter's other load, and the minimum current of the
sessions not in the plan): the plan assumes those stay as they are, and the next re-plan corrects it when they
do not.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from chargewise.charging.plan_model import Limit, PlanRequest, Session, Slots, node_limits
from chargewise.charging.problem import NOMINAL_V
from chargewise.charging.site import PHASES, Caps, Site, limits_at
from chargewise.charging.state import Allocation, Cause, Policy

SLOT_MINUTES = 15.0  # the planning grid (quarter hours, as market prices come); slots start on its boundaries
MAX_SLOTS = 4 * 48  # two days ahead at most; a later departure plans as if it were then
MIN_FIRST_S = 60.0  # a first slot shorter than this joins the next one
UNBOUNDED = 1e9  # the cap of a slot in which a node has no such limit (the LP wants finite numbers)


@dataclass(frozen=True, kw_only=True, slots=True)
class PlanNeed:
    """One session of the plan: ``energy_kwh`` still wanted by ``departure``, drawing on ``phases`` phases of its
    EVSE, at most ``max_a`` (the EVSE's maximum, or less when an external limit caps it)."""

    evse_id: str
    energy_kwh: float
    departure: datetime
    phases: int
    max_a: float


def slot_start(now: datetime, minutes: float = SLOT_MINUTES) -> datetime:
    """The start of the grid slot ``now`` is in (boundaries every ``minutes`` from the Unix epoch, in UTC)."""
    step = minutes * 60.0
    return datetime.fromtimestamp(math.floor(now.timestamp() / step) * step, UTC)


def grid(now: datetime, until: datetime, cuts: Sequence[datetime] = (), minutes: float = SLOT_MINUTES) -> Slots:
    """Slots from ``now`` to ``until`` (at most :data:`MAX_SLOTS` slots on): a first one up to the next
    boundary, then whole slots, each of ``cuts`` (the departures) also a slot edge, so a car may charge until the
    moment it leaves. An edge less than :data:`MIN_FIRST_S` after the one before is dropped (a cut replaces it)."""
    step = timedelta(minutes=minutes)
    end = min(max(until, now + step), now + step * MAX_SLOTS)
    edges = {end} | {c for c in cuts if now < c <= end}
    t = slot_start(now, minutes) + step
    while t < end:
        edges.add(t)
        t += step
    kept: list[datetime] = []
    for edge in sorted(edges):
        if (edge - (kept[-1] if kept else now)).total_seconds() >= MIN_FIRST_S:
            kept.append(edge)
        elif edge in cuts and kept and kept[-1] not in cuts:
            kept[-1] = edge
        elif edge in cuts and not kept:
            kept.append(edge)  # leaving within the minute
    lengths = [(b - a).total_seconds() / 60.0 for a, b in zip([now, *kept], kept, strict=False)]
    return Slots(start=now, minutes=tuple(lengths))


def request_for(
    site: Site,
    policy: Policy,
    needs: Sequence[PlanNeed],
    now: datetime,
    previous: Allocation | None,
    prices: Callable[[Slots], tuple[float, ...]],
    caps: Caps = (),
) -> PlanRequest:
    """The planner's request for ``needs`` (non-empty) at ``now``; ``prices`` gives each slot's price per kWh."""
    slots = grid(now, max(n.departure for n in needs), [n.departure for n in needs])
    sessions = [
        Session(id=n.evse_id, energy_kwh=max(0.0, n.energy_kwh), departure=slots.index_of(n.departure),
                max_amps=n.max_a, kw_per_amp=site.evses[n.evse_id].voltage_v * n.phases / 1000.0)
        for n in needs
    ]  # fmt: skip
    starts = [slots.begin(t) for t in range(len(slots))]
    in_force = [limits_at(site, t, caps) for t in starts]
    others_a, others_w = _others(site, {n.evse_id for n in needs}, previous)
    limits: list[Limit] = []
    for node_id in site.nodes:
        below = [n for n in needs if node_id in site.path[n.evse_id]]
        if not below:
            continue
        notes = {t: "demand response" for t, lim in enumerate(in_force) if lim[node_id].capped_by == "demand response"}
        wiring = {n.evse_id: _wiring(site, n) for n in below}
        phase_caps = {
            PHASES[p]: tuple(_left(lim[node_id].phase_a[p], policy.margin_a + others_a[node_id][p])
                             for lim in in_force)
            for p in range(3) if any(math.isfinite(lim[node_id].phase_a[p]) for lim in in_force)
        }  # fmt: skip
        limits += node_limits(node=node_id, phase_caps=phase_caps, wiring=wiring, notes=notes)
        if any(math.isfinite(lim[node_id].power_w) for lim in in_force):
            taken_w = policy.margin_a * NOMINAL_V * 3 + others_w[node_id]
            kw = tuple(_left(lim[node_id].power_w, taken_w) / 1e3 for lim in in_force)
            coefficients = {s.id: complex(s.kw_per_amp) for s in sessions if s.id in wiring}
            limits.append(Limit(name=f"{node_id} power", coefficients=coefficients, caps=kw, unit="kW", notes=notes))
    return PlanRequest(slots=slots, sessions=sessions, limits=limits, prices=prices(slots))


def _left(limit: float, taken: float) -> float:
    """What a limit leaves once ``taken`` is counted (a slot without this limit: far above any load)."""
    return max(0.0, limit - taken) if math.isfinite(limit) else UNBOUNDED


def _wiring(site: Site, need: PlanNeed) -> dict[str, float]:
    evse = site.evses[need.evse_id]
    return {PHASES[p]: 1.0 for p in evse.wiring[: need.phases]}


def _others(
    site: Site, planned: set[str], previous: Allocation | None
) -> tuple[dict[str, list[float]], dict[str, float]]:
    """What the last cycle allotted each node besides the planned sessions (per site phase, and in W): offline
    and idle EVSEs and the meter's other load as allotted, other sessions (``now``, ``solar``) at their minimum
    current only, so that a ``plan`` session is not squeezed out by a ``now`` session that took its share; the
    allocation then shares between them by the policy."""
    amps = {n: [0.0, 0.0, 0.0] for n in site.nodes}
    watts = dict.fromkeys(site.nodes, 0.0)
    if previous is None:
        return amps, watts
    for node_id in site.nodes:
        amps[node_id] = list(previous.node_a.get(node_id, (0.0, 0.0, 0.0)))
        watts[node_id] = previous.node_w.get(node_id, 0.0)
    for evse_id, lim in previous.limits.items():
        evse = site.evses.get(evse_id)
        if evse is None:
            continue
        if evse_id in planned:
            freed = lim.limit_a  # the plan's own
        elif lim.cause not in (Cause.IDLE, Cause.OFFLINE) and lim.limit_a > evse.min_a:
            freed = lim.limit_a - evse.min_a  # another session: counted at its minimum, the plan comes first
        else:
            continue
        for node_id in site.path[evse_id]:
            for p in evse.wiring[: lim.phases]:
                amps[node_id][p] -= freed
            watts[node_id] -= freed * evse.voltage_v * lim.phases
    return {n: [max(0.0, a) for a in v] for n, v in amps.items()}, {n: max(0.0, w) for n, w in watts.items()}


def targets(site: Site, first_step: Mapping[str, float]) -> dict[str, float]:
    """This cycle's target current of each planned session: the plan's first slot, raised to the EVSE's minimum
    where the plan wants less but not nothing (a car is offered at least the minimum or nothing; the next
    re-plan counts the energy it got ahead)."""
    return {evse_id: offered(site.evses[evse_id].min_a, amps) for evse_id, amps in first_step.items()}


def offered(minimum: float, amps: float) -> float:
    """What a car planned ``amps`` is offered: nothing for (almost) nothing, else at least the EVSE's minimum."""
    return 0.0 if amps < 0.05 else max(minimum, amps)


def steps_ahead(
    site: Site, evse_id: str, request: PlanRequest, amps: Sequence[float], now: datetime, limit_a: float,
    horizon: timedelta,
) -> list[tuple[int, float]]:  # fmt: skip
    """The plan's next slot edges within ``horizon`` of ``now`` where it lowers EVSE ``evse_id`` below this
    cycle's ``limit_a``: (seconds from ``now``, amps), for a multi-period control profile. Only lowerings: the
    charger then drops at the planned moment even if the backend is slow or gone, while a rise waits for the
    closed loop (the allocation knows what the other sessions draw then; the plan counts them at their minimum).
    An edge is rounded up to the whole second (the profile's schedule starts on ``now``'s second, so the charger
    drops on that second)."""
    minimum = site.evses[evse_id].min_a
    out: list[tuple[int, float]] = []
    last = limit_a
    for t in range(1, min(len(request.slots), len(amps))):
        edge = request.slots.begin(t)
        if edge <= now:
            continue
        if edge >= now + horizon:
            break
        value = math.floor(min(limit_a, offered(minimum, amps[t])) * 10) / 10
        if value != last:
            out.append((math.ceil(math.ceil(edge.timestamp()) - now.timestamp()), value))
            last = value
    return out
