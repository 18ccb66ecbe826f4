"""A site's ``[tariff] feed``: fetched from a real HTTP server on loopback into the site's plans, refreshed on
its interval, a failure kept to one log line with the old prices kept, a PUT site picked up; the site file's
keys checked with one line naming the field."""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from aiohttp import web

from chargewise.adapters.memory import MemoryStore
from chargewise.adapters.memory_reports import MemoryReportStore
from chargewise.adapters.price_feeds import RETRY, PriceFeeds
from chargewise.charging.sitefile import SiteFile, SiteFileError, parse
from chargewise.charging.state import EvseState, SiteState
from chargewise.charging.tariff import PriceSeries, TimeOfUse, prices
from chargewise.domain.model import OcppVersion
from chargewise.services.connections import Registry
from chargewise.services.profile_applier import ProfileApplier
from chargewise.services.site_planning import LivePlan, planned
from chargewise.services.smart_charging import SmartCharging
from chargewise.services.telemetry import Telemetry
from tests.services.test_site_planning import NIGHT

T0 = datetime(2026, 12, 2, 18, 0, tzinfo=UTC)
SITE = """
[site]
name = "home"
[nodes.main]
limit_a = 32
[chargers.A]
parent = "main"
mode = "plan"
[tariff]
feed = "{url}"
refresh_minutes = 30
"""


class Clock:
    def __init__(self) -> None:
        self.t = T0

    def now(self) -> datetime:
        return self.t


def hourly(start: datetime, values: list[float]) -> str:
    rows = [{"start": (start + timedelta(hours=i)).isoformat(), "end": (start + timedelta(hours=i + 1)).isoformat(),
             "price": v} for i, v in enumerate(values)]  # fmt: skip
    return json.dumps({"name": "day-ahead", "currency": "EUR", "unit": "kWh", "prices": rows})


