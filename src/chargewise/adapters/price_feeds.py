"""The pump that keeps each site's dynamic prices fresh: a site file's ``[tariff] feed`` is fetched over HTTP every
``refresh_minutes`` and its series prices the site's plans from the next cycle, with the site's own tariff file
(a time-of-use schedule) for the slots the series does not cover.

:meth:`PriceFeeds.tick` does one round (every site whose feed is due); :meth:`PriceFeeds.run` repeats it. A
failed fetch keeps the prices the site had, logs one line naming the URL and the fix, and is tried again after
``RETRY`` (or the refresh interval, if shorter). Sites PUT through REST later are picked up at the next tick.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from chargewise.adapters.price_feed import PriceFeed, PriceFeedError, fetch_prices
from chargewise.charging.sitefile import SiteFile, TariffFeed
from chargewise.charging.tariff import PriceSeries, Tariff, TimeOfUse
from chargewise.domain.ports import Clock
from chargewise.services.smart_charging import SmartCharging

log = logging.getLogger(__name__)
TICK_S = 15.0  # how often due feeds are looked for
RETRY = timedelta(minutes=5)  # a failed fetch is tried again this soon


@dataclass(frozen=True, kw_only=True)
class FeedState:
    """The last fetch of a site's feed: when, and whether it gave prices."""

    at: datetime
    ok: bool
    file: SiteFile  # the site's file the fetch was made for (a PUT since: fetch again at once)


def fallback_of(tariff: Tariff | None) -> TimeOfUse | None:
    """The time-of-use schedule behind a tariff: itself, a series' fallback, or none."""
    if isinstance(tariff, TimeOfUse):
        return tariff
    return tariff.fallback if isinstance(tariff, PriceSeries) else None


class PriceFeeds:
    def __init__(
        self,
        *,
        charging: SmartCharging,
        clock: Clock,
        fetch: Callable[[PriceFeed], Awaitable[PriceSeries]] = fetch_prices,
    ) -> None:
        self.charging, self.clock, self.fetch = charging, clock, fetch
        self.state: dict[str, FeedState] = {}  # site name -> its last fetch

    def due(self, name: str, feed: TariffFeed, file: SiteFile, now: datetime) -> bool:
        last = self.state.get(name)
        if last is None or last.file is not file:
            return True
        wait = timedelta(minutes=feed.refresh_minutes)
        return now - last.at >= (wait if last.ok else min(wait, RETRY))

    async def tick(self) -> None:
        """Fetch every feed that is due; price its site with what came."""
        for name, site in list(self.charging.sites.items()):
            file, feed = site.file, site.file.tariff_feed
            if feed is None or not self.due(name, feed, file, self.clock.now()):
                continue
            self.state[name] = await self._fetch(name, file, feed)

    async def _fetch(self, name: str, file: SiteFile, feed: TariffFeed) -> FeedState:
        now = self.clock.now()
        try:
            series = await self.fetch(PriceFeed(url=feed.url, format=feed.format, name=f"{name} prices"))  # type: ignore[arg-type]
        except PriceFeedError as exc:
            log.warning("site %s: %s (the plans keep the prices they had)", name, exc)
            return FeedState(at=now, ok=False, file=file)
        priced = replace(series, fallback=series.fallback or fallback_of(file.tariff))
        kept = self.charging.set_tariff(name, priced, file=file)
        return FeedState(at=now, ok=True, file=kept)

    async def run(self) -> None:
        while True:
            try:
                await self.tick()
            except Exception:  # one site's surprise must not end the others' prices
                log.exception("price feeds: a round failed; trying again in %g s", TICK_S)
            await asyncio.sleep(TICK_S)
