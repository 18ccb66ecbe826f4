"""Wall materials and the link-budget terms every RF model here shares (the doctor's planner and the
simulator's fault scenarios): free-space loss per band, per-wall loss per band, car-body loss, thresholds.

Link budget (connectivity.md §1.1, COST 231 multi-wall with free-space exponent n = 2)::

    RSSI = EIRP - PL(1 m) - 20 log10(d) - sum(wall losses) - floors - car - enclosure - shadowing margin

Look a material up with :func:`material` (it names the known ones on a typo) and price a crossing with
:func:`wall_loss_db`; the family names ``concrete``, ``brick`` and ``timber`` take a thickness.
"""

from __future__ import annotations

import difflib
import enum
import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass


class Band(enum.StrEnum):
    """A Wi-Fi band, named as a user writes it in a plan (``2.4``, ``5``, ``6``)."""

    G2_4 = "2.4"
    G5 = "5"
    G6 = "6"

    @property
    def slot(self) -> int:
        return BANDS.index(self)

    @property
    def label(self) -> str:
        return f"{self.value} GHz"


BANDS = (Band.G2_4, Band.G5, Band.G6)
PerBand = tuple[float, float, float]  # a value at 2.4 / 5 / 6 GHz


def per_band(value: Callable[[Band], float]) -> PerBand:
    """``value`` at each band, in the order of :data:`BANDS`."""
    return (value(Band.G2_4), value(Band.G5), value(Band.G6))


def band_of(ghz: float) -> Band:
    """The band a centre frequency in GHz falls in (2.412 -> 2.4, 5.5 -> 5, 6.5 -> 6)."""
    return Band.G2_4 if ghz < 3 else (Band.G5 if ghz < 5.9 else Band.G6)


# Free-space loss at 1 m at the band midpoint 2.437 / 5.523 / 6.525 GHz (connectivity.md §1.1, SignalPlan).
FREE_SPACE_1M_DB = {Band.G2_4: 40.2, Band.G5: 47.3, Band.G6: 48.7}
# Default AP EIRP per band (connectivity.md §1.1, SignalPlan band table; 6 GHz is LPI 5 dBm/MHz x 20 MHz).
DEFAULT_EIRP_DBM = {Band.G2_4: 20.0, Band.G5: 23.0, Band.G6: 18.0}
# Default AP antenna gain when a plan gives tx power instead of EIRP (connectivity.md §1.1, NetworkOptimizer).
DEFAULT_ANTENNA_GAIN_DBI = 3.0

# RSSI thresholds at the charger (connectivity.md §1.5 planning rule and alarm rule).
PLAN_DBM = -65.0  # median predicted RSSI should be at or above this
PLAN_P90_DBM = -72.0  # the 90th-percentile value (median - 1.28 sigma) should stay at or above this
CRITICAL_DBM = -75.0  # below: critical (the WeakSignal / LowerThreshold alarm level)
P90_Z = 1.28  # one-sided 90 % point of the normal distribution
SHADOWING_SIGMA_DB = 5.0  # log-normal shadowing (connectivity.md §1.2, P.1238-13 office NLoS sigma ~ 5 dB)

# Vehicle blockage, 3GPP TR 37.885 NLOSv (connectivity.md §1.4): (mean dB, sigma dB) plus a distance term.
CAR_ROOFLINE_M = 1.6  # blocker height of a car (trucks: 3 m)
CAR_BOTH_BELOW_DB = (9.0, 4.5)
CAR_ONE_ABOVE_DB = (5.0, 4.0)


@dataclass(frozen=True, kw_only=True, slots=True)
class Material:
    """One row of connectivity.md §1.3: the suggested default loss per wall crossing at normal incidence."""

    name: str
    label: str
    loss_db: PerBand
    thickness_mm: float | None = None  # the row's thickness (None: an assembly, no thickness to vary)
    family: str | None = None  # rows of one family are interpolated by thickness

    def loss(self, band: Band) -> float:
        return self.loss_db[band.slot]


# connectivity.md §1.3 "Suggested default" per row (2.4 / 5 / 6 GHz). Earth: the section says "treat as
# opaque (more than 25 dB at 2.4 GHz)"; 60 / 80 dB at 5 / 6 GHz lie between its P.2040 very-dry and
# medium-dry 300 mm values and are far past any link budget either way.
def _row(
    name: str, label: str, loss_db: PerBand, thickness_mm: float | None = None, family: str | None = None
) -> Material:
    return Material(name=name, label=label, loss_db=loss_db, thickness_mm=thickness_mm, family=family)


