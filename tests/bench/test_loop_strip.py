"""The benchmark's view of the server's event loop per interval: how busy it was and its CPU per call, and the
tail intervals compared with the calm ones."""

from __future__ import annotations

import pytest
from bench.report import cost_strip
from bench.scenario import count_strip, loop_strips, tail_vs_calm


def test_answers_per_interval_are_added_over_the_generators_and_kept_to_the_window() -> None:
    answers = [{"count": {"0": 10, "1": 5}}, {"count": {"1": 7, "4": 3}}, {}]
    assert count_strip(answers, 1.0) == [10, 12, 0, 0]  # "4" was answered after the window closed


def test_the_loop_share_and_cpu_per_call_come_from_the_cpu_used_between_two_boundaries() -> None:
    samples = [(100.0, 0, 0), (100.25, 250_000_000, 0), (100.5, 375_000_000, 50_000_000),
               (100.75, 375_000_000, 50_000_000)]  # fmt: skip
    busy, waited, cost = loop_strips(samples, [1000, 250, 0])
    assert busy == [1.0, 0.5, 0.0]
    assert waited == [0.0, 0.2, 0.0]
    assert cost == [250.0, 500.0, 0.0]  # 250 ms of CPU over 1000 calls; none answered: no figure


def test_tail_intervals_are_compared_with_the_calm_ones_by_their_medians() -> None:
    worst = [10.0, 12.0, 80.0, 300.0, 9.0, 0.0]
    busy = [0.7, 0.8, 1.0, 0.98, 0.75, 0.0]
    waited = [0.01, 0.02, 0.0, 0.3, 0.03, 0.0]
    cost = [100.0, 110.0, 150.0, 170.0, 90.0, 0.0]
    found = tail_vs_calm(worst, busy, waited, cost)
    assert (found["tail_strips"], found["calm_strips"]) == (2, 3)
    assert found["loop_busy_tail"] == pytest.approx(0.99)
    assert found["loop_busy_calm"] == 0.75
    assert (found["loop_waited_tail"], found["loop_waited_calm"]) == (0.15, 0.02)
    assert found["loop_us_per_call_tail"] == 160.0
    assert found["loop_us_per_call_calm"] == 100.0
    assert found["cost_ratio"] == 1.6


def test_without_tail_intervals_there_is_no_ratio() -> None:
    found = tail_vs_calm([5.0, 6.0], [0.5, 0.6], [0.0, 0.0], [100.0, 100.0])
    assert found["tail_strips"] == 0
    assert found["cost_ratio"] is None


def test_one_cost_glyph_per_interval_relative_to_the_calm_median() -> None:
    assert cost_strip([100.0, 125.0, 210.0, 0.0], 100.0) == "▁▃█ "
    assert cost_strip([100.0], None) == " "
