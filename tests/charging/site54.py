"""A 54-EVSE site for the timing check and its test: a 250 A main with a meter, six 63 A panels of nine
chargers each (wiring rotated round the three phases, every fourth single-phase), all charging."""

from __future__ import annotations

from datetime import UTC, datetime

from chargewise.charging.site import Evse, Meter, Node, Site, build_site
from chargewise.charging.state import EvseState, MeterReading, SiteState

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
WIRINGS = [(0, 1, 2), (1, 2, 0), (2, 0, 1)]


def site54() -> Site:
    nodes = [Node(id="main", parent=None, kind="main", limit_a=(250.0,) * 3, limit_kw=150.0)]
    nodes += [Node(id=f"panel{p}", parent="main", kind="panel", limit_a=(63.0,) * 3) for p in range(6)]
    evses = [Evse(id=f"cp{k:02}/1", parent=f"panel{k // 9}", charger=f"cp{k:02}", wiring=WIRINGS[k % 3],
                  phases=1 if k % 4 == 3 else 3, max_a=32.0 if k % 2 else 16.0) for k in range(54)]  # fmt: skip
    return build_site(name="site54", nodes=nodes, evses=evses, meter=Meter(node="main", includes_ev=True))


def state54(site: Site) -> SiteState:
    evses = {e: EvseState(session=True, measured_a=(10.0, 10.0, 10.0) if site.evses[e].phases == 3 else (10.0, 0, 0))
             for e in site.evses}  # fmt: skip
    return SiteState(evses=evses, meter=MeterReading(phase_a=(240.0, 230.0, 220.0), power_w=150000.0))


def main() -> None:
    """``PYTHONPATH=src:. python -m tests.charging.site54``: time one decision, steady and in a hard cycle."""
    import timeit
    from datetime import timedelta

    from chargewise.charging.allocate import allocate
    from chargewise.charging.state import Policy, PolicyKind

    site = site54()
    state = state54(site)
    # a hard cycle: last time only every other EVSE had a session, so most limits change and increases are held
    half = SiteState(evses={e: s if k % 2 else EvseState() for k, (e, s) in enumerate(state.evses.items())},
                     meter=state.meter)  # fmt: skip
    for kind in PolicyKind:
        policy = Policy(kind=kind)
        for name, before in (("steady", state), ("half join", half)):
            previous = allocate(site, before, NOW, None, policy)
            runs = timeit.repeat(lambda: allocate(site, state, NOW + timedelta(seconds=10), previous, policy),  # noqa: B023
                                 number=100, repeat=5)  # fmt: skip
            print(f"{kind.value:>8} {name:>9}: best {min(runs) * 10:.2f} ms, mean {sum(runs) * 2:.2f} ms per decision")


if __name__ == "__main__":
    main()