MATERIALS: dict[str, Material] = {
    m.name: m
    for m in (
        _row("stud-wall", "stud wall (gypsum + 89 mm cavity + gypsum)", (3, 3, 3)),
        _row("wood-door", "solid wood door 44 mm", (2, 3, 4)),
        _row("lumber-wall", "lumber / plank wall", (4, 7, 8), 56, "timber"),
        _row("heavy-timber", "heavy timber / log", (7, 12, 14), 200, "timber"),
        _row("brick", "brick, single wythe", (5, 8, 9), 90, "brick"),
        _row("brick-double", "brick, double wythe", (8, 14, 16), 190, "brick"),
        _row("brick-veneer", "brick-veneer exterior wall", (7, 9, 10)),
        _row("hollow-cmu", "hollow concrete block (CMU)", (14, 15, 16), 197),
        _row("concrete-100mm", "concrete 100 mm / grouted CMU", (10, 18, 20), 100, "concrete"),
        _row("concrete-150mm", "poured concrete 150 mm", (12, 20, 23), 150, "concrete"),
        _row("concrete-200mm", "poured concrete 200 mm", (15, 27, 30), 200, "concrete"),
        _row("concrete-300mm", "poured concrete 300 mm", (21, 39, 44), 300, "concrete"),
        _row("glass", "clear glass, single", (1, 2, 2)),
        _row("double-glazing", "double glazing, clear", (2, 6, 8)),
        _row("low-e-glass", "low-E double glazing", (24, 28, 30)),
        _row("metal", "metal (steel door, garage door)", (40, 40, 40)),
        _row("earth", "earth / soil 300 mm", (25, 60, 80), 300),
        _row("timber-floor", "timber-joist floor", (5, 7, 8)),
    )
}
FAMILIES = ("concrete", "brick", "timber")
WALL_LOSS_DB = {name: m.loss_db for name, m in MATERIALS.items()}  # the simulator's view: name -> 2.4/5/6


class MaterialError(ValueError):
    """A material name or thickness the table cannot price; the message says what to write instead."""


def known_materials() -> tuple[str, ...]:
    return (*MATERIALS, *FAMILIES)


def family_rows(family: str) -> list[Material]:
    return sorted((m for m in MATERIALS.values() if m.family == family), key=lambda m: m.thickness_mm or 0.0)


def wall_loss_db(name: str, band: Band, thickness_mm: float | None = None) -> float:
    """Loss of one crossing of a wall of material ``name`` (a row or a family with ``thickness_mm``)."""
    if thickness_mm is None:
        if name in FAMILIES and name not in MATERIALS:
            rows = family_rows(name)
            span = f"{rows[0].thickness_mm:g}-{rows[-1].thickness_mm:g} mm"
            raise MaterialError(f"{name} needs a thickness ({span}); add thickness_mm")
        return material(name).loss(band)
    if name in FAMILIES:
        return _interpolate(family_rows(name), band, thickness_mm)
    row = material(name)  # raises on an unknown name
    if row.family is None:
        raise MaterialError(f"{name} is a fixed assembly; remove thickness_mm or use one of {', '.join(FAMILIES)}")
    if thickness_mm != row.thickness_mm:
        raise MaterialError(
            f"{name} is {row.thickness_mm:g} mm; for {thickness_mm:g} mm write material = {row.family!r} "
            "with thickness_mm, or drop thickness_mm"
        )
    return row.loss(band)


def _interpolate(rows: list[Material], band: Band, thickness_mm: float) -> float:
    """Piecewise-linear in thickness through the family's rows; through 0 dB at 0 mm below the thinnest row
    and along the last segment beyond the thickest (a lossy slab's dB grow about linearly with thickness)."""
    points = [(0.0, 0.0), *((m.thickness_mm or 0.0, m.loss(band)) for m in rows)]
    for (t0, l0), (t1, l1) in itertools.pairwise(points):
        if thickness_mm <= t1:
            return l0 + (l1 - l0) * (thickness_mm - t0) / (t1 - t0)
    (t0, l0), (t1, l1) = points[-2], points[-1]
    return l1 + (l1 - l0) * (thickness_mm - t1) / (t1 - t0)


def material(name: str) -> Material:
    """The table row ``name``; an unknown name raises with the closest names and the whole list."""
    try:
        return MATERIALS[name]
    except KeyError:
        known = known_materials()
        raise MaterialError(f"unknown material {name!r}{suggest(name, known)}; known: {', '.join(known)}") from None


def suggest(word: str, choices: tuple[str, ...] | list[str]) -> str:
    """The tail "; did you mean 'x'?" when a choice is close to ``word`` (else ""): the tail of a one-line error."""
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def free_space_db(distance_m: float, band: Band) -> float:
    """Free-space loss with n = 2 over ``distance_m`` (clamped to the 1 m reference distance)."""
    return FREE_SPACE_1M_DB[band] + 20.0 * math.log10(max(distance_m, 1.0))


def car_loss_db(*, ap_above: bool, charger_above: bool, distance_m: float) -> tuple[float, float]:
    """(mean, sigma) dB of a car body in the path, TR 37.885 NLOSv (connectivity.md §1.4): 0 when both
    antennas clear the roofline, 5 +- 4 when one does, 9 +- 4.5 when neither, plus max(0, 15 log10 d - 41)."""
    if ap_above and charger_above:
        return 0.0, 0.0
    mean, sigma = CAR_ONE_ABOVE_DB if (ap_above or charger_above) else CAR_BOTH_BELOW_DB
    return mean + max(0.0, 15.0 * math.log10(max(distance_m, 1.0)) - 41.0), sigma
