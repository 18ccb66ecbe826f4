"""Build ``DemandEvent``s from the compact JSON rows of ``tests/charging/cases/demand_*.json``."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from chargewise.charging.demand import Cap, DemandEvent, Opt, Price, Shed, Signal, Slot

CASES = Path(__file__).parent / "cases"


def load(name: str) -> Any:
    return json.loads((CASES / name).read_text())


def when(text: str) -> datetime:
    return datetime.fromisoformat(text)


def signal(row: dict[str, Any]) -> Signal:
    if "cap_kw" in row:
        return Cap(kw=row["cap_kw"])
    if "shed" in row:
        return Shed(fraction=row["shed"], basis=row.get("basis", "limit"))
    return Price(per_kwh=row["price"])


def event(row: dict[str, Any]) -> DemandEvent:
    opt = row.get("opt", "optIn")
    return DemandEvent(
        id=row["id"],
        source="rest",
        start=when(row["start"]),
        end=when(row["end"]),
        node=row.get("node", "main"),
        signal=signal(row),
        status=row.get("status", "far"),
        opt=None if opt is None else Opt(kind=opt, by="test"),
    )


def slots(row: dict[str, Any]) -> list[Slot]:
    start, step = when(row["start"]), timedelta(minutes=row["minutes"])
    return [(start + i * step, step) for i in range(row["count"])]
