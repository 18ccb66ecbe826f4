"""What every allocation must satisfy, checked independently of the allocator's own bookkeeping."""

from __future__ import annotations

import math
from collections.abc import Iterable

from chargewise.charging.site import DemandCapLike, Site, limits_at
from chargewise.charging.state import Allocation, Cause, Policy, SiteState

TOL = 1e-6


def other_load(site: Site, state: SiteState) -> tuple[list[float], float]:
    """The meter's non-EV load per site phase (>= 0) and in W (>= 0), as the allocator must count it."""
    meter, reading = site.meter, state.meter
    if meter is None or reading is None:
        return [0.0, 0.0, 0.0], 0.0
    ev = [0.0, 0.0, 0.0]
    ev_w = 0.0
    if meter.includes_ev:
        for evse_id, st in state.evses.items():
            evse = site.evses[evse_id]
            if st.measured_a is not None and meter.node in site.path[evse_id]:
                for own, current in enumerate(st.measured_a):
                    ev[evse.wiring[own]] += current
                ev_w += sum(st.measured_a) * evse.voltage_v
    house_w = None if reading.power_w is None else reading.power_w - ev_w
    if reading.phase_a is not None:
        phase = [max(0.0, reading.phase_a[p] - ev[p]) for p in range(3)]
    else:
        phase = [max(0.0, house_w or 0.0) / 690.0] * 3
    return phase, max(0.0, house_w if house_w is not None else sum(phase) * 230.0)


def check(
    site: Site, state: SiteState, allocation: Allocation, previous: Allocation | None, policy: Policy,
    caps: Iterable[DemandCapLike] = (),
) -> None:  # fmt: skip
    """No node over any per-phase or power limit (less the margin), limits legal, ramps bounded, offline kept."""
    limits = limits_at(site, allocation.at, caps)
    house_a, house_w = other_load(site, state)
    for node_id, lim in limits.items():
        phase = [0.0, 0.0, 0.0]
        power = 0.0
        controlled = [False, False, False]  # a phase some EVSE the allocator sets draws on
        for evse_id, evse in site.evses.items():
            if node_id in site.path[evse_id]:
                given = allocation.limits[evse_id]
                for p in evse.wiring[: given.phases]:
                    phase[p] += given.limit_a
                    controlled[p] |= given.limit_a > 0 and given.cause is not Cause.OFFLINE
                power += given.limit_a * evse.voltage_v * given.phases
                measured = state.evses[evse_id].measured_a if evse_id in state.evses else None
                if given.cause is Cause.IDLE and measured is not None:  # what an idle EVSE draws is counted too
                    for own, current in enumerate(measured):
                        phase[evse.wiring[own]] += current
                    power += sum(measured) * evse.voltage_v
        if site.meter is not None and node_id in site.path[site.meter.node]:
            phase = [phase[p] + house_a[p] for p in range(3)]
            power += house_w
        # fixed loads alone (offline EVSEs, the house) may exceed a limit: nothing the allocator can cut
        for p in range(3):
            if math.isfinite(lim.phase_a[p]) and controlled[p]:
                assert phase[p] <= lim.phase_a[p] - policy.margin_a + TOL, (node_id, p, phase, lim)
        if math.isfinite(lim.power_w) and any(controlled):
            assert power <= lim.power_w - policy.margin_a * 690.0 + 0.5, (node_id, power, lim)
    last = previous.limits if previous is not None else {}
    for evse_id, given in allocation.limits.items():
        evse = site.evses[evse_id]
        before = last.get(evse_id)
        if given.cause is Cause.OFFLINE:
            if before is not None:
                assert (given.limit_a, given.phases) == (before.limit_a, before.phases), evse_id
            continue
        assert given.limit_a == 0 or evse.min_a - TOL <= given.limit_a <= evse.max_a + TOL, (evse_id, given)
        if given.limit_a > 0:
            ceiling = (
                before.limit_a + policy.ramp_a
                if before is not None and before.limit_a > 0
                else max(evse.min_a, policy.ramp_a)
            )
            assert given.limit_a <= ceiling + TOL, (evse_id, given.limit_a, ceiling)
        assert given.reason, evse_id


def check_transition(site: Site, state: SiteState, allocation: Allocation, previous: Allocation | None,
                     policy: Policy, caps: Iterable[DemandCapLike] = ()) -> None:  # fmt: skip
    """Whatever order the chargers apply their new limits in, no node phase is over: each session counted at the
    larger of its old and new limit (on the phases of each), wherever some session's limit rose."""
    if previous is None:
        return
    limits = limits_at(site, allocation.at, caps)
    house_a, _ = other_load(site, state)
    for node_id, lim in limits.items():
        worst = [0.0, 0.0, 0.0]
        rising = [False, False, False]
        for evse_id, evse in site.evses.items():
            if node_id not in site.path[evse_id]:
                continue
            new, old = allocation.limits[evse_id], previous.limits[evse_id]
            measured = state.evses[evse_id].measured_a if evse_id in state.evses else None
            if new.cause is Cause.IDLE:  # no session: what it draws now (its old car has left)
                for own, current in enumerate(measured or (0.0, 0.0, 0.0)):
                    worst[evse.wiring[own]] += current
                continue
            for p in range(3):
                after = new.limit_a if p in evse.wiring[: new.phases] else 0.0
                before = old.limit_a if p in evse.wiring[: old.phases] and old.cause is not Cause.IDLE else 0.0
                worst[p] += max(after, before)
                rising[p] |= after > before + TOL
        if site.meter is not None and node_id in site.path[site.meter.node]:
            worst = [worst[p] + house_a[p] for p in range(3)]
        for p in range(3):
            if math.isfinite(lim.phase_a[p]) and rising[p]:
                assert worst[p] <= lim.phase_a[p] - policy.margin_a + TOL, (node_id, p, worst, lim)
