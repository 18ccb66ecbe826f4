"""The site tree: build checks and the limits in force (schedules, demand-response caps as a list or a hook)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from chargewise.charging.site import Evse, LimitChange, Node, Site, SiteError, build_site, limits_at

T = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


@dataclass(frozen=True, kw_only=True)
class Cap:
    start: datetime
    end: datetime
    node: str
    cap_kw: float


def site() -> Site:
    schedule = (
        LimitChange(at=T - timedelta(hours=1), limit_kw=30.0),
        LimitChange(at=T + timedelta(hours=1), limit_a=(20.0,) * 3),
    )
    nodes = [Node(id="main", parent=None, limit_a=(63.0,) * 3, limit_kw=40.0, schedule=schedule)]
    return build_site(name="s", nodes=nodes, evses=[Evse(id="cp/1", parent="main", charger="cp")])


def test_the_latest_change_wins_and_keeps_the_other_limit() -> None:
    s = site()
    assert limits_at(s, T - timedelta(hours=2))["main"].power_w == 40000.0
    now = limits_at(s, T)["main"]
    assert (now.power_w, now.phase_a[0], now.capped_by) == (30000.0, 63.0, "schedule")
    later = limits_at(s, T + timedelta(hours=2))["main"]
    assert (later.power_w, later.phase_a) == (40000.0, (20.0, 20.0, 20.0))


def test_caps_as_a_list_or_a_hook_only_lower() -> None:
    s = site()
    caps = [Cap(start=T, end=T + timedelta(minutes=30), node="main", cap_kw=10.0),
            Cap(start=T, end=T + timedelta(minutes=30), node="elsewhere", cap_kw=1.0),
            Cap(start=T, end=T + timedelta(minutes=30), node="main", cap_kw=99.0)]  # fmt: skip
    assert limits_at(s, T, caps)["main"].power_w == 10000.0
    assert limits_at(s, T + timedelta(minutes=30), caps)["main"].power_w == 30000.0  # end is exclusive
    seen: list[datetime] = []

    def hook(now: datetime) -> list[Cap]:
        seen.append(now)
        return caps[:1]

    assert limits_at(s, T, hook)["main"].capped_by == "demand response" and seen == [T]


def test_build_refuses_a_bad_tree() -> None:
    with pytest.raises(SiteError, match="wiring"):
        build_site(
            name="s", nodes=[Node(id="m", parent=None)], evses=[Evse(id="e", parent="m", charger="c", wiring=(0, 0, 1))]
        )
    with pytest.raises(SiteError, match="is not a node"):
        build_site(name="s", nodes=[Node(id="m", parent=None)], evses=[Evse(id="e", parent="x", charger="c")])
