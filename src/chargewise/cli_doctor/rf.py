"""``chargewise doctor rf PLAN_FILE``: predict the charger's Wi-Fi in a garage plan, explain the loss budget,
say what to change, and optionally draw the heat map (docs/doctor-rf.md)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from chargewise.cli_support import UsageError, print_json
from chargewise.doctor.materials import BANDS, Band
from chargewise.doctor.plan import Plan, PlanError, parse_plan
from chargewise.doctor.rf import BandResult, Budget, predict
from chargewise.doctor.rf_advice import Advice, advise

HELP = "predict the charger's Wi-Fi from a garage plan (walls, APs, car): RSSI per band, verdict, what to change"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("plan_file", metavar="PLAN_FILE", help="the garage plan (TOML; see docs/doctor-rf.md)")
    parser.add_argument("--png", metavar="OUT.png", help="also draw the heat map of the predicted RSSI to this file")
    parser.add_argument(
        "--band",
        choices=[b.value for b in BANDS],
        help="only this band (default: all; the heat map then shows the charger's best band)",
    )
    parser.add_argument("--json", action="store_true", help="print the prediction as JSON")


def load(path: str) -> Plan:
    """The plan at ``path``, or a one-line UsageError naming the file and the field."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"PLAN_FILE: no such file {path!r}; give a plan's path (see examples/garage.toml)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"PLAN_FILE: cannot read {path!r}: {exc}") from None
    try:
        return parse_plan(text)
    except PlanError as exc:
        raise UsageError(f"{path}: {exc}") from None


async def run(args: argparse.Namespace) -> int:
    plan = load(args.plan_file)
    results = predict(plan)
    shown = tuple(r for r in results if args.band is None or r.band.value == args.band)
    advice = advise(plan, results)
    png_band = _heat_map_band(results, args.band)
    if args.png:
        _write_png(plan, results, png_band, args.png)
    if args.json:
        print_json(_as_json(plan, shown, advice, png_band if args.png else None))
    else:
        print("\n".join(_lines(plan, shown, advice)))
        if args.png:
            print(f"\nheat map ({png_band.label}): {args.png}")
    return 0


def _heat_map_band(results: tuple[BandResult, ...], chosen: str | None) -> Band:
    if chosen is not None:
        return Band(chosen)
    usable = [r.best for r in results if r.charger_supports and r.best is not None]
    return max(usable, key=lambda b: b.median_dbm).band if usable else Band.G2_4


def _write_png(plan: Plan, results: tuple[BandResult, ...], band: Band, path: str) -> None:
    from chargewise.doctor.coverage import coverage  # the grid and matplotlib only when a map is asked for
    from chargewise.doctor.heatmap import render_png

    result = next(r for r in results if r.band is band)
    try:
        Path(path).write_bytes(render_png(plan, coverage(plan, band), result.best))
    except OSError as exc:
        raise UsageError(f"--png: cannot write {path!r}: {exc.strerror or exc}; pick a writable path") from None


def _lines(plan: Plan, shown: tuple[BandResult, ...], advice: list[Advice]) -> list[str]:
    c = plan.charger
    radio = ", ".join(b.label for b in c.bands)
    lines = [f"{plan.name}: {c.name} at ({c.at.x:g}, {c.at.y:g}) m, {c.height_m:g} m up; its radio: {radio}"]
    for result in shown:
        lines += ["", *_band_lines(result)]
    lines += ["", "what to change:"]
    lines += [f"  {i}. {a.text}" for i, a in enumerate(advice, 1)]
    return lines


def _band_lines(result: BandResult) -> list[str]:
    b = result.best
    label = result.band.label
    if b is None:
        return [f"{label}: no AP offers this band"]
    note = "" if result.charger_supports else f"  (the charger's radio has no {label})"
    lines = [
        f"{label} from {b.ap}: {b.median_dbm:.0f} dBm median, 90 % of positions above {b.p90_dbm:.0f} dBm: "
        f"{b.verdict.upper()}{note}"
    ]
    lines.append(f"    {'AP EIRP':<58} {b.eirp_dbm:+7.1f} dBm")
    lines += [f"    {t.what:<58} {-t.loss_db:+7.1f} dB" for t in b.terms]
    lines.append(f"    {'= median RSSI':<58} {b.median_dbm:+7.1f} dBm")
    lines.append(f"    {f'shadowing margin (1.28 x sigma {b.sigma_db:.1f} dB)':<58} {-b.margin_db:+7.1f} dB")
    lines.append(f"    {'= 90 % of positions':<58} {b.p90_dbm:+7.1f} dBm")
    return lines


def _budget_json(b: Budget) -> dict[str, Any]:
    return {
        "ap": b.ap,
        "eirp_dbm": b.eirp_dbm,
        "distance_m": round(b.distance_m, 2),
        "losses": [{"what": t.what, "kind": t.kind, "db": round(t.loss_db, 2)} for t in b.terms],
        "median_dbm": round(b.median_dbm, 1),
        "margin_db": round(b.margin_db, 1),
        "p90_dbm": round(b.p90_dbm, 1),
        "verdict": b.verdict.value,
    }


def _as_json(plan: Plan, shown: tuple[BandResult, ...], advice: list[Advice], png: Band | None) -> dict[str, Any]:
    c = plan.charger
    return {
        "plan": plan.name,
        "charger": {"name": c.name, "position": [c.at.x, c.at.y], "bands": [b.value for b in c.bands]},
        "bands": [
            {
                "band": r.band.value,
                "charger_supports": r.charger_supports,
                "best": None if r.best is None else _budget_json(r.best),
            }
            for r in shown
        ],
        "advice": [
            {
                "kind": a.kind.value,
                "text": a.text,
                "band": a.band and a.band.value,
                "predicted_dbm": None if a.predicted_dbm is None else round(a.predicted_dbm, 1),
            }
            for a in advice
        ],
        "heat_map_band": png.value if png else None,
    }
