"""Read the planner's scenario files (tests/charging/cases/plan/*.json) into `PlanRequest`s."""

from __future__ import annotations

import cmath
import json
import math
from datetime import datetime
from pathlib import Path
from typing import Any

from chargewise.charging.plan import Limit, PlanRequest, Session, Slots

CASES = Path(__file__).parent / "cases" / "plan"


def load(path: Path) -> tuple[PlanRequest, dict[str, Any]]:
    doc = json.loads(path.read_text())
    n = doc["count"]
    slots = Slots.uniform(start=datetime.fromisoformat(doc["start"]), minutes=doc["minutes"], count=n)
    sessions = [
        Session(
            id=s["id"],
            energy_kwh=float(s["energy_kwh"]),
            arrival=s.get("arrival", 0),
            departure=s["departure"],
            max_amps=float(s["max_amps"]),
            min_amps=float(s.get("min_amps", 0.0)),
            kw_per_amp=float(s["kw_per_amp"]),
            weight=float(s.get("weight", 1.0)),
        )
        for s in doc["sessions"]
    ]
    phasors = doc.get("phasors", {})
    limits = []
    for lim in doc["limits"]:
        if "matrix" in lim:
            coef = {k: v * cmath.exp(1j * math.radians(phasors[k])) for k, v in lim["matrix"].items()}
        else:
            coef = {k: complex(v) for k, v in lim["coefficients"].items()}
        caps = tuple(float(c) for c in lim.get("caps", [lim.get("cap", 0.0)] * n))
        notes = {int(k): v for k, v in lim.get("notes", {}).items()}
        limits.append(Limit(name=lim["name"], coefficients=coef, caps=caps, unit=lim.get("unit", "A"), notes=notes))
    prices = tuple(float(p) for p in doc["prices"]) or (0.0,) * n
    request = PlanRequest(
        slots=slots, sessions=sessions, limits=limits, prices=prices, demand_charge=float(doc.get("demand_charge", 0))
    )
    return request, doc["expect"]


def all_cases() -> list[Path]:
    return sorted(CASES.glob("*.json"))
