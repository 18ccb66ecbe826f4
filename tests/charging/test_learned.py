"""Needs learned per id token: the median energy and the median time after the arrival's time of day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from chargewise.charging.learned import LAST_N, PastSession, learn

DAY = datetime(2026, 12, 1, tzinfo=UTC)


def ended(days: int, hh: int, mm: int, kwh: float | None) -> PastSession:
    return PastSession(stopped_at=DAY + timedelta(days=days, hours=hh, minutes=mm), energy_kwh=kwh)


def test_a_commuter_arriving_at_eight_leaves_at_the_median_five_pm() -> None:
    history = [ended(0, 16, 30, 8.0), ended(1, 17, 0, 12.0), ended(2, 17, 30, 10.0)]
    got = learn(history, DAY + timedelta(days=5, hours=8))
    assert got is not None and got.energy_kwh == 10.0 and got.sessions == 3
    assert got.departure == DAY + timedelta(days=5, hours=17)


def test_a_night_charger_leaves_the_next_morning_across_midnight() -> None:
    history = [ended(0, 7, 15, 20.0), ended(1, 7, 30, 22.0), ended(2, 7, 45, None), ended(3, 7, 30, 18.0)]
    got = learn(history, DAY + timedelta(days=6, hours=18))
    assert got is not None and got.departure == DAY + timedelta(days=7, hours=7, minutes=30)
    assert got.energy_kwh == 20.0  # the unknown energy is left out


def test_too_little_history_learns_nothing_and_only_the_last_sessions_count() -> None:
    assert learn([ended(0, 17, 0, 5.0), ended(1, 17, 0, 5.0)], DAY) is None
    old = [ended(d, 12, 0, 50.0) for d in range(5)]
    new = [ended(10 + d, 17, 0, 6.0) for d in range(LAST_N)]
    got = learn(old + new, DAY + timedelta(days=30, hours=9))
    assert got is not None and got.energy_kwh == 6.0 and got.departure == DAY + timedelta(days=30, hours=17)


def test_times_of_day_are_the_sites() -> None:
    berlin = ZoneInfo("Europe/Berlin")  # UTC+1 in December: 16:00 UTC is 17:00 there
    history = [ended(d, 16, 0, 7.0) for d in range(3)]
    got = learn(history, datetime(2026, 12, 9, 8, 0, tzinfo=berlin), berlin)
    assert got is not None and got.departure == datetime(2026, 12, 9, 17, 0, tzinfo=berlin)
