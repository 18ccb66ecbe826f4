"""The reconcile loop with injected time: a tiny pure plant (cars that draw min(limit, their own maximum, their
taper curve), single- or three-phase) stepped together with :func:`allocate` for N cycles.

Asserts: what the cars really draw never exceeds any node's per-phase limit, nor would it at any moment of a
change whatever order the chargers apply their new limits in; capacity a tapering car frees is given to the
others within two cycles; a single-phase car on a three-phase charger ends up counted on one phase.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from chargewise.charging.allocate import allocate
from chargewise.charging.phases import CONFIRM
from chargewise.charging.site import Evse, Node, Site, build_site, limits_at
from chargewise.charging.sitefile import parse
from chargewise.charging.state import Allocation, EvseState, Policy, SiteState
from tests.charging.invariants import check, check_transition

T0 = datetime(2026, 12, 2, 18, 0, tzinfo=UTC)
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "site-workplace.toml"
CYCLE = timedelta(seconds=10)


@dataclass(frozen=True, kw_only=True)
class Car:
    evse: str
    max_a: float
    phases: int
    taper_at: int | None = None  # from this cycle on it draws only taper_a (battery nearly full)
    taper_a: float = 0.0
    arrive_at: int = 0  # plugged in from this cycle on
    offline: range = range(0)  # cycles its charger is offline: no meter values, it keeps the limit it had

    def draw(self, limit_a: float, limit_phases: int, cycle: int) -> tuple[float, float, float]:
        """Amps per EVSE phase: IEC 61851 cars draw at most the offered current, on the phases they have."""
        ceiling = self.taper_a if self.taper_at is not None and cycle >= self.taper_at else self.max_a
        current = min(limit_a, ceiling)
        phases = min(self.phases, limit_phases)
        return (current, current if phases == 3 else 0.0, current if phases == 3 else 0.0)


def workplace() -> Site:
    """Ten EVSEs on a 63 A main, some rotated, four of them behind a 32 A circuit."""
    wirings = [(0, 1, 2), (1, 2, 0), (2, 0, 1)]
    nodes = [Node(id="main", parent=None, limit_a=(63.0,) * 3), Node(id="circuit", parent="main", limit_a=(32.0,) * 3)]
    evses = [Evse(id=f"cp{k:02}/1", parent="circuit" if k < 4 else "main", charger=f"cp{k:02}",
                  wiring=wirings[k % 3], max_a=32.0) for k in range(10)]  # fmt: skip
    return build_site(name="workplace", nodes=nodes, evses=evses)


def drawn_per_node(site: Site, draws: dict[str, tuple[float, float, float]]) -> dict[str, list[float]]:
    out = {n: [0.0, 0.0, 0.0] for n in site.nodes}
    for evse_id, draw in draws.items():
        for node_id in site.path[evse_id]:
            for own, current in enumerate(draw):
                out[node_id][site.evses[evse_id].wiring[own]] += current
    return out


def run(
    site: Site, cars: list[Car], cycles: int, policy: Policy
) -> list[tuple[Allocation, dict[str, tuple[float, float, float]]]]:
    """Each cycle: the cars draw under the limits in force, the meter values reach the allocator, new limits."""
    history = []
    previous: Allocation | None = None
    for cycle in range(cycles):
        now = T0 + cycle * CYCLE
        draws = {}
        for car in cars:
            given = previous.limits[car.evse] if previous is not None else None  # the limit in force
            if cycle >= car.arrive_at:
                draws[car.evse] = car.draw(given.limit_a if given else 0.0, given.phases if given else 3, cycle)
        in_force = limits_at(site, now)
        for node_id, load in drawn_per_node(site, draws).items():
            for p in range(3):
                assert load[p] <= in_force[node_id].phase_a[p] + 1e-6, (cycle, node_id, load)
            assert sum(load) * 230.0 <= in_force[node_id].power_w + 1e-3, (cycle, node_id, load)
        offline = {c.evse for c in cars if cycle in c.offline}
        state = SiteState(evses={e: EvseState(online=e not in offline, session=e in draws,
                                              measured_a=draws.get(e) if e not in offline else None)
                                 for e in site.evses})  # fmt: skip
        allocation = allocate(site, state, now, previous, policy)
        check(site, state, allocation, previous, policy)
        check_transition(site, state, allocation, previous, policy)  # safe whichever charger applies first
        history.append((allocation, draws))
        previous = allocation
    return history


def circuit_total(allocation: Allocation, site: Site, phase: int) -> float:
    return sum(lim.limit_a for e, lim in allocation.limits.items()
               if "circuit" in site.path[e] and phase in site.evses[e].wiring[: lim.phases])  # fmt: skip


def test_freed_capacity_is_reallocated_within_two_cycles() -> None:
    site, policy = workplace(), Policy()
    taper = 12
    cars = [Car(evse="cp00/1", max_a=32.0, phases=3, taper_at=taper, taper_a=3.0),
            *(Car(evse=f"cp{k:02}/1", max_a=32.0, phases=3) for k in (1, 2, 3, 5, 7))]  # fmt: skip
    history = run(site, cars, 24, policy)
    steady = history[taper - 1][0]
    assert circuit_total(steady, site, 0) >= 31.0 - 0.4  # the circuit was full before (4 x 7.75 on 31 A)
    before = steady.limits["cp01/1"].limit_a
    # the car draws less from cycle ``taper`` on and that cycle's meter values reach the allocator: its limit
    # drops at once, and the others rise the next cycle, once the decrease is in force (policy stagger)
    for allocation, _ in history[taper : taper + 2]:
        assert allocation.limits["cp00/1"].limit_a <= max(6.0, 3.0 + policy.probe_a) + 1e-6
    assert history[taper][0].limits["cp01/1"].cause.value == "hold"
    after = history[taper + 1][0]
    assert circuit_total(after, site, 0) >= 31.0 - 0.4, after.limits
    freed_share = (31.0 - after.limits["cp00/1"].limit_a) / 3  # the three others on the circuit split the rest
    assert after.limits["cp01/1"].limit_a >= freed_share - 0.1 > before


def test_single_phase_car_is_counted_on_one_phase() -> None:
    """A single-phase car on a three-phase charger (site L1) and a single-phase wallbox on site L2 share a 32 A
    circuit: while the car is counted on three phases they split L2 (15.5 A each); once three readings agree it
    is counted on L1 only and each gets the whole 31 A of its phase."""
    nodes = [Node(id="circuit", parent=None, limit_a=(32.0,) * 3)]
    evses = [Evse(id="cp00/1", parent="circuit", charger="cp00"),
             Evse(id="wall/1", parent="circuit", charger="wall", wiring=(1, 2, 0), phases=1)]  # fmt: skip
    site, policy = build_site(name="garage", nodes=nodes, evses=evses), Policy(ramp_a=40.0)
    cars = [Car(evse="cp00/1", max_a=32.0, phases=1), Car(evse="wall/1", max_a=32.0, phases=1)]
    history = run(site, cars, CONFIRM + 4, policy)
    assert history[1][0].limits["wall/1"].limit_a == 15.5
    last = history[-1][0]
    assert last.limits["cp00/1"].phases == 1
    assert last.limits["cp00/1"].limit_a == 31.0
    assert last.limits["wall/1"].limit_a == 31.0


def test_the_workplace_example_with_ten_cars() -> None:
    """The shipped example at 18:00 UTC (its evening limit: the main at 50 A), ten cars: two single-phase ones,
    one tapering, one arriving late, one charger offline for a while (its car keeps charging on the last limit).
    More cars than 49 A can give 6 A each, so they take turns (rotation_s = 60 s at 10 s cycles)."""
    loaded = parse(EXAMPLE.read_text())
    site, policy = loaded.site, Policy(rotation_s=60.0)
    assert limits_at(site, T0)["main"].phase_a == (50.0, 50.0, 50.0)
    cars = [Car(evse="cp01/1", max_a=32.0, phases=3), Car(evse="cp02/1", max_a=32.0, phases=3, offline=range(8, 20)),
            Car(evse="cp03/1", max_a=32.0, phases=1), Car(evse="cp04/1", max_a=16.0, phases=3, taper_at=15, taper_a=2.0),
            Car(evse="cp05/1", max_a=16.0, phases=3), Car(evse="cp06/1", max_a=16.0, phases=3),
            Car(evse="cp07/1", max_a=16.0, phases=3, arrive_at=10), Car(evse="cp08/1", max_a=16.0, phases=3),
            Car(evse="cp09/1", max_a=16.0, phases=3), Car(evse="cp10/1", max_a=32.0, phases=1)]  # fmt: skip
    history = run(site, cars, 60, policy)
    charged = {e for allocation, _ in history for e, lim in allocation.limits.items() if lim.limit_a > 0}
    assert charged == {car.evse for car in cars}  # everyone got a turn
    for allocation, _ in history[8:20]:
        assert allocation.limits["cp02/1"].cause.value == "offline"
    assert history[-1][0].limits["cp03/1"].phases == 1  # the single-phase car is counted on its one phase
