"""The scenario cases in ``cases/*.toml``: each cycle meets the invariants and the case's expectations."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.charging import cases
from tests.charging.invariants import check


@pytest.mark.parametrize("path", cases.files(), ids=lambda p: p.stem)
def test_case(path: Path) -> None:
    steps = 0
    for loaded, step in cases.run(path):
        steps += 1
        check(loaded.site, step.state, step.result, step.previous, loaded.policy, step.caps)
        limits = step.result.limits
        where = f"{path.stem} cycle {step.index}"
        for evse_id, want in step.expect.get("limit_a", {}).items():
            assert limits[evse_id].limit_a == pytest.approx(want), (where, evse_id, limits[evse_id])
        for evse_id, want in step.expect.get("cause", {}).items():
            assert limits[evse_id].cause.value == want, (where, evse_id, limits[evse_id])
        for evse_id, want in step.expect.get("binding", {}).items():
            assert limits[evse_id].binding == want, (where, evse_id, limits[evse_id])
        for evse_id, want in step.expect.get("phases", {}).items():
            assert limits[evse_id].phases == want, (where, evse_id, limits[evse_id])
        for evse_id, want in step.expect.get("at_least_a", {}).items():
            assert limits[evse_id].limit_a >= want, (where, evse_id, limits[evse_id])
        for evse_id, want in step.expect.get("at_most_a", {}).items():
            assert limits[evse_id].limit_a <= want, (where, evse_id, limits[evse_id])
        for node_id, want in step.expect.get("node_at_most_a", {}).items():
            assert max(step.result.node_a[node_id]) <= want, (where, node_id, step.result.node_a[node_id])
        if "on" in step.expect:
            on = sorted(e for e, lim in limits.items() if lim.limit_a > 0 and lim.cause.value != "offline")
            assert on == sorted(step.expect["on"]), (where, on)
    assert steps > 0
