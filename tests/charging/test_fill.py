"""Water-filling on a small textbook network: max-min fair, with floors and own caps."""

from __future__ import annotations

import pytest

from chargewise.charging.fill import Rows, fill, fits, take


def network(caps: tuple[float, float], members: list[list[int]]) -> tuple[Rows, list[list[tuple[int, float]]]]:
    """Row 0 and row 1 with ``caps``; ``members[v]``: the rows variable v uses (coefficient 1)."""
    rows = Rows()
    for k, cap in enumerate(caps):
        rows.add(f"r{k}", cap)
    terms = [[(row, 1.0) for row in used] for used in members]
    for v, used in enumerate(terms):
        for row, coef in used:
            rows.members[row].append((v, coef))
    return rows, terms


def test_max_min_fair() -> None:
    # r0 (10) carries v0 and v1, r1 (8) carries v1 and v2: r1 fills first at 4 each, then v0 takes r0's rest
    rows, terms = network((10.0, 8.0), [[0], [0, 1], [1]])
    x = [0.0, 0.0, 0.0]
    stopped = fill(rows, [0, 1, 2], terms, x, [100.0, 100.0, 100.0])
    assert x == pytest.approx([6.0, 4.0, 4.0])
    assert stopped == {1: 1, 2: 1, 0: 0}
    assert rows.slack == pytest.approx([0.0, 0.0])


def test_floors_and_own_caps() -> None:
    rows, terms = network((20.0, 100.0), [[0], [0], [0, 1]])
    x = [0.0, 0.0, 0.0]
    for v in range(3):
        assert fits(rows, terms[v], 6.0) is None
        take(rows, terms[v], 6.0)
        x[v] = 6.0
    assert fits(rows, terms[0], 6.0) == 0  # a fourth minimum would not fit in r0 (2 A left)
    stopped = fill(rows, [0, 1, 2], terms, x, [6.5, 100.0, 100.0])
    assert x == pytest.approx([6.5, 6.75, 6.75])  # v0 stops at its own cap, the others split the rest
    assert stopped[0] is None and stopped[1] == 0
