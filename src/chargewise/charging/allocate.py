"""One cycle of closed-loop allocation: per-EVSE current limits that keep every node of the site under its
per-phase and power limits (less the safety margin), shared by the policy, each explaining itself.

Run it every few seconds and on events (plug-in, unplug, meter values, a limit change, a charger going offline),
passing the result back as ``previous``: :func:`allocate` is pure and keeps its little memory (phase guesses,
who waited since when) in the :class:`~chargewise.charging.state.Allocation` itself. Send a charger a new
profile only for the EVSEs whose ``limit_a``/``phases`` changed. With ``Policy.stagger`` (the default) the
chargers may apply them in any order: an increase waits a cycle until the decreases making room are in force.

Order of sharing: offline EVSEs (their last limit), idle EVSEs (what they draw) and the meter's other load are
counted first; then the sessions in ``now``/``plan`` (and the minimum of ``min+solar``), group by group
(priority, laxity), each group admitted at its minimum current and then water-filled; last the solar sessions
share the surplus the meter reports (export after everything above); last, increases that are not yet safe
are held (:mod:`chargewise.charging.transition`).
"""

from __future__ import annotations

from datetime import datetime

from chargewise.charging.fill import take
from chargewise.charging.needs import Need, need
from chargewise.charging.problem import NOMINAL_V, Problem, limit_of, to_site
from chargewise.charging.share import share
from chargewise.charging.site import Caps, Evse, Site
from chargewise.charging.state import Allocation, Cause, EvseLimit, MeterReading, Policy, SiteState


def allocate(
    site: Site,
    state: SiteState,
    now: datetime,
    previous: Allocation | None,
    policy: Policy,
    caps: Caps = (),
) -> Allocation:
    """The limits for this cycle. ``caps``: demand-response caps (objects with start, end, node, cap_kw), or a
    function from ``now`` to them; those in force lower their node's power limit. Never raises on live data:
    an EVSE missing from ``state`` counts as offline."""
    problem = Problem(site, now, policy, caps)
    last = previous.limits if previous is not None else {}
    out: dict[str, EvseLimit] = {}
    needs: list[Need] = []
    fixed_w = 0.0
    for evse in site.evses.values():
        st = state.evses.get(evse.id)
        if st is None or not st.online:
            out[evse.id] = _offline(problem, evse, last.get(evse.id))
            fixed_w += out[evse.id].limit_w
        elif not st.session:
            fixed_w += _idle_load(problem, evse, st.measured_a)
            why = "no session: 0 (what it draws is counted)"
            out[evse.id] = limit_of(
                evse, 0.0, evse.phases, Cause.IDLE, "", evse.mode, why, last.get(evse.id), now, None
            )
        else:
            needs.append(need(evse, st, last.get(evse.id), now, policy))
    house_w = _count_meter(problem, state)
    out.update(share(problem, needs, last, house_w, fixed_w))
    node_a, node_w = _totals(site, out, problem)
    return Allocation(at=now, policy=policy.kind, limits=dict(sorted(out.items())), node_a=node_a, node_w=node_w)


def _offline(problem: Problem, evse: Evse, last: EvseLimit | None) -> EvseLimit:
    limit_a, phases = (last.limit_a, last.phases) if last is not None else (evse.max_a, evse.phases)
    take(problem.rows, problem.terms(evse, phases), limit_a)
    why = (
        "offline: its last limit is kept in the accounting"
        if last
        else "offline with no known limit: counted at its maximum"
    )
    since = last.since if last is not None else None
    return EvseLimit(evse=evse.id, limit_a=limit_a, phases=phases, limit_w=limit_a * evse.voltage_v * phases,
                     cause=Cause.OFFLINE, mode=last.mode if last else evse.mode, reason=why, since=since,
                     guess=last.guess if last else None)  # fmt: skip


def _idle_load(problem: Problem, evse: Evse, measured: tuple[float, float, float] | None) -> float:
    if measured is None or not any(measured):
        return 0.0
    site_a = to_site(evse, measured)
    power = sum(measured) * evse.voltage_v
    problem.take_phases(evse.parent, site_a, power)
    return power


def _count_meter(problem: Problem, state: SiteState) -> float | None:
    """Count the other load the meter sees on its node and above; return its signed power (W, negative when
    exporting), ``None`` without a power reading (then there is no known solar surplus)."""
    meter, reading = problem.site.meter, state.meter
    if meter is None or reading is None:
        return None
    ev_a, ev_w = [0.0, 0.0, 0.0], 0.0
    if meter.includes_ev:
        for evse_id, st in state.evses.items():
            evse = problem.site.evses.get(evse_id)
            if evse is not None and st.measured_a is not None and meter.node in problem.site.path[evse_id]:
                for p, current in enumerate(to_site(evse, st.measured_a)):
                    ev_a[p] += current
                ev_w += sum(st.measured_a) * evse.voltage_v
    house_w = reading.power_w - ev_w if reading.power_w is not None else None
    house_a = _house_phases(reading, ev_a, house_w)
    # an export does not widen a breaker's headroom: solar can drop within a cycle, so count 0, not less
    problem.house = (meter.node, house_a)
    problem.take_phases(meter.node, house_a, max(0.0, house_w if house_w is not None else sum(house_a) * NOMINAL_V))
    return house_w


def _house_phases(reading: MeterReading, ev_a: list[float], house_w: float | None) -> tuple[float, float, float]:
    if reading.phase_a is not None:
        a = [max(0.0, reading.phase_a[p] - ev_a[p]) for p in range(3)]
        return (a[0], a[1], a[2])
    each = max(0.0, house_w or 0.0) / (3 * NOMINAL_V)  # total power only: spread evenly
    return (each, each, each)


def _totals(
    site: Site, out: dict[str, EvseLimit], problem: Problem
) -> tuple[dict[str, tuple[float, float, float]], dict[str, float]]:
    node_a: dict[str, list[float]] = {n: [0.0, 0.0, 0.0] for n in site.nodes}
    node_w: dict[str, float] = dict.fromkeys(site.nodes, 0.0)
    for evse_id, lim in out.items():
        evse = site.evses[evse_id]
        for n in site.path[evse_id]:
            for p in evse.wiring[: lim.phases]:
                node_a[n][p] += lim.limit_a
            node_w[n] += lim.limit_w
    if problem.house is not None:
        meter_node, house_a = problem.house
        for n in site.path[meter_node]:
            for p in range(3):
                node_a[n][p] += house_a[p]
            node_w[n] += sum(house_a) * NOMINAL_V
    rounded = {n: (round(a[0], 2), round(a[1], 2), round(a[2], 2)) for n, a in node_a.items()}
    return rounded, {n: round(w, 1) for n, w in node_w.items()}
