"""The garage RF model: a COST 231 multi-wall link budget (connectivity.md §1.1) from an AP to a point.

    median RSSI = EIRP - [PL(1 m) + 20 log10(d)] - sum(walls crossed) - floors - car - enclosure
    90 % value  = median - 1.28 * sqrt(sigma_shadowing^2 + sigma_car^2)

Walls are priced per crossing at normal incidence (§1.3; SignalPlan kept normal incidence for walls because
angle moved median cells by at most 0.5 dB). A crossing is a segment intersection of the AP-to-point line with
the wall in plan view; the distance is 3-D (heights included). The car is TR 37.885 blockage (§1.4).

Call :func:`budget` for one AP and point, :func:`at_charger` for the best AP per band, and :func:`verdict`
for the planning rule of §1.5.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

from chargewise.doctor.geometry import Point, segment_hits_box, segments_cross
from chargewise.doctor.materials import (
    BANDS,
    CRITICAL_DBM,
    P90_Z,
    PLAN_DBM,
    PLAN_P90_DBM,
    Band,
    car_loss_db,
    free_space_db,
)
from chargewise.doctor.plan import AccessPoint, Plan, Wall


class Verdict(enum.StrEnum):
    GOOD = "good"  # median >= -65 dBm and 90 % value >= -72 dBm (connectivity.md §1.5 planning rule)
    MARGINAL = "marginal"
    CRITICAL = "critical"  # median < -75 dBm (the §1.5 alarm level)


@dataclass(frozen=True, kw_only=True, slots=True)
class Term:
    """One loss in a budget: what it is and its dB."""

    what: str  # "free space 12.0 m", "wall[1] concrete-200mm", "car (both antennas below 1.6 m)"
    loss_db: float
    kind: str  # "free_space", "wall", "floor", "car", "enclosure"


@dataclass(frozen=True, kw_only=True, slots=True)
class Budget:
    """The link budget from one AP to one point on one band."""

    band: Band
    ap: str
    eirp_dbm: float
    distance_m: float
    terms: tuple[Term, ...]
    sigma_db: float  # shadowing and car spread combined
    offered: bool = True  # False: the AP does not offer this band today (a what-if)

    @property
    def loss_db(self) -> float:
        return sum(t.loss_db for t in self.terms)

    @property
    def median_dbm(self) -> float:
        return self.eirp_dbm - self.loss_db

    @property
    def margin_db(self) -> float:
        """The shadowing margin: 90 % of positions like this one get at least median - margin."""
        return P90_Z * self.sigma_db

    @property
    def p90_dbm(self) -> float:
        return self.median_dbm - self.margin_db

    @property
    def car_db(self) -> float:
        return sum(t.loss_db for t in self.terms if t.kind == "car")

    @property
    def verdict(self) -> Verdict:
        return verdict(self.median_dbm, self.p90_dbm)


def verdict(median_dbm: float, p90_dbm: float) -> Verdict:
    """Good: median >= -65 and 90 % value >= -72; critical: median < -75; else marginal (§1.5)."""
    if median_dbm < CRITICAL_DBM:
        return Verdict.CRITICAL
    if median_dbm >= PLAN_DBM and p90_dbm >= PLAN_P90_DBM:
        return Verdict.GOOD
    return Verdict.MARGINAL


def crossed(walls: tuple[Wall, ...], a: Point, b: Point) -> list[tuple[int, Wall]]:
    """The walls (index, wall) the straight line from ``a`` to ``b`` crosses, in plan order."""
    return [(i, w) for i, w in enumerate(walls) if segments_cross(a, b, w.start, w.end)]


def budget(
    plan: Plan,
    ap: AccessPoint,
    at: Point,
    height_m: float,
    band: Band,
    *,
    enclosure_db: float = 0.0,
    with_car: bool = True,
) -> Budget:
    """The budget from ``ap`` to a receiver at ``at`` (``height_m`` above the floor) on ``band``."""
    i = band.slot
    planar = math.hypot(at.x - ap.at.x, at.y - ap.at.y)
    distance = math.hypot(planar, height_m - ap.height_m)
    terms = [Term(what=f"free space {distance:.1f} m", loss_db=free_space_db(distance, band), kind="free_space")]
    for index, wall in crossed(plan.walls, ap.at, at):
        label = wall.material if wall.thickness_mm is None else f"{wall.material} {wall.thickness_mm:g} mm"
        name = "" if wall.name == f"wall[{index}]" else f" ({wall.name})"
        terms.append(Term(what=f"wall[{index}]{name} {label}", loss_db=wall.loss_db[i], kind="wall"))
    terms += [Term(what=f"floor {name}", loss_db=loss[i], kind="floor") for name, loss in ap.floors]
    car_sigma = 0.0
    if with_car and plan.car is not None and segment_hits_box(ap.at, at, plan.car.box):
        roof = plan.car.roofline_m
        ap_above, rx_above = ap.height_m > roof, height_m > roof
        mean, car_sigma = car_loss_db(ap_above=ap_above, charger_above=rx_above, distance_m=distance)
        above = {(True, True): "both antennas", (True, False): "the AP", (False, True): "the charger"}
        where = f"{above[(ap_above, rx_above)]} above" if ap_above or rx_above else "both antennas below"
        terms.append(Term(what=f"parked car ({where} the {roof:g} m roofline)", loss_db=mean, kind="car"))
    if enclosure_db:
        terms.append(Term(what="charger enclosure and antenna", loss_db=enclosure_db, kind="enclosure"))
    return Budget(
        band=band,
        ap=ap.name,
        eirp_dbm=ap.eirp_dbm[i],
        distance_m=distance,
        terms=tuple(terms),
        sigma_db=math.hypot(plan.shadowing_sigma_db, car_sigma),
        offered=band in ap.bands,
    )


def to_charger(plan: Plan, ap: AccessPoint, band: Band, *, with_car: bool = True) -> Budget:
    """The budget from ``ap`` to the plan's charger on ``band``."""
    c = plan.charger
    return budget(plan, ap, c.at, c.height_m, band, enclosure_db=c.enclosure_loss_db, with_car=with_car)


def at_charger(plan: Plan, band: Band) -> Budget | None:
    """The strongest AP's budget at the charger on ``band`` (None when no AP offers the band)."""
    budgets = [to_charger(plan, ap, band) for ap in plan.aps if band in ap.bands]
    return max(budgets, key=lambda b: b.median_dbm, default=None)


@dataclass(frozen=True, kw_only=True, slots=True)
class BandResult:
    """What the charger gets on one band: the serving AP's budget, every AP's, and whether the radio has it."""

    band: Band
    best: Budget | None  # None: no AP offers this band
    per_ap: tuple[Budget, ...]  # every AP, offered or not (what-ifs for "enable 2.4 GHz on ...")
    charger_supports: bool


def predict(plan: Plan) -> tuple[BandResult, ...]:
    """Per band (2.4 / 5 / 6 GHz): the charger's budget from each AP and from the best one."""
    results = []
    for band in BANDS:
        per_ap = tuple(to_charger(plan, ap, band) for ap in plan.aps)
        best = max((b for b in per_ap if b.offered), key=lambda b: b.median_dbm, default=None)
        results.append(BandResult(band=band, best=best, per_ap=per_ap, charger_supports=band in plan.charger.bands))
    return tuple(results)
