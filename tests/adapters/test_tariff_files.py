"""Tariff files read from disk by their type."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from chargewise.adapters.tariff_files import read_tariff
from chargewise.charging.tariff import PriceSeries, TariffError, TimeOfUse

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "tariffs"
BASE = int(datetime(2026, 1, 5, tzinfo=UTC).timestamp() * 1000)
MARKET = {"data": [{"start_timestamp": BASE, "end_timestamp": BASE + 3_600_000, "marketprice": 90.0}]}


def test_read_tariff_by_file_type(tmp_path: Path) -> None:
    assert isinstance(read_tariff(EXAMPLES / "time-of-use.toml"), TimeOfUse)
    assert isinstance(read_tariff(EXAMPLES / "day-ahead.csv"), PriceSeries)
    assert isinstance(read_tariff(EXAMPLES / "day-ahead.json"), PriceSeries)
    market = tmp_path / "awattar.json"
    market.write_text(json.dumps(MARKET))
    assert read_tariff(market).name == "awattar"


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [("t.yaml", "x", "file type .yaml: use .toml"), ("t.toml", "timezone='UTC'", "t.toml: seasons:")],
)
def test_read_tariff_errors_name_the_file(tmp_path: Path, name: str, text: str, message: str) -> None:
    (tmp_path / name).write_text(text)
    with pytest.raises(TariffError, match=message):
        read_tariff(tmp_path / name)
    with pytest.raises(TariffError, match="cannot read it"):
        read_tariff(tmp_path / "missing.toml")