@pytest.fixture
async def feed() -> AsyncIterator[SimpleNamespace]:
    """A price server on a port of its own: ``state.body`` is what it serves, ``state.status`` its status."""
    state = SimpleNamespace(body=hourly(T0, [0.30] * 12), status=200, hits=0, url="")

    async def handle(request: web.Request) -> web.Response:
        state.hits += 1
        return web.Response(text=state.body, status=state.status, content_type="application/json")

    app = web.Application()
    app.router.add_get("/prices.json", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    state.url = f"http://127.0.0.1:{port}/prices.json"
    yield state
    await runner.cleanup()


async def plan(file: SiteFile, state: SiteState, now: datetime) -> tuple[SiteState, LivePlan | None]:
    return await planned(file, file.site, state, now, None, caps=[], caps_a={}, told={}, current=None)


def charging_for(text: str, clock: Clock) -> SmartCharging:
    registry = Registry()
    registry.register(SimpleNamespace(charger_id="A", version=OcppVersion.V16))  # type: ignore[arg-type]

    async def call(*args: object) -> object:
        raise AssertionError("nothing is sent in these tests")

    return SmartCharging(sites=[parse(text)], telemetry=Telemetry(), store=MemoryStore(), registry=registry,
                         applier=ProfileApplier(call=call), clock=clock, limits=MemoryReportStore())  # type: ignore[arg-type]  # fmt: skip


async def test_the_feed_prices_the_plan_and_is_refreshed_on_its_interval(feed: SimpleNamespace) -> None:
    clock = Clock()
    charging = charging_for(SITE.format(url=feed.url), clock)
    feeds = PriceFeeds(charging=charging, clock=clock)
    site = charging.sites["home"]
    state = SiteState(evses={"A/1": EvseState(session=True, energy_kwh=7.0, departure=T0 + timedelta(hours=6))})
    _, before = await plan(site.file, state, clock.now())
    assert before is not None and "no prices from" in before.prices_note  # not fetched yet: flat, and it says so

    # the night is cheap from 22:00: the plan charges then, and its prices are the feed's
    feed.body = hourly(T0, [0.40, 0.40, 0.40, 0.40, 0.10, 0.10, 0.40, 0.40, 0.40, 0.40, 0.40, 0.40])
    await feeds.tick()
    assert feed.hits == 1 and feeds.state["home"].ok
    assert isinstance(site.file.tariff, PriceSeries) and site.file.tariff.prices[4] == pytest.approx(0.10)
    _, live = await plan(site.file, state, clock.now())
    assert live is not None and live.prices_note == ""
    assert set(live.request.prices) == {0.40, 0.10}
    cheap = [t for t, p in enumerate(live.request.prices) if p == pytest.approx(0.10)]
    assert sum(live.plan.amps["A/1"][t] for t in cheap) > 0 and live.plan.amps["A/1"][0] == 0  # waits for 22:00

    await feeds.tick()  # not due yet: no second request
    assert feed.hits == 1
    clock.t += timedelta(minutes=30)
    feed.body = hourly(T0, [0.05] * 12)
    await feeds.tick()
    assert feed.hits == 2 and site.file.tariff.prices[0] == pytest.approx(0.05)


async def test_a_failed_fetch_keeps_the_old_prices_and_says_why_in_one_line(
    feed: SimpleNamespace, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    charging = charging_for(SITE.format(url=feed.url), clock)
    feeds = PriceFeeds(charging=charging, clock=clock)
    await feeds.tick()
    good = charging.sites["home"].file.tariff
    clock.t += timedelta(minutes=30)
    feed.status = 503
    with caplog.at_level(logging.WARNING):
        await feeds.tick()
    assert charging.sites["home"].file.tariff is good
    lines = [r.getMessage() for r in caplog.records if "home" in r.getMessage()]
    assert len(lines) == 1 and "HTTP 503" in lines[0] and feed.url in lines[0] and "\n" not in lines[0]
    assert not feeds.state["home"].ok
    clock.t += RETRY  # tried again after RETRY, not after the whole interval
    feed.status = 200
    await feeds.tick()
    assert feeds.state["home"].ok and feed.hits == 3


async def test_the_site_files_time_of_use_prices_what_the_series_does_not_cover(feed: SimpleNamespace) -> None:
    clock = Clock()
    charging = charging_for(SITE.format(url=feed.url), clock)
    site = charging.sites["home"]
    charging.put_site(dataclasses.replace(site.file, tariff=NIGHT))  # as a [tariff] file would give
    feeds = PriceFeeds(charging=charging, clock=clock)
    feed.body = hourly(T0, [0.30, 0.30])  # two hours only
    await feeds.tick()
    tariff = charging.sites["home"].file.tariff
    assert isinstance(tariff, PriceSeries) and isinstance(tariff.fallback, TimeOfUse)
    later = prices(tariff, [(T0 + timedelta(hours=3), timedelta(hours=1))])  # 21:00: the night price of NIGHT
    assert later == [pytest.approx(0.10)]


async def test_a_site_put_later_is_fetched_at_the_next_tick(feed: SimpleNamespace) -> None:
    clock = Clock()
    charging = charging_for(SITE.format(url=feed.url), clock)
    feeds = PriceFeeds(charging=charging, clock=clock)
    await feeds.tick()
    other = parse(SITE.format(url=feed.url).replace('name = "home"', 'name = "garage"').replace("[chargers.A]",
                                                                                                  "[chargers.B]"))  # fmt: skip
    charging.put_site(other)
    await feeds.tick()
    assert feed.hits == 2 and isinstance(charging.sites["garage"].file.tariff, PriceSeries)


@pytest.mark.parametrize(
    ("tariff", "field"),
    [
        ('feed = "ftp://example.org/p.json"', "tariff.feed"),
        ('feed = "https://example.org/p.json"\nfeed_format = "csv"', "tariff.feed_format"),
        ('feed = "https://example.org/p.json"\nrefresh_minutes = 0', "tariff.refresh_minutes"),
        ("refresh_minutes = 15", "tariff.feed"),
    ],
)
def test_feed_keys_are_checked_naming_the_field(tariff: str, field: str) -> None:
    text = SITE.split("[tariff]")[0] + "[tariff]\n" + tariff + "\n"
    with pytest.raises(SiteFileError) as caught:
        parse(text)
    message = str(caught.value)
    assert message.startswith(field + ":") and "\n" not in message, message
