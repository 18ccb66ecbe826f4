"""The ACN planner's forecast of arrivals (chargewise.bench.forecast): pure, with periods and days as data."""

from __future__ import annotations

from datetime import datetime

import pytest

from chargewise.bench.forecast import DAYS, History, Seen, presence

FRIDAY = datetime(2019, 3, 1)  # the ACN workload's first day
PER_DAY = 288  # 5-minute periods


def car(day: int, hour: float, stay_h: float = 8.0, kwh: float = 10.0, station: str = "A") -> Seen:
    arrival = day * PER_DAY + round(hour * 12)
    return Seen(arrival=arrival, departure=arrival + round(stay_h * 12), energy_kwh=kwh, max_amps=32.0,
                station=station)  # fmt: skip


def history(*cars: Seen) -> History:
    h = History(start=FRIDAY, period_min=5.0)
    for k, c in enumerate(cars):
        h.note(f"s{k}", c)
    return h


def same(station: str) -> str:
    return "one group"


def exact(offset: int) -> int:
    return offset


def test_a_weekday_is_forecast_from_past_weekdays_only() -> None:
    # Friday (day 0) has a car at 09:00; Saturday (day 1) one at 10:00; on Monday (day 3) at 08:00 the
    # Friday car is expected at 09:00 (one hour ahead) and the Saturday car is not
    h = history(car(0, 9.0), car(1, 10.0, kwh=99.0))
    now = 3 * PER_DAY + 8 * 12
    expected = h.expected(now, same, snap=exact)
    assert [(e.arrival, e.departure, e.energy_kwh) for e in expected] == [(12, 12 + 96, 10.0)]
    assert h.knows(now)


def test_no_forecast_without_a_past_day_of_the_same_kind() -> None:
    h = history(car(0, 9.0))
    saturday_morning = 1 * PER_DAY + 6 * 12
    assert h.expected(saturday_morning, same, snap=exact) == []
    assert not h.knows(saturday_morning)
    assert not history().knows(0)


def test_only_arrivals_after_now_and_within_the_window() -> None:
    h = history(car(0, 7.0), car(0, 9.0), car(0, 21.5))
    now = 3 * PER_DAY + 8 * 12  # Monday 08:00: 07:00 has passed, 21:30 is 13.5 h ahead (beyond 12 h)
    assert [e.arrival for e in h.expected(now, same, snap=exact)] == [12]


def test_past_days_are_averaged_and_merged_per_group_and_block() -> None:
    # three past weekdays (Fri, Mon, Tue) with two, one and zero cars at 09:00: on Wednesday one aggregate of
    # (2 + 1) / 3 cars, energy and amps weighed alike; a car on another group stays apart
    cars = [car(0, 9.0), car(0, 9.0), car(3, 9.0), car(4, 12.0, station="B")]
    h = history(*cars)

    def group(station: str) -> str:
        return station

    now = 5 * PER_DAY + 8 * 12
    expected = h.expected(now, group, snap=exact)
    nine = [e for e in expected if e.station == "A"]
    assert len(nine) == 1 and nine[0].energy_kwh == pytest.approx(30.0 / DAYS) and nine[0].max_amps == pytest.approx(
        96.0 / DAYS)  # fmt: skip
    assert [e.station for e in expected if e.station != "A"] == ["B"]


def test_snap_merges_cars_in_one_block() -> None:
    h = history(car(0, 9.0), car(0, 9.25))
    now = 3 * PER_DAY + 8 * 12

    def hourly(offset: int) -> int:
        return offset - offset % 12

    expected = h.expected(now, same, snap=hourly)
    assert len(expected) == 1 and expected[0].energy_kwh == pytest.approx(20.0)


def test_tomorrow_morning_is_forecast_in_the_evening() -> None:
    h = history(car(0, 7.0))
    now = 0 * PER_DAY + 22 * 12  # Friday 22:00; Saturday has no weekend history, so nothing
    assert h.expected(now, same, snap=exact) == []
    thursday_night = 6 * PER_DAY + 22 * 12  # Thursday 22:00 (day 6): Friday 07:00 is 9 h ahead
    assert [e.arrival for e in h.expected(thursday_night, same, snap=exact)] == [9 * 12]


@pytest.mark.parametrize(
    ("arrival", "departure", "grid", "fractions"),
    [
        (0, 3, [1, 1, 1], [1.0, 1.0, 1.0]),
        (1, 2, [1, 1, 1], [0.0, 1.0, 0.0]),
        (2, 9, [1, 3, 12], [0.0, 2 / 3, 5 / 12]),
        (20, 30, [1, 3, 12], [0.0, 0.0, 0.0]),
    ],
)
def test_presence(arrival: int, departure: int, grid: list[int], fractions: list[float]) -> None:
    assert presence(arrival, departure, grid) == pytest.approx(fractions)
