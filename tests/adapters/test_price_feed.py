"""Price feeds over HTTP, against a small aiohttp server on loopback."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web

from chargewise.adapters.price_feed import PriceFeed, PriceFeedError, fetch_prices

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "tariffs"
BASE = int(datetime(2026, 1, 5, tzinfo=UTC).timestamp() * 1000)
QUARTER = 15 * 60 * 1000
MARKET = {
    "object": "list",
    "data": [
        {
            "start_timestamp": BASE + i * QUARTER,
            "end_timestamp": BASE + (i + 1) * QUARTER,
            "marketprice": 100.0 + i,
            "unit": "Eur/MWh",
        }
        for i in range(8)
    ],
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def feed_url() -> AsyncIterator[str]:
    async def ours(request: web.Request) -> web.Response:
        assert request.headers.get("Authorization") == "Bearer t0ken"
        return web.Response(text=(EXAMPLES / "day-ahead.json").read_text(), content_type="application/json")

    async def market(request: web.Request) -> web.Response:
        return web.json_response(MARKET)

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(1)
        return web.json_response(MARKET)

    async def broken(request: web.Request) -> web.Response:
        return web.Response(status=503, text="maintenance")

    async def gappy(request: web.Request) -> web.Response:
        return web.json_response({"data": [MARKET["data"][0], MARKET["data"][2]]})

    app = web.Application()
    app.add_routes(
        [
            web.get("/ours", ours),
            web.get("/market", market),
            web.get("/slow", slow),
            web.get("/broken", broken),
            web.get("/gappy", gappy),
        ]
    )
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def test_our_json_format(feed_url: str) -> None:
    series = await fetch_prices(PriceFeed(url=f"{feed_url}/ours", headers={"Authorization": "Bearer t0ken"}))
    assert (series.resolution, series.currency) == (timedelta(hours=1), "EUR")
    assert series.prices == pytest.approx((0.0952, 0.088, 0.0815, -0.0031))


async def test_market_format_in_15_minutes(feed_url: str) -> None:
    series = await fetch_prices(PriceFeed(url=f"{feed_url}/market", format="market", name="awattar"))
    assert (series.name, series.start, series.resolution, len(series.prices)) == (
        "awattar",
        datetime(2026, 1, 5, tzinfo=UTC),
        timedelta(minutes=15),
        8,
    )
    assert series.prices[1] == pytest.approx(0.101)


@pytest.mark.parametrize(
    ("path", "fmt", "message"),
    [
        ("/slow", "market", "no answer within 0.3 s; check the URL or raise the timeout"),
        ("/broken", "market", "HTTP 503 Service Unavailable"),
        ("/gappy", "market", "gap from 2026-01-05T00:15:00Z; add the missing rows"),
        ("/market", "chargewise", "prices: expected a list"),
    ],
)
async def test_failures_say_what_to_do(feed_url: str, path: str, fmt: str, message: str) -> None:
    with pytest.raises(PriceFeedError) as raised:
        await fetch_prices(PriceFeed(url=f"{feed_url}{path}", format=fmt, timeout_seconds=0.3))  # type: ignore[arg-type]
    assert message in str(raised.value)
    assert str(raised.value).startswith(f"price feed {feed_url}{path}: ")


async def test_nobody_listening() -> None:
    with pytest.raises(PriceFeedError, match="ClientConnectorError"):
        await fetch_prices(PriceFeed(url=f"http://127.0.0.1:{free_port()}/x", timeout_seconds=2))
