"""Tariffs: slot prices from time-of-use schedules and price series (tables in cases/tariff_prices.json)."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from chargewise.charging.tariff import (
    Period,
    Season,
    Tariff,
    TariffError,
    TimeOfUse,
    demand_cost,
    period_name,
    price_series,
    prices,
    time_of_use,
)
from chargewise.charging.tariff_file import parse_price_csv, parse_price_json, parse_time_of_use

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "tariffs"
CASES = Path(__file__).parent / "cases"
PRICES = json.loads((CASES / "tariff_prices.json").read_text())


def example(name: str) -> Tariff:
    text = (EXAMPLES / name).read_text()
    if name.endswith(".toml"):
        return parse_time_of_use(text)
    if name.endswith(".csv"):
        return parse_price_csv(text, name=name, currency="EUR")
    return parse_price_json(text)


def slots(rows: list[list[Any]]) -> list[tuple[datetime, timedelta]]:
    return [(datetime.fromisoformat(start), timedelta(minutes=minutes)) for start, minutes in rows]


@pytest.mark.parametrize("case", PRICES["cases"], ids=lambda case: case["name"])
def test_prices(case: dict[str, Any]) -> None:
    fallback = example(case["fallback"]) if "fallback" in case else None
    assert fallback is None or isinstance(fallback, TimeOfUse)
    got = prices(example(case["tariff"]), slots(case["slots"]), fallback)
    assert got == pytest.approx(case["expect"])


def test_a_series_slot_outside_without_fallback_names_the_gap() -> None:
    with pytest.raises(
        TariffError, match=r"slot at 2026-01-05T02:00:00\+00:00: price series .* covers .* only; fetch a longer series"
    ):
        prices(example("day-ahead.csv"), slots([["2026-01-05T01:45:00Z", 30]]))


def test_a_slot_before_the_series_uses_the_fallback_up_to_the_series_start() -> None:
    tou = example("time-of-use.toml")
    assert isinstance(tou, TimeOfUse)
    # 2026-01-04 is a Sunday (weekend 0.27 until local midnight = 23:00Z), then Monday night 0.22, then the series.
    got = prices(example("day-ahead.csv"), slots([["2026-01-04T22:45:00Z", 75]]), tou)
    assert got == pytest.approx([(15 * 0.27 + 60 * 0.22) / 75])
    got = prices(example("day-ahead.csv"), slots([["2026-01-04T23:45:00Z", 30]]), tou)
    assert got == pytest.approx([(15 * 0.22 + 15 * 0.10) / 30])


def test_period_names_and_demand_cost() -> None:
    tou = example("time-of-use.toml")
    assert isinstance(tou, TimeOfUse)
    day = slots([["2026-01-05T12:00:00Z", 60], ["2026-01-05T17:00:00Z", 60], ["2026-01-05T22:00:00Z", 60]])
    assert [period_name(tou, start) for start, _ in day] == ["day", "peak", "night"]
    # 10/kW on the day's highest power (50) + 5/kW on the highest power during the peak (20).
    assert demand_cost(tou, day, [50.0, 20.0, 5.0]) == pytest.approx(10 * 50 + 5 * 20)


def test_every_example_parses() -> None:
    for path in sorted(EXAMPLES.iterdir()):
        assert example(path.name).name


def test_builders_validate() -> None:
    with pytest.raises(TariffError, match="resolution"):
        price_series(
            name="x",
            currency="EUR",
            start=datetime(2026, 1, 5, tzinfo=UTC),
            resolution=timedelta(minutes=30),
            prices=[1.0],
        )
    with pytest.raises(TariffError, match="no time zone"):
        price_series(
            name="x", currency="EUR", start=datetime(2026, 1, 5), resolution=timedelta(minutes=15), prices=[1.0]
        )
    flat = time_of_use(
        name="flat",
        timezone="UTC",
        currency="EUR",
        seasons=[
            Season(name="all", months=tuple(range(1, 13)), periods=(Period(days="all", start=0, end=1440, price=0.3),))
        ],
    )
    assert prices(flat, slots([["2026-06-01T00:00:00Z", 1440]])) == [pytest.approx(0.3)]


def test_time_of_use_prices_match_a_minute_by_minute_reference() -> None:
    # Independent reference: the mean of the price at every minute of the slot, read from the local wall clock.
    tou = example("time-of-use.toml")
    assert isinstance(tou, TimeOfUse)
    zone = ZoneInfo(tou.timezone)

    def reference(start: datetime, minutes: int) -> float:
        total = 0.0
        for i in range(minutes):
            local = (start + timedelta(minutes=i)).astimezone(zone)
            season = next(s for s in tou.seasons if local.month in s.months)
            kind = "weekend" if local.weekday() >= 5 else "weekday"
            m = local.hour * 60 + local.minute
            [period] = [
                p
                for p in season.periods
                if p.days in (kind, "all")
                and (p.start <= m < p.end if p.start < p.end else (m >= p.start or m < p.end))
            ]
            total += period.price
        return total / minutes

    rng = random.Random(11)
    year = datetime(2026, 1, 1, tzinfo=UTC)
    # Every DST change of 2026 in Europe/Berlin, plus random instants through the year.
    cases = [
        (datetime(2026, 3, 28, 20, tzinfo=UTC), 24 * 60 + 15),
        (datetime(2026, 10, 24, 20, tzinfo=UTC), 24 * 60 + 15),
    ]
    cases += [
        (year + timedelta(minutes=15 * rng.randrange(4 * 24 * 365)), rng.choice([15, 60, 180, 24 * 60 + 15]))
        for _ in range(150)
    ]
    for start, minutes in cases:
        assert prices(tou, [(start, timedelta(minutes=minutes))]) == [pytest.approx(reference(start, minutes))], start
