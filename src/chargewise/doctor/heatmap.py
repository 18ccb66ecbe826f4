"""Draw a plan's coverage grid as a PNG: predicted RSSI as colour with the -65 / -75 dBm contours, walls
coloured by material, APs, the charger and the parked car.

Call :func:`render_png` with the plan, a :class:`chargewise.doctor.coverage.Grid` and the charger's budget on
that band; it returns the PNG bytes (the caller writes them). Uses matplotlib's Agg canvas directly (no
pyplot, no global backend state), so it runs headless and in parallel tests.
"""

from __future__ import annotations

import io
import math

from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from chargewise.doctor.coverage import Grid
from chargewise.doctor.materials import CRITICAL_DBM, PLAN_DBM
from chargewise.doctor.plan import Plan
from chargewise.doctor.rf import Budget

SIZE_PX = (1200, 800)
DPI = 100
RSSI_RANGE_DBM = (-95.0, -35.0)
WALL_COLOURS = (  # (material name prefix, colour, legend label)
    ("concrete", "#4d4d4d", "concrete"),
    ("hollow-cmu", "#7a7a7a", "concrete block"),
    ("brick", "#a0522d", "brick"),
    ("earth", "#5c4033", "earth"),
    ("metal", "#000000", "metal"),
    ("low-e-glass", "#1f6f8b", "low-E glass"),
    ("glass", "#5bc0de", "glass"),
    ("double-glazing", "#5bc0de", "glass"),
    ("stud-wall", "#c8b88a", "stud wall"),
    ("wood-door", "#8b6914", "wood"),
    ("lumber-wall", "#8b6914", "wood"),
    ("heavy-timber", "#8b6914", "wood"),
    ("timber", "#8b6914", "wood"),
)


def wall_style(material: str) -> tuple[str, str]:
    """(colour, legend label) for a wall material."""
    for prefix, colour, label in WALL_COLOURS:
        if material.startswith(prefix):
            return colour, label
    return "#999999", material


def render_png(plan: Plan, grid: Grid, charger: Budget | None, size_px: tuple[int, int] = SIZE_PX) -> bytes:
    """The heat map as PNG bytes of exactly ``size_px`` pixels."""
    fig = Figure(figsize=(size_px[0] / DPI, size_px[1] / DPI), dpi=DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    b = plan.bounds
    half = plan.grid_m / 2
    values = [list(row) for row in grid.rssi_dbm]  # NaN (no AP offers the band) is drawn grey
    offered = any(not math.isnan(v) for row in values for v in row)
    image = ax.imshow(
        values,
        origin="lower",
        extent=(b.x0 - half, b.x1 + half, b.y0 - half, b.y1 + half),
        cmap=colormaps["RdYlGn"].with_extremes(bad="#d9d9d9"),
        vmin=RSSI_RANGE_DBM[0],
        vmax=RSSI_RANGE_DBM[1],
        interpolation="bilinear",
    )
    fig.colorbar(image, ax=ax, label=f"predicted median RSSI at the charger's height, {grid.band.label} (dBm)")
    if offered and len(grid.xs) > 1 and len(grid.ys) > 1:
        lines = ax.contour(
            grid.xs,
            grid.ys,
            values,
            levels=[CRITICAL_DBM, PLAN_DBM],
            colors=["#6a0000", "#003300"],
            linestyles=["dashed", "solid"],
            linewidths=1.6,
        )
        ax.clabel(lines, fmt={CRITICAL_DBM: f"{CRITICAL_DBM:.0f}", PLAN_DBM: f"{PLAN_DBM:.0f}"}, fontsize=9)
    _draw_plan(ax, plan, grid, charger)
    title = f"{plan.name}: {grid.band.label}" + ("" if offered else " (no AP offers this band)")
    if charger is not None:
        title += f"; charger {charger.median_dbm:.0f} dBm from {charger.ap} ({charger.verdict})"
    if grid.band not in plan.charger.bands:
        title += f"\n(the charger's radio has no {grid.band.label}: a what-if)"
    ax.set_title(title)
    ax.set_xlabel("x (m)")
    ax.set_ylabel("y (m)")
    ax.set_xlim(b.x0, b.x1)
    ax.set_ylim(b.y0, b.y1)
    ax.set_aspect("equal")
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=DPI)
    return out.getvalue()


def _draw_plan(ax: Axes, plan: Plan, grid: Grid, charger: Budget | None) -> None:
    legend: dict[str, Line2D] = {}
    for wall in plan.walls:
        colour, label = wall_style(wall.material)
        width = 2.0 + min(wall.loss_db[grid.band.slot], 40.0) / 5.0  # thicker = lossier on this band
        ax.plot(
            [wall.start.x, wall.end.x], [wall.start.y, wall.end.y], color=colour, linewidth=width, solid_capstyle="butt"
        )
        legend.setdefault(label, Line2D([], [], color=colour, linewidth=4, label=label))
    if plan.car is not None:
        box = plan.car.box
        ax.add_patch(
            Rectangle(
                (box.x0, box.y0),
                box.x1 - box.x0,
                box.y1 - box.y0,
                facecolor="#3050a0",
                alpha=0.35,
                edgecolor="#102050",
                hatch="//",
                linewidth=1.5,
            )
        )
        ax.annotate(
            "parked car",
            (box.x0, box.y1),
            textcoords="offset points",
            xytext=(4, -4),
            ha="left",
            va="top",
            fontsize=9,
            color="#102050",
        )
    for ap in plan.aps:
        offered = grid.band in ap.bands
        ax.plot(
            ap.at.x,
            ap.at.y,
            marker="^",
            markersize=13,
            color="#1040c0" if offered else "#909090",
            markeredgecolor="white",
        )
        text = ap.name if offered else f"{ap.name} (no {grid.band.label})"
        _label(ax, plan, ap.at.x, ap.at.y, text, 8)
    c = plan.charger
    ax.plot(c.at.x, c.at.y, marker="*", markersize=18, color="#ffd700", markeredgecolor="black")
    _label(ax, plan, c.at.x, c.at.y, c.name if charger is None else f"{c.name}\n{charger.median_dbm:.0f} dBm", -24)
    legend["AP"] = Line2D([], [], marker="^", linestyle="", color="#1040c0", markersize=10, label="AP / mesh node")
    legend["charger"] = Line2D(
        [], [], marker="*", linestyle="", color="#ffd700", markeredgecolor="black", markersize=12, label="charger"
    )
    legend["-65"] = Line2D([], [], color="#003300", label=f"{PLAN_DBM:.0f} dBm (plan for)")
    legend["-75"] = Line2D([], [], color="#6a0000", linestyle="dashed", label=f"{CRITICAL_DBM:.0f} dBm (critical)")
    ax.legend(handles=list(legend.values()), loc="upper left", fontsize=8, framealpha=0.85)


def _label(ax: Axes, plan: Plan, x: float, y: float, text: str, dy: float) -> None:
    """A bold label beside a marker, on the side with room (left of it in the right half of the plan)."""
    right_half = x > (plan.bounds.x0 + plan.bounds.x1) / 2
    ax.annotate(
        text,
        (x, y),
        textcoords="offset points",
        xytext=(-10 if right_half else 10, dy),
        fontsize=9,
        weight="bold",
        ha="right" if right_half else "left",
        bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "alpha": 0.7, "linewidth": 0},
    )
