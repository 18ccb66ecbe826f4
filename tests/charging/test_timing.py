"""The 54-EVSE site: every invariant holds, and one decision is far inside the 50 ms budget of issue 11 (the
figure in the report comes from a timeit run; this bound only catches an order-of-magnitude regression on a
shared, loaded test machine)."""

from __future__ import annotations

import time
from datetime import timedelta

from chargewise.charging.allocate import allocate
from chargewise.charging.state import Policy, PolicyKind
from tests.charging.invariants import check
from tests.charging.site54 import NOW, site54, state54


def test_54_evses_fast_and_safe() -> None:
    site = site54()
    state = state54(site)
    for kind in PolicyKind:
        policy = Policy(kind=kind)
        previous = allocate(site, state, NOW, None, policy)
        check(site, state, previous, None, policy)
        best = float("inf")
        for _ in range(5):
            start = time.perf_counter()
            allocation = allocate(site, state, NOW + timedelta(seconds=10), previous, policy)
            best = min(best, time.perf_counter() - start)
        check(site, state, allocation, previous, policy)
        assert best < 0.05, (kind, best)
