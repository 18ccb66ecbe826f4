"""Property-style: random sites and states (seeded) always meet the invariants, and a node named as binding
is really full (no capacity is wasted by the explanation's own account)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from chargewise.charging.allocate import allocate
from chargewise.charging.site import PHASES, Evse, Meter, Mode, Node, Site, build_site, limits_at
from chargewise.charging.state import Allocation, Cause, EvseState, MeterReading, Policy, PolicyKind, SiteState
from tests.charging.invariants import check, check_transition, other_load

T0 = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
WIRINGS = [(0, 1, 2), (1, 2, 0), (2, 0, 1)]


def random_site(rng: random.Random) -> Site:
    nodes = [Node(id="main", parent=None, limit_a=(rng.choice([32.0, 40.0, 63.0]),) * 3,
                  limit_kw=rng.choice([float("inf"), 30.0]))]  # fmt: skip
    for k in range(rng.randint(0, 4)):
        parent = rng.choice(nodes).id
        limit = tuple(rng.choice([16.0, 20.0, 25.0, 32.0]) for _ in range(3))
        nodes.append(Node(id=f"n{k}", parent=parent, limit_a=(limit[0], limit[1], limit[2]),
                          limit_kw=rng.choice([float("inf"), float("inf"), 11.0])))  # fmt: skip
    evses = []
    for k in range(rng.randint(1, 12)):
        phases = rng.choice([1, 3, 3])
        evses.append(Evse(id=f"cp{k}/1", parent=rng.choice(nodes).id, charger=f"cp{k}", wiring=rng.choice(WIRINGS),
                          max_a=rng.choice([10.0, 16.0, 32.0]), phases=phases, phase_switching=rng.random() < 0.3,
                          priority=rng.randint(0, 2), mode=rng.choice(list(Mode))))  # fmt: skip
    meter = Meter(node=rng.choice(nodes).id, includes_ev=rng.random() < 0.5) if rng.random() < 0.6 else None
    return build_site(name="random", nodes=nodes, evses=evses, meter=meter)


def random_state(rng: random.Random, site: Site, now: datetime, previous: Allocation | None) -> SiteState:
    states = {}
    for evse_id, evse in site.evses.items():
        given = previous.limits[evse_id].limit_a if previous is not None else 0.0
        draw = min(given, evse.max_a) * rng.choice([1.0, 1.0, 0.9, 0.3, 0.0])
        measured = (draw, draw if evse.phases == 3 and rng.random() < 0.8 else 0.0, draw if evse.phases == 3 else 0.0)
        states[evse_id] = EvseState(
            online=rng.random() < 0.9, session=rng.random() < 0.8, measured_a=measured if rng.random() < 0.9 else None,
            target_a=rng.choice([None, 4.0, 10.0, 20.0]), energy_kwh=rng.choice([None, 5.0, 30.0]),
            departure=now + timedelta(hours=rng.randint(1, 10)) if rng.random() < 0.7 else None,
            mode=rng.choice([None, *Mode]),
        )  # fmt: skip
    meter = None
    if rng.random() < 0.8:
        phase_a = tuple(rng.uniform(0.0, 25.0) for _ in range(3)) if rng.random() < 0.7 else None
        meter = MeterReading(phase_a=(phase_a[0], phase_a[1], phase_a[2]) if phase_a else None,
                             power_w=rng.uniform(-9000.0, 12000.0) if rng.random() < 0.8 else None)  # fmt: skip
    return SiteState(evses=states, meter=meter)


def binding_is_full(site: Site, state: SiteState, allocation: Allocation, policy: Policy) -> None:
    """An EVSE held by ``node Lx`` sees that node phase within rounding (0.1 A per EVSE) of its limit."""
    limits = limits_at(site, allocation.at)
    house_a, _ = other_load(site, state)
    for evse_id, given in allocation.limits.items():
        if given.cause is not Cause.NODE or given.binding.endswith(" power"):
            continue
        node_id, phase_name = given.binding.rsplit(" ", 1)
        p = PHASES.index(phase_name)
        load, count = 0.0, 0
        for other_id, evse in site.evses.items():
            lim = allocation.limits[other_id]
            if node_id not in site.path[other_id]:
                continue
            if p in evse.wiring[: lim.phases]:
                load, count = load + lim.limit_a, count + 1
            measured = state.evses[other_id].measured_a
            if lim.cause is Cause.IDLE and measured is not None:  # an idle EVSE's own draw is counted as it is
                load += sum(a for own, a in enumerate(measured) if evse.wiring[own] == p)
        if site.meter is not None and node_id in site.path[site.meter.node]:
            load += house_a[p]
        assert load >= limits[node_id].phase_a[p] - policy.margin_a - 0.1 * count - 1e-6, (evse_id, given, load)


@pytest.mark.parametrize("stagger", [True, False], ids=["stagger", "no-stagger"])
@pytest.mark.parametrize("seed", range(40))
def test_random_sites_meet_the_invariants(seed: int, stagger: bool) -> None:
    """With ``stagger`` also safe at every moment of each change; without, every binding node is really full."""
    rng = random.Random(seed)
    site = random_site(rng)
    policy = Policy(kind=rng.choice(list(PolicyKind)), margin_a=rng.choice([0.0, 1.0, 2.0]),
                    ramp_a=rng.choice([3.0, 10.0, 40.0]), rotation_s=rng.choice([60.0, 900.0]), stagger=stagger)  # fmt: skip
    previous: Allocation | None = None
    now = T0
    for _ in range(8):
        state = random_state(rng, site, now, previous)
        allocation = allocate(site, state, now, previous, policy)
        check(site, state, allocation, previous, policy)
        if stagger:
            check_transition(site, state, allocation, previous, policy)
        else:
            binding_is_full(site, state, allocation, policy)
        previous, now = allocation, now + timedelta(seconds=rng.choice([5, 30, 600]))
