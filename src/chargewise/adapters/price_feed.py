"""Fetch a dynamic price series over HTTP: our documented JSON (docs/tariffs.md) or aWATTar-style market data.

``await fetch_prices(PriceFeed(url=...))`` returns a ``PriceSeries`` or raises ``PriceFeedError`` in one line
naming the URL, what went wrong and what to do. Fetch again before the series runs out (day-ahead prices appear
once a day); the planner falls back to a time-of-use tariff for slots the series does not cover.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import aiohttp

from chargewise.charging.tariff import PriceSeries, TariffError
from chargewise.charging.tariff_file import parse_market_json, parse_price_json

MAX_BYTES = 4 * 1024 * 1024  # a year of 15-minute prices is ~3 MB in our JSON


class PriceFeedError(Exception):
    """The feed could not give a price series; the message says why in one line."""


@dataclass(frozen=True, kw_only=True)
class PriceFeed:
    """``format``: ``chargewise`` (our JSON) or ``market`` (``{"data": [{"start_timestamp", "end_timestamp",
    "marketprice"}]}``, EUR/MWh). ``headers`` carry e.g. an API token."""

    url: str
    format: Literal["chargewise", "market"] = "chargewise"
    name: str = "price feed"
    timeout_seconds: float = 10.0
    headers: Mapping[str, str] = field(default_factory=dict)


async def fetch_prices(feed: PriceFeed, session: aiohttp.ClientSession | None = None) -> PriceSeries:
    """GET the feed once and parse it; pass ``session`` to reuse connections."""
    own = session is None
    client = session or aiohttp.ClientSession()
    try:
        text = await _get(client, feed)
    finally:
        if own:
            await client.close()
    try:
        if feed.format == "market":
            return parse_market_json(text, name=feed.name)
        return parse_price_json(text)
    except TariffError as error:
        raise PriceFeedError(f"price feed {feed.url}: {error}") from None


async def _get(client: aiohttp.ClientSession, feed: PriceFeed) -> str:
    timeout = aiohttp.ClientTimeout(total=feed.timeout_seconds)
    try:
        async with client.get(feed.url, headers=dict(feed.headers), timeout=timeout) as response:
            if response.status >= 400:
                raise PriceFeedError(
                    f"price feed {feed.url}: HTTP {response.status} {response.reason}; check the URL and credentials"
                )
            body = await response.content.read(MAX_BYTES + 1)
    except TimeoutError:
        raise PriceFeedError(
            f"price feed {feed.url}: no answer within {feed.timeout_seconds:g} s; check the URL or raise the timeout"
        ) from None
    except aiohttp.ClientError as error:
        raise PriceFeedError(f"price feed {feed.url}: {type(error).__name__}: {error}; check the URL") from None
    if len(body) > MAX_BYTES:
        raise PriceFeedError(f"price feed {feed.url}: answer larger than {MAX_BYTES} bytes; ask for a shorter span")
    try:
        return body.decode()
    except UnicodeDecodeError:
        raise PriceFeedError(f"price feed {feed.url}: not UTF-8 text; is this the JSON endpoint?") from None
