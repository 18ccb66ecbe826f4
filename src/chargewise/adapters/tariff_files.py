"""Read a tariff file from disk: ``.toml`` is a time-of-use schedule, ``.csv`` and ``.json`` a price series
(a ``.json`` with a top-level ``data`` list is read as aWATTar-style market data). See docs/tariffs.md."""

from __future__ import annotations

import json
from pathlib import Path

from chargewise.charging.tariff import Tariff, TariffError
from chargewise.charging.tariff_file import parse_market_json, parse_price_csv, parse_price_json, parse_time_of_use


def read_tariff(path: Path, currency: str = "EUR") -> Tariff:
    """The tariff in ``path``; ``currency`` names the currency of a CSV (the CSV has no place for it). Raises
    ``TariffError`` in one line, prefixed with the file name."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise TariffError(f"{path}: cannot read it ({error.strerror}); check the path") from None
    try:
        return _parse(path, text, currency)
    except TariffError as error:
        raise TariffError(f"{path}: {error}") from None


def _parse(path: Path, text: str, currency: str) -> Tariff:
    suffix = path.suffix.lower()
    if suffix == ".toml":
        return parse_time_of_use(text)
    if suffix == ".csv":
        return parse_price_csv(text, name=path.stem, currency=currency)
    if suffix == ".json":
        try:
            market = isinstance(json.loads(text), dict) and "data" in json.loads(text)
        except json.JSONDecodeError:
            market = False
        return parse_market_json(text, name=path.stem) if market else parse_price_json(text)
    raise TariffError(f"file type {suffix or '(none)'}: use .toml (time of use), .csv or .json (price series)")
