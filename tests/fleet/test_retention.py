from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chargewise.fleet.retention import Kept, Retention, to_delete

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def kept(name: str, days_ago: float) -> Kept:
    return Kept(id=name, at=NOW - timedelta(days=days_ago))


def test_records_past_the_age_go_then_the_oldest_beyond_the_count() -> None:
    records = [kept("new", 0), kept("old", 40), kept("mid", 10), kept("older", 20), kept("ancient", 31)]
    assert to_delete(records, Retention(days=30, count=10), NOW) == ["old", "ancient"]
    assert to_delete(records, Retention(days=30, count=2), NOW) == ["old", "ancient", "older"]
    assert to_delete(records, Retention(days=365, count=0), NOW) == ["old", "ancient", "older", "mid", "new"]


def test_nothing_goes_within_both_limits() -> None:
    assert to_delete([kept("a", 1), kept("b", 2)], Retention(), NOW) == []
