"""The RSSI a charger would get anywhere in the plan (the heat map's data), and the search for a better AP
spot: where to add a mesh node (charger link and backhaul both strong) or where to move an AP within its room.

Call :func:`coverage` for a band's grid, :func:`best_new_node` and :func:`best_move` for the recommendations.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from dataclasses import dataclass

from chargewise.doctor.geometry import Point, segments_cross
from chargewise.doctor.materials import BANDS, DEFAULT_EIRP_DBM, Band, per_band
from chargewise.doctor.plan import AccessPoint, Plan
from chargewise.doctor.rf import Budget, budget, crossed, to_charger

NODE_HEIGHT_M = 2.2  # a new node goes high on a wall: above a car's roofline (connectivity.md §1.4)
SEARCH_STEP_M = 0.5  # the AP search never runs finer than this (the heat map uses the plan's grid_m)


@dataclass(frozen=True, kw_only=True, slots=True)
class Grid:
    """Median RSSI the charger would get at each point (its height, its enclosure) from the best AP."""

    band: Band
    xs: tuple[float, ...]
    ys: tuple[float, ...]
    rssi_dbm: tuple[tuple[float, ...], ...]  # [row for each y][column for each x]; NaN: no AP offers the band


def axis(low: float, high: float, step: float) -> tuple[float, ...]:
    count = math.floor((high - low) / step + 1e-9) + 1
    return tuple(low + i * step for i in range(count))


def coverage(plan: Plan, band: Band) -> Grid:
    """The band's grid over the plan bounds at ``plan.grid_m``, from the strongest AP at each point."""
    b, c = plan.bounds, plan.charger
    xs, ys = axis(b.x0, b.x1, plan.grid_m), axis(b.y0, b.y1, plan.grid_m)
    aps = [ap for ap in plan.aps if band in ap.bands]

    def best(p: Point) -> float:
        levels = [budget(plan, ap, p, c.height_m, band, enclosure_db=c.enclosure_loss_db).median_dbm for ap in aps]
        return max(levels, default=math.nan)

    rows = tuple(tuple(best(Point(x=x, y=y)) for x in xs) for y in ys)
    return Grid(band=band, xs=xs, ys=ys, rssi_dbm=rows)


@dataclass(frozen=True, kw_only=True, slots=True)
class Spot:
    """A candidate AP position: the charger's budget from there, and the backhaul that feeds it (new nodes)."""

    at: Point
    charger: Budget
    backhaul: Budget | None = None

    @property
    def score_dbm(self) -> float:
        levels = [self.charger.median_dbm] + ([self.backhaul.median_dbm] if self.backhaul else [])
        return min(levels)


def _candidates(plan: Plan) -> Iterator[Point]:
    b, step = plan.bounds, max(plan.grid_m, SEARCH_STEP_M)
    for y in axis(b.y0, b.y1, step):
        for x in axis(b.x0, b.x1, step):
            p = Point(x=x, y=y)
            on_wall = any(segments_cross(p, p, w.start, w.end) for w in plan.walls)
            if not on_wall and not (plan.car and plan.car.box.contains(p)):
                yield p


def _backhaul(plan: Plan, at: Point) -> Budget | None:
    """The strongest link from an existing AP to a node at ``at`` (any band both offer; mesh backhaul)."""
    links = [budget(plan, ap, at, NODE_HEIGHT_M, band, with_car=True) for ap in plan.aps for band in ap.bands]
    return max(links, key=lambda link: link.median_dbm, default=None)


def best_new_node(plan: Plan, band: Band, *, wired: bool = False) -> Spot | None:
    """Where a new mesh node (default EIRP, mounted at 2.2 m) serves the charger best on ``band`` while its
    own backhaul from the existing APs stays strong: the spot maximising the weaker of the two links.
    ``wired``: a node with a cable backhaul, so only the charger's link counts."""
    best: Spot | None = None
    for p in _candidates(plan):
        node = AccessPoint(
            name="new node",
            at=p,
            height_m=NODE_HEIGHT_M,
            bands=BANDS,
            mesh_node=True,
            eirp_dbm=per_band(DEFAULT_EIRP_DBM.__getitem__),
        )
        spot = Spot(at=p, charger=to_charger(plan, node, band), backhaul=None if wired else _backhaul(plan, p))
        if best is None or spot.score_dbm > best.score_dbm + 1e-9:
            best = spot
    return best


def best_move(plan: Plan, ap: AccessPoint, band: Band) -> Spot | None:
    """Where ``ap`` serves the charger best on ``band`` without leaving its room (no wall between the old and
    the new spot: a cable's reach, not a rebuild). None when no spot in the room is reachable."""
    best: Spot | None = None
    for p in _candidates(plan):
        if crossed(plan.walls, ap.at, p):
            continue
        spot = Spot(at=p, charger=to_charger(plan, dataclasses.replace(ap, at=p), band))
        if best is None or spot.score_dbm > best.score_dbm + 1e-9:
            best = spot
    return best
