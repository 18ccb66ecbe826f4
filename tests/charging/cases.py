"""Scenario cases (``cases/*.toml``): a site file's tables plus ``[case]`` and ``[[cycles]]``. Each cycle is a
state document (``now``, ``meter``, ``evses``; see docs/sites.md), optional demand-response ``caps`` and an
``expect`` table; the cycles run in order, each result passed to the next as ``previous``."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from chargewise.charging.allocate import allocate
from chargewise.charging.sitefile import SiteFile, parse_data
from chargewise.charging.state import Allocation, SiteState
from chargewise.charging.statefile import parse_state

CASES = Path(__file__).parent / "cases"


@dataclass(frozen=True, kw_only=True)
class Cap:
    start: datetime
    end: datetime
    node: str
    cap_kw: float


@dataclass(frozen=True, kw_only=True)
class Step:
    index: int
    state: SiteState
    caps: tuple[Cap, ...]
    previous: Allocation | None
    result: Allocation
    expect: dict[str, Any]


def load(path: Path) -> tuple[dict[str, Any], SiteFile]:
    raw = tomllib.loads(path.read_text())
    meta = raw.pop("case")
    cycles = raw.pop("cycles")
    return {"meta": meta, "cycles": cycles}, parse_data(raw)


def run(path: Path) -> Iterator[tuple[SiteFile, Step]]:
    """Every cycle of the case, allocated in order."""
    case, loaded = load(path)
    previous: Allocation | None = None
    for index, cycle in enumerate(case["cycles"]):
        cycle = dict(cycle)
        expect = cycle.pop("expect", {})
        caps = tuple(Cap(**c) for c in cycle.pop("caps", []))
        for _ in range(cycle.pop("repeat", 1)):
            now, state = parse_state(cycle, loaded.site, f"cycles[{index}]")
            result = allocate(loaded.site, state, now, previous, loaded.policy, caps)
            yield loaded, Step(index=index, state=state, caps=caps, previous=previous, result=result, expect=expect)
            previous = result


def files() -> list[Path]:
    return sorted(p for p in CASES.glob("*.toml") if not p.name.startswith("sitefile"))
