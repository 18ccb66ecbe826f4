"""Tariff files: TOML, CSV, JSON and market JSON, and the one-line errors of bad ones (cases/tariff_errors.json)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from chargewise.charging.tariff import TariffError
from chargewise.charging.tariff_file import parse_market_json, parse_price_csv, parse_price_json, parse_time_of_use

ERRORS = json.loads((Path(__file__).parent / "cases" / "tariff_errors.json").read_text())


@pytest.mark.parametrize("case", ERRORS["toml"], ids=lambda case: case["name"])
def test_bad_toml_says_what_to_fix(case: dict[str, str]) -> None:
    with pytest.raises(TariffError) as raised:
        parse_time_of_use(case["text"])
    assert case["error"] in str(raised.value)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize("case", ERRORS["csv"], ids=lambda case: case["name"])
def test_bad_csv_says_what_to_fix(case: dict[str, str]) -> None:
    with pytest.raises(TariffError) as raised:
        parse_price_csv(case["text"], name="t", currency="EUR")
    assert case["error"] in str(raised.value)


@pytest.mark.parametrize("case", ERRORS["json"], ids=lambda case: case["name"])
def test_bad_json_says_what_to_fix(case: dict[str, str]) -> None:
    with pytest.raises(TariffError) as raised:
        parse_price_json(case["text"])
    assert case["error"] in str(raised.value)


@pytest.mark.parametrize("case", ERRORS["market"], ids=lambda case: case["name"])
def test_bad_market_json_says_what_to_fix(case: dict[str, str]) -> None:
    with pytest.raises(TariffError) as raised:
        parse_market_json(case["text"])
    assert case["error"] in str(raised.value)


def test_market_json_is_per_mwh_and_hourly() -> None:
    base = int(datetime(2026, 1, 5, tzinfo=UTC).timestamp() * 1000)
    hour = 3_600_000
    data = {
        "object": "list",
        "data": [
            {
                "start_timestamp": base + i * hour,
                "end_timestamp": base + (i + 1) * hour,
                "marketprice": p,
                "unit": "Eur/MWh",
            }
            for i, p in enumerate([120.0, 80.0])
        ],
    }
    series = parse_market_json(json.dumps(data))
    assert (series.start, series.resolution, series.prices, series.currency) == (
        datetime(2026, 1, 5, tzinfo=UTC),
        timedelta(hours=1),
        (0.12, 0.08),
        "EUR",
    )


def test_rows_in_any_order_are_sorted() -> None:
    text = "start,end,price\n2026-01-05T00:15:00Z,2026-01-05T00:30:00Z,0.2\n2026-01-05T00:00:00Z,2026-01-05T00:15:00Z,0.1\n"
    assert parse_price_csv(text, name="t", currency="EUR").prices == (0.1, 0.2)
