"""What to change in a garage so the charger's Wi-Fi holds: recommendations from the RF model's predictions.

Call :func:`advise` with the plan and :func:`chargewise.doctor.rf.predict`'s results; the advice comes most
useful first. Each item names what to do, where, and the RSSI the model predicts after the change.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass

from chargewise.doctor.coverage import NODE_HEIGHT_M, best_move, best_new_node
from chargewise.doctor.materials import Band
from chargewise.doctor.plan import Plan
from chargewise.doctor.rf import BandResult, Budget, Verdict, to_charger, verdict

ROAM_DELTA_DB = 8.0  # a client roams to a candidate 8 dB stronger (connectivity.md §1.5, Apple deployment)
WORTH_DB = 3.0  # a move or a new node is advised only when it gains at least this much


class AdviceKind(enum.StrEnum):
    OK = "ok"
    ENABLE_BAND = "enable_band"  # the charger's radio has a band no AP offers
    IOT_SSID = "iot_ssid"  # 2.4 GHz passes where 5/6 GHz fails: a 2.4 GHz-only SSID for IoT
    PIN_NODE = "pin_node"  # several mesh nodes; one is far better: pin the charger to it
    CAR_PATH = "car_path"  # a parked car is in the path and costs the verdict
    MOVE_AP = "move_ap"
    ADD_NODE = "add_node"


@dataclass(frozen=True, kw_only=True, slots=True)
class Advice:
    kind: AdviceKind
    text: str
    band: Band | None = None
    predicted_dbm: float | None = None  # the charger's median RSSI after the change


def _fmt(b: Budget) -> str:
    return f"{b.median_dbm:.0f} dBm ({b.verdict})"


def _usable(results: tuple[BandResult, ...]) -> list[Budget]:
    return [r.best for r in results if r.charger_supports and r.best is not None]


def advise(plan: Plan, results: tuple[BandResult, ...]) -> list[Advice]:
    """The recommendations for ``plan`` given its per-band predictions (``rf.predict(plan)``)."""
    usable = _usable(results)
    if not usable:
        return _enable_band(plan, results)
    best = max(usable, key=lambda b: b.median_dbm)
    advice = [*_iot_ssid(results), *_pin_node(plan, best), *_car(plan, best)]
    if best.verdict is not Verdict.GOOD:
        advice += [*_move(plan, best), *_add_node(plan, best)]
    if not advice and best.verdict is Verdict.GOOD:
        text = f"no change needed: {best.band.label} from {best.ap} gives {_fmt(best)}, 90 % above {best.p90_dbm:.0f}"
        advice.append(Advice(kind=AdviceKind.OK, text=text, band=best.band, predicted_dbm=best.median_dbm))
    return advice


def _enable_band(plan: Plan, results: tuple[BandResult, ...]) -> list[Advice]:
    what_ifs = [b for r in results if r.charger_supports for b in r.per_ap]
    pick = max(what_ifs, key=lambda b: b.median_dbm)
    radio = ", ".join(b.label for b in plan.charger.bands)
    text = (
        f"the charger's radio has only {radio}, which no AP offers: enable {pick.band.label} on {pick.ap} "
        f"(predicted {_fmt(pick)} at the charger)"
    )
    return [Advice(kind=AdviceKind.ENABLE_BAND, text=text, band=pick.band, predicted_dbm=pick.median_dbm)]


def _iot_ssid(results: tuple[BandResult, ...]) -> list[Advice]:
    by_band = {r.band: r.best for r in results if r.charger_supports and r.best is not None}
    low = by_band.get(Band.G2_4)
    failing = [b for band, b in by_band.items() if band is not Band.G2_4 and b.verdict is not Verdict.GOOD]
    if low is None or low.verdict is not Verdict.GOOD or not failing:
        return []
    worse = ", ".join(f"{b.band.label} {_fmt(b)}" for b in failing)
    text = (
        f"put the charger on a 2.4 GHz-only IoT SSID: 2.4 GHz gives {_fmt(low)} but {worse}; band steering "
        "or a shared SSID can push the charger onto the failing band"
    )
    return [Advice(kind=AdviceKind.IOT_SSID, text=text, band=Band.G2_4, predicted_dbm=low.median_dbm)]


def _pin_node(plan: Plan, best: Budget) -> list[Advice]:
    nodes = [to_charger(plan, ap, best.band) for ap in plan.aps if ap.mesh_node and best.band in ap.bands]
    if len(nodes) < 2:
        return []
    top = max(nodes, key=lambda b: b.median_dbm)
    weak = [
        b
        for b in nodes
        if b is not top and top.median_dbm - b.median_dbm >= ROAM_DELTA_DB and b.verdict is not Verdict.GOOD
    ]
    if not weak:
        return []
    others = ", ".join(f"{b.ap} {_fmt(b)}" for b in weak)
    text = (
        f"pin the charger to mesh node {top.ap} (BSSID lock or per-client steering): {_fmt(top)} there, "
        f"but {others}; an ESP32-class charger keeps the first AP it finds and rarely roams"
    )
    return [Advice(kind=AdviceKind.PIN_NODE, text=text, band=top.band, predicted_dbm=top.median_dbm)]


def _car(plan: Plan, best: Budget) -> list[Advice]:
    if best.car_db <= 0 or plan.car is None:
        return []
    ap = next(a for a in plan.aps if a.name == best.ap)
    clear = to_charger(plan, ap, best.band, with_car=False)
    if best.verdict is Verdict.GOOD and clear.verdict is Verdict.GOOD:
        return []
    roof = plan.car.roofline_m
    text = f"the parked car costs {best.car_db:.0f} dB on the path from {ap.name}: without it {_fmt(clear)}; "
    after = clear
    if ap.height_m <= roof:
        height = roof + 0.6
        after = to_charger(plan, dataclasses.replace(ap, height_m=height), best.band)
        text += f"mount {ap.name} above the {roof:g} m roofline (at {height:.1f} m: {_fmt(after)}) or "
    text += "move the AP or the charger so the straight path misses the car"
    return [Advice(kind=AdviceKind.CAR_PATH, text=text, band=best.band, predicted_dbm=after.median_dbm)]


def _move(plan: Plan, best: Budget) -> list[Advice]:
    ap = next(a for a in plan.aps if a.name == best.ap)
    spot = best_move(plan, ap, best.band)
    if spot is None or spot.charger.median_dbm < best.median_dbm + WORTH_DB:
        return []
    text = (
        f"move {ap.name} within its room to ({spot.at.x:.1f}, {spot.at.y:.1f}) m: the charger gets "
        f"{_fmt(spot.charger)} on {best.band.label} instead of {best.median_dbm:.0f} dBm"
    )
    return [Advice(kind=AdviceKind.MOVE_AP, text=text, band=best.band, predicted_dbm=spot.charger.median_dbm)]


def _add_node(plan: Plan, best: Budget) -> list[Advice]:
    spot = best_new_node(plan, best.band)
    if spot is None or spot.charger.median_dbm < best.median_dbm + WORTH_DB:
        return []
    feed = spot.backhaul
    backhaul = "" if feed is None else f", its backhaul from {feed.ap} {_fmt(feed)} on {feed.band.label}"
    text = (
        f"add a mesh node at ({spot.at.x:.1f}, {spot.at.y:.1f}) m, mounted at "
        f"{NODE_HEIGHT_M:g} m: the charger gets {_fmt(spot.charger)} on "
        f"{best.band.label}{backhaul}"
    )
    if feed is not None and verdict(feed.median_dbm, feed.p90_dbm) is Verdict.CRITICAL:
        text += "; the backhaul would be critical, so wire that node (Ethernet or powerline)"
    wired = best_new_node(plan, best.band, wired=True)
    if wired is not None and wired.charger.median_dbm >= spot.charger.median_dbm + WORTH_DB:
        text += (
            f"; a wired AP (Ethernet or powerline backhaul) at ({wired.at.x:.1f}, {wired.at.y:.1f}) m would give "
            f"{_fmt(wired.charger)}"
        )
    return [Advice(kind=AdviceKind.ADD_NODE, text=text, band=best.band, predicted_dbm=spot.charger.median_dbm)]
