"""Tariff files (text in, ``Tariff`` out; documented in docs/tariffs.md): TOML for time-of-use schedules, CSV or
JSON for price series, and the aWATTar-style market-data JSON a public price feed serves.

Every function takes the file's text (the caller reads it) and raises ``TariffError`` with one line naming the
field and the fix: ``parse_time_of_use(text)``, ``parse_price_csv(text, name=, currency=)``,
``parse_price_json(text)``, ``parse_market_json(text, name=)``.

Price series rows each have a start, an end and a price; all rows must be equally long (15 or 60 minutes) and
follow each other without a gap or an overlap (rows may come in any order).
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import tomllib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any

from chargewise.charging.tariff import (
    DAYS,
    RESOLUTIONS,
    DemandCharge,
    Period,
    PriceSeries,
    Season,
    TariffError,
    TimeOfUse,
    price_series,
    time_of_use,
)

Row = tuple[datetime, datetime, float]
_CLOCK = re.compile(r"(\d{2}):(\d{2})")
_PER = {"kWh": 1.0, "MWh": 0.001}  # price unit -> factor to a price per kWh


def parse_time_of_use(text: str) -> TimeOfUse:
    """A time-of-use tariff from TOML: name, timezone, currency, [[seasons]] with months and periods, and optional
    [[demand_charges]]."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise TariffError(f"not valid TOML: {error}; fix the syntax") from None
    seasons = [_season(f"seasons[{i}]", row) for i, row in enumerate(_list(data, "seasons", "seasons"))]
    charges = [
        DemandCharge(
            per_kw=_number(row, "per_kw", f"demand_charges[{i}]"),
            periods=tuple(str(name) for name in row.get("periods", [])),
        )
        for i, row in enumerate(_list(data, "demand_charges", "demand_charges", required=False))
    ]
    return time_of_use(
        name=_text(data, "name", ""),
        timezone=_text(data, "timezone", ""),
        currency=_text(data, "currency", ""),
        seasons=seasons,
        demand_charges=charges,
    )


def _season(where: str, row: Mapping[str, Any]) -> Season:
    months = row.get("months")
    if not isinstance(months, list) or not all(isinstance(month, int) for month in months):
        raise TariffError(f"{where}.months: give a list of month numbers, e.g. months = [6, 7, 8, 9]")
    periods = [_period(f"{where}.periods[{i}]", one) for i, one in enumerate(_list(row, "periods", f"{where}.periods"))]
    return Season(name=str(row.get("name", "")), months=tuple(months), periods=tuple(periods))


def _period(where: str, row: Mapping[str, Any]) -> Period:
    days = row.get("days", "all")
    if days not in DAYS:
        raise TariffError(f"{where}.days: {days!r}; use weekday, weekend or all")
    return Period(
        days=days,
        start=_minute(row, "from", where),
        end=_minute(row, "to", where),
        price=_number(row, "price", where),
        name=str(row.get("name", "")),
    )


def _minute(row: Mapping[str, Any], key: str, where: str) -> int:
    value = row.get(key)
    match = _CLOCK.fullmatch(value) if isinstance(value, str) else None
    if match is None or int(match[2]) > 59 or int(match[1]) * 60 + int(match[2]) > 24 * 60:
        raise TariffError(f"{where}.{key}: {value!r} is not a time; write HH:MM between 00:00 and 24:00")
    return int(match[1]) * 60 + int(match[2])


def parse_price_csv(text: str, *, name: str, currency: str) -> PriceSeries:
    """A price series from CSV with a header ``start,end,price`` (ISO 8601 instants with an offset; price per kWh,
    or per MWh with a ``price_per_mwh`` column instead). Lines starting with ``#`` are comments."""
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    reader = csv.DictReader(io.StringIO("\n".join(lines)))
    columns = set(reader.fieldnames or [])
    price_column = "price" if "price" in columns else "price_per_mwh"
    if not {"start", "end", price_column} <= columns:
        raise TariffError("header: expected start,end,price (or start,end,price_per_mwh); add that first line")
    factor = 1.0 if price_column == "price" else _PER["MWh"]
    rows = [
        _row(f"line {number}", item.get("start"), item.get("end"), item.get(price_column), factor)
        for number, item in enumerate(reader, start=2)
    ]
    return series_from_rows(rows, name=name, currency=currency)


