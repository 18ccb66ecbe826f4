"""The benchmark's strip of worst latencies: merged over the generators, then drawn one glyph per interval."""

from __future__ import annotations

from bench.report import strip
from bench.scenario import worst_strip


def test_the_worst_latency_per_interval_is_the_highest_any_generator_saw() -> None:
    answers = [{"worst": {"0": 4.0, "2": 70.0}}, {"worst": {"0": 9.5, "1": 3.0, "7": 1.0}}, {}]
    # 1 s of window in 0.25 s intervals; "7" lies past the window (answered after it closed) and is left out
    assert worst_strip(answers, 1.0) == [9.5, 3.0, 70.0, 0.0]


def test_one_glyph_per_interval_red_from_the_goal_up_and_blank_where_nothing_was_answered() -> None:
    assert strip([1.0, 9.9, 49.9, 0.0]) == "▁▂▅ "
    assert strip([50.0, 250.0]) == "[red]▆[/][red]█[/]"
