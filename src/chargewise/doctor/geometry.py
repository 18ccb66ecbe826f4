"""Plan geometry in meters: does the straight path from an AP to a point cross a wall, or a parked car?

Ask :func:`segments_cross` for a wall (a segment) and :func:`segment_hits_box` for a car (an axis-aligned
rectangle). Touching counts as crossing; a plan therefore refuses an AP or a charger placed exactly on a wall
(:mod:`chargewise.doctor.plan` asks for the side it is mounted on).
"""

from __future__ import annotations

from dataclasses import dataclass

EPS = 1e-9


@dataclass(frozen=True, kw_only=True, slots=True)
class Point:
    x: float
    y: float


@dataclass(frozen=True, kw_only=True, slots=True)
class Box:
    """An axis-aligned rectangle (a parked car seen from above)."""

    x0: float
    y0: float
    x1: float
    y1: float

    def contains(self, p: Point) -> bool:
        return self.x0 - EPS <= p.x <= self.x1 + EPS and self.y0 - EPS <= p.y <= self.y1 + EPS


def _cross(o: Point, a: Point, b: Point) -> float:
    return (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x)


def _on_segment(p: Point, a: Point, b: Point) -> bool:
    return min(a.x, b.x) - EPS <= p.x <= max(a.x, b.x) + EPS and min(a.y, b.y) - EPS <= p.y <= max(a.y, b.y) + EPS


def segments_cross(p1: Point, p2: Point, q1: Point, q2: Point) -> bool:
    """Whether segment p1-p2 meets segment q1-q2 (endpoints and collinear overlap included)."""
    d1, d2 = _cross(q1, q2, p1), _cross(q1, q2, p2)
    d3, d4 = _cross(p1, p2, q1), _cross(p1, p2, q2)
    if ((d1 > EPS and d2 < -EPS) or (d1 < -EPS and d2 > EPS)) and (
        (d3 > EPS and d4 < -EPS) or (d3 < -EPS and d4 > EPS)
    ):
        return True
    return (
        (abs(d1) <= EPS and _on_segment(p1, q1, q2))
        or (abs(d2) <= EPS and _on_segment(p2, q1, q2))
        or (abs(d3) <= EPS and _on_segment(q1, p1, p2))
        or (abs(d4) <= EPS and _on_segment(q2, p1, p2))
    )


def segment_hits_box(p1: Point, p2: Point, box: Box) -> bool:
    """Whether segment p1-p2 passes through (or into) the rectangle ``box``."""
    if box.contains(p1) or box.contains(p2):
        return True
    corners = (
        Point(x=box.x0, y=box.y0),
        Point(x=box.x1, y=box.y0),
        Point(x=box.x1, y=box.y1),
        Point(x=box.x0, y=box.y1),
    )
    return any(segments_cross(p1, p2, corners[i], corners[(i + 1) % 4]) for i in range(4))