def parse_price_json(text: str) -> PriceSeries:
    """A price series from our JSON: ``{"name", "currency", "unit": "kWh"|"MWh", "prices": [{"start", "end",
    "price"}, ...]}``."""
    data = _json(text)
    unit = data.get("unit", "kWh")
    if unit not in _PER:
        raise TariffError(f"unit: {unit!r}; prices are per 'kWh' or per 'MWh'")
    rows = [
        _row(f"prices[{i}]", item.get("start"), item.get("end"), item.get("price"), _PER[unit])
        for i, item in enumerate(_list(data, "prices", "prices"))
    ]
    return series_from_rows(rows, name=_text(data, "name", "prices"), currency=_text(data, "currency", ""))


def parse_market_json(text: str, *, name: str = "market") -> PriceSeries:
    """A price series from aWATTar-style market data: ``{"data": [{"start_timestamp": ms, "end_timestamp": ms,
    "marketprice": EUR/MWh}, ...]}`` (the shape aWATTar's public market-data API serves)."""
    data = _json(text)
    rows = []
    for i, item in enumerate(_list(data, "data", "data")):
        where = f"data[{i}]"
        start, end = (_millis(item, key, where) for key in ("start_timestamp", "end_timestamp"))
        rows.append((start, end, _number(item, "marketprice", where) * _PER["MWh"]))
    currency = str(data["data"][0].get("unit", "EUR/MWh")).split("/")[0].upper() if data["data"] else "EUR"
    return series_from_rows(rows, name=name, currency=currency)


def series_from_rows(rows: Sequence[Row], *, name: str, currency: str) -> PriceSeries:
    """Check that ``rows`` (start, end, price per kWh) tile one span in 15- or 60-minute steps; build the series."""
    if not rows:
        raise TariffError("prices: empty; give at least one row")
    ordered = sorted(rows)
    step = ordered[0][1] - ordered[0][0]
    if step not in RESOLUTIONS:
        raise TariffError(f"row starting {_iso(ordered[0][0])}: lasts {step}; rows must be 15 or 60 minutes long")
    for (start, end, _), (next_start, _, _) in pairwise(ordered):
        if end - start != step:
            raise TariffError(f"row starting {_iso(start)}: lasts {end - start}, not {step} like the first row")
        if next_start > end:
            raise TariffError(f"row starting {_iso(next_start)}: gap from {_iso(end)}; add the missing rows")
        if next_start < end:
            raise TariffError(f"row starting {_iso(next_start)}: overlaps the row ending {_iso(end)}; remove one")
    last_start, last_end, _ = ordered[-1]
    if last_end - last_start != step:
        raise TariffError(f"row starting {_iso(last_start)}: lasts {last_end - last_start}, not {step}")
    return price_series(
        name=name, currency=currency, start=ordered[0][0], resolution=step, prices=[price for _, _, price in ordered]
    )


def _row(where: str, start: object, end: object, price: object, factor: float) -> Row:
    begin, finish = _instant(start, f"{where}: start"), _instant(end, f"{where}: end")
    if finish <= begin:
        raise TariffError(f"{where}: end {_iso(finish)} is not after start {_iso(begin)}; swap or fix them")
    try:
        value = float(price)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise TariffError(f"{where}: price {price!r} is not a number; write e.g. 0.2315") from None
    if not math.isfinite(value):
        raise TariffError(f"{where}: price {price!r}; give a finite number")
    return begin, finish, value * factor


def _instant(value: object, where: str) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise TariffError(f"{where} {value!r} is not an ISO 8601 time; write e.g. 2026-01-05T00:00:00Z") from None
    if moment.tzinfo is None:
        raise TariffError(f"{where} {value!r} has no offset; add Z or +01:00")
    return moment.astimezone(UTC)


def _millis(item: Mapping[str, Any], key: str, where: str) -> datetime:
    value = item.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise TariffError(f"{where}.{key}: {value!r}; give milliseconds since 1970 as an integer")
    return datetime.fromtimestamp(value / 1000, tz=UTC)


def _json(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise TariffError(f"not valid JSON: {error}; fix the syntax") from None
    if not isinstance(data, dict):
        raise TariffError("top level: expected a JSON object { ... }")
    return data


def _list(data: Mapping[str, Any], key: str, where: str, required: bool = True) -> list[dict[str, Any]]:
    value = data.get(key, None if required else [])
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise TariffError(f"{where}: expected a list of tables/objects; see docs/tariffs.md")
    return value


def _text(data: Mapping[str, Any], key: str, default: str) -> str:
    value = data.get(key, default)
    if not isinstance(value, str):
        raise TariffError(f"{key}: {value!r}; give a string")
    return value


def _number(data: Mapping[str, Any], key: str, where: str) -> float:
    value = data.get(key)
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        raise TariffError(f"{where}.{key}: {value!r}; give a number")
    return float(value)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
