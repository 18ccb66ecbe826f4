"""Max-min fair sharing under linear limits (progressive filling, "water-filling"), with admission at a minimum.

The allocation is a small linear problem: each variable is one EVSE's current (the same on each phase it uses),
each row one node's phase (coefficient 1) or power (coefficient volts x phases) with the capacity left (its
slack). :func:`admit` raises variables to their minimum one by one, in the caller's order, while every row they
touch has room; :func:`fill` then raises all admitted variables together (a common water level) until each meets
its own cap or a full row, which is max-min fairness (Bertsekas & Gallager, *Data Networks*, 2nd ed., 6.5.2).
Both mutate the :class:`Rows` and the current values in place; cost is O((variables + rows) x events).
"""

from __future__ import annotations

from dataclasses import dataclass, field

EPS = 1e-9


@dataclass(slots=True)
class Rows:
    """Mutable working state: ``slack[k]`` capacity left in row k; ``members[k]`` (variable, coefficient)."""

    names: list[str] = field(default_factory=list)
    slack: list[float] = field(default_factory=list)
    members: list[list[tuple[int, float]]] = field(default_factory=list)

    def add(self, name: str, capacity: float) -> int:
        self.names.append(name)
        self.slack.append(capacity)
        self.members.append([])
        return len(self.names) - 1


def fits(rows: Rows, terms: list[tuple[int, float]], amount: float) -> int | None:
    """``None`` when ``amount`` more on a variable with these (row, coefficient) terms fits, else the first full row."""
    for row, coef in terms:
        if rows.slack[row] < coef * amount - EPS:
            return row
    return None


def take(rows: Rows, terms: list[tuple[int, float]], amount: float) -> None:
    for row, coef in terms:
        rows.slack[row] -= coef * amount


def fill(
    rows: Rows, variables: list[int], terms: list[list[tuple[int, float]]], x: list[float], cap: list[float]
) -> dict[int, int | None]:
    """Raise ``variables`` (values ``x``, already counted in the rows) max-min fairly up to ``cap``.
    Returns, per variable, the row that stopped it, or ``None`` when its own cap did."""
    stopped: dict[int, int | None] = {}
    rate: dict[int, float] = {}
    growing: set[int] = set()
    pending: set[int] = set()
    level = 0.0
    for v in variables:
        if cap[v] - x[v] <= EPS:
            stopped[v] = None
        else:
            pending.add(v)
    while pending or growing:
        for v in [v for v in pending if x[v] <= level + EPS]:
            pending.discard(v)
            growing.add(v)
            for row, coef in terms[v]:
                rate[row] = rate.get(row, 0.0) + coef
        full = [row for row, r in rate.items() if r > EPS and rows.slack[row] <= EPS]
        if full:
            _freeze_rows(full, rows, terms, growing, pending, rate, stopped)
            continue
        step = min((cap[v] - level for v in growing), default=float("inf"))
        step = min(step, min((x[v] - level for v in pending), default=float("inf")))
        for row, r in rate.items():
            if r > EPS:
                step = min(step, rows.slack[row] / r)
        step = max(step, 0.0)
        level += step
        for v in growing:
            x[v] = level
        for row, r in rate.items():
            rows.slack[row] -= r * step
        for v in [v for v in growing if cap[v] - level <= EPS]:
            x[v] = cap[v]
            _stop(v, None, terms, growing, rate, stopped)
    return stopped


def _freeze_rows(
    full: list[int],
    rows: Rows,
    terms: list[list[tuple[int, float]]],
    growing: set[int],
    pending: set[int],
    rate: dict[int, float],
    stopped: dict[int, int | None],
) -> None:
    for row in full:
        for v, _coef in rows.members[row]:
            if v in growing:
                _stop(v, row, terms, growing, rate, stopped)
            elif v in pending:
                pending.discard(v)
                stopped[v] = row
        rate.pop(row, None)


def _stop(
    v: int,
    row: int | None,
    terms: list[list[tuple[int, float]]],
    growing: set[int],
    rate: dict[int, float],
    stopped: dict[int, int | None],
) -> None:
    growing.discard(v)
    stopped[v] = row
    for r, coef in terms[v]:
        if r in rate:
            rate[r] -= coef
