"""Safe transitions: an increase waits until the decreases that make room for it are in force.

A new limit reaches each charger one profile round trip later, in no particular order, so for a moment a car
may still draw its old limit while another already draws its raised one. :func:`hold` lowers this cycle's
increases wherever the worst moment of the change (each session at the larger of its old and new limit) would
overload a node phase or power limit; the held sessions get the rest next cycle, when the lower limits are
the old ones. A session starting from 0 that would be left under its minimum waits at 0 instead.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from chargewise.charging.fill import EPS, Rows
from chargewise.charging.needs import Need
from chargewise.charging.problem import Problem
from chargewise.charging.state import EvseLimit


def hold(
    problem: Problem, needs: list[Need], x: list[float], phases: list[int], last: Mapping[str, EvseLimit]
) -> dict[int, int]:
    """Lower increases in ``x`` in place so every physical row holds at the worst moment of the change.
    Returns the held sessions with the row that held each."""
    rows = problem.rows
    old: list[dict[int, float]] = []
    for nd in needs:
        prev = last.get(nd.evse.id)
        terms = problem.terms(nd.evse, prev.phases) if prev is not None and prev.limit_a > 0 else []
        old.append({row: coef * prev.limit_a for row, coef in terms} if prev is not None else {})
    new_terms = [dict(problem.terms(nd.evse, phases[i])) for i, nd in enumerate(needs)]
    held: dict[int, int] = {}
    for _ in range(len(rows.names) + 1):  # each pass settles one row for good
        extra: dict[int, float] = defaultdict(float)
        raisers: dict[int, list[int]] = defaultdict(list)
        for i in range(len(needs)):
            for row in old[i].keys() | new_terms[i].keys():
                before, after = old[i].get(row, 0.0), new_terms[i].get(row, 0.0) * x[i]
                if before > after:
                    extra[row] += before - after
                elif after > before + EPS:
                    raisers[row].append(i)
        over = [(row, extra[row] - rows.slack[row]) for row in raisers if extra[row] - rows.slack[row] > EPS]
        if not over:
            break
        row, excess = over[0]
        _lower(rows, row, excess, raisers[row], needs, x, old, new_terms, held)
    return held


def _lower(
    rows: Rows, row: int, excess: float, raisers: list[int], needs: list[Need], x: list[float],
    old: list[dict[int, float]], new_terms: list[dict[int, float]], held: dict[int, int],
) -> None:  # fmt: skip
    """Take ``excess`` off the raisers' increases on ``row``, each in proportion to its increase."""
    rises = {i: new_terms[i][row] * x[i] - old[i].get(row, 0.0) for i in raisers}
    share = min(1.0, excess / sum(rises.values()))
    for i, rise in rises.items():
        lowered = x[i] - share * rise / new_terms[i][row]
        if lowered < needs[i].evse.min_a - EPS:
            lowered = 0.0  # from 0 and under the minimum: wait at 0
        for r, coef in new_terms[i].items():
            rows.slack[r] += coef * (x[i] - lowered)
        x[i] = lowered
        held[i] = row
