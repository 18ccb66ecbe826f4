"""Tariffs: time-of-use schedules and dynamic price series, and the price of each planner slot.

A ``TimeOfUse`` tariff is seasons (sets of months) of periods (weekday / weekend / all days, a local time span,
a price per kWh) in the site's time zone, given as data (an IANA name); demand charges are optional. A
``PriceSeries`` is consecutive 15- or 60-minute prices from a start instant (a day-ahead or intraday market feed),
optionally with a time-of-use ``fallback`` for slots it does not cover.

``prices(tariff, slots)`` gives the time-weighted mean price of every slot (start in UTC, duration); a slot that
straddles a period boundary or two series intervals pays each part at its own price. Build tariffs with
``time_of_use`` / ``price_series`` (they validate) or parse files with ``charging.tariff_file``.

Not modelled: public holidays (they price as their weekday), tiered (volume) prices, fixed monthly fees.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

Days = Literal["weekday", "weekend", "all"]
Slot = tuple[datetime, timedelta]
DAYS: tuple[Days, ...] = ("weekday", "weekend", "all")
RESOLUTIONS = (timedelta(minutes=15), timedelta(minutes=60))
_DAY = 24 * 60


class TariffError(ValueError):
    """A tariff that cannot be used, in one line naming the field and the fix."""


@dataclass(frozen=True, kw_only=True)
class Period:
    """``price`` per kWh on ``days`` from ``start`` to ``end`` (minutes after local midnight, 0..1440); an end
    before the start runs past midnight into the next day."""

    days: Days
    start: int
    end: int
    price: float
    name: str = ""


@dataclass(frozen=True, kw_only=True)
class Season:
    name: str
    months: tuple[int, ...]
    periods: tuple[Period, ...]


@dataclass(frozen=True, kw_only=True)
class DemandCharge:
    """``per_kw`` for the highest slot power in the billing period, counted only in ``periods`` (names; empty:
    at any time). SCE TOU-EV-4 has one at all times and one in summer on-peak, for example."""

    per_kw: float
    periods: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class TimeOfUse:
    name: str
    timezone: str
    currency: str
    seasons: tuple[Season, ...]
    demand_charges: tuple[DemandCharge, ...] = ()


@dataclass(frozen=True, kw_only=True)
class PriceSeries:
    name: str
    currency: str
    start: datetime
    resolution: timedelta
    prices: tuple[float, ...]
    fallback: TimeOfUse | None = None

    @property
    def end(self) -> datetime:
        return self.start + self.resolution * len(self.prices)


Tariff = TimeOfUse | PriceSeries


def time_of_use(
    *,
    name: str,
    timezone: str,
    currency: str,
    seasons: Sequence[Season],
    demand_charges: Sequence[DemandCharge] = (),
) -> TimeOfUse:
    """A validated ``TimeOfUse``: every month in exactly one season, every minute of every day priced once."""
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise TariffError(f"timezone: {timezone!r} is not a known IANA zone; write e.g. 'Europe/Berlin'") from None
    _check_months(seasons)
    for index, season in enumerate(seasons):
        _check_season(index, season)
    names = {period.name for season in seasons for period in season.periods}
    for index, charge in enumerate(demand_charges):
        if not (math.isfinite(charge.per_kw) and charge.per_kw >= 0):
            raise TariffError(f"demand_charges[{index}].per_kw: {charge.per_kw}; give a price of 0 or more per kW")
        for missing in sorted(set(charge.periods) - names):
            raise TariffError(f"demand_charges[{index}].periods: no period is named {missing!r}; name one in a season")
    return TimeOfUse(
        name=name, timezone=timezone, currency=currency, seasons=tuple(seasons), demand_charges=tuple(demand_charges)
    )


def _check_months(seasons: Sequence[Season]) -> None:
    if not seasons:
        raise TariffError("seasons: none given; add at least one season covering months 1-12")
    owner: dict[int, str] = {}
    for index, season in enumerate(seasons):
        for month in season.months:
            if month not in range(1, 13):
                raise TariffError(f"seasons[{index}].months: {month} is not a month; use 1-12")
            if month in owner:
                raise TariffError(f"seasons[{index}].months: month {month} is also in season {owner[month]!r}")
            owner[month] = season.name or str(index)
    if missing := sorted(set(range(1, 13)) - set(owner)):
        raise TariffError(f"seasons: months {missing} are in no season; add them to one")


def _check_season(index: int, season: Season) -> None:
    where = f"seasons[{index}]"
    for kind in ("weekday", "weekend"):
        owner: list[int | None] = [None] * _DAY
        for number, period in enumerate(season.periods):
            _check_period(f"{where}.periods[{number}]", period)
            if period.days not in (kind, "all"):
                continue
            for minute in _minutes(period):
                if owner[minute] is not None:
                    raise TariffError(
                        f"{where}.periods[{number}]: overlaps periods[{owner[minute]}] on {kind}s at "
                        f"{_clock(minute)}; make them meet end to start"
                    )
                owner[minute] = number
        if None in owner:
            first = owner.index(None)
            raise TariffError(f"{where}: {kind}s at {_clock(first)} have no price; add a period covering it")


def _check_period(where: str, period: Period) -> None:
    if period.days not in DAYS:
        raise TariffError(f"{where}.days: {period.days!r}; use weekday, weekend or all")
    for name, minute in (("from", period.start), ("to", period.end)):
        if not 0 <= minute <= _DAY:
            raise TariffError(f"{where}.{name}: {minute} minutes; write HH:MM between 00:00 and 24:00")
    if period.start % _DAY == period.end % _DAY and {period.start, period.end} != {0, _DAY}:
        raise TariffError(f"{where}: from and to are both {_clock(period.start)}; for all day write 00:00-24:00")
    if not math.isfinite(period.price):
        raise TariffError(f"{where}.price: {period.price}; give a finite price per kWh")


def _minutes(period: Period) -> range | list[int]:
    start, end = period.start % _DAY, period.end
    if start < end:
        return range(start, end)
    return [*range(start, _DAY), *range(0, end)]


def _contains(period: Period, minute: int) -> bool:
    start = period.start % _DAY
    return start <= minute < period.end if start < period.end else (minute >= start or minute < period.end)


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def price_series(
    *,
    name: str,
    currency: str,
    start: datetime,
    resolution: timedelta,
    prices: Sequence[float],
    fallback: TimeOfUse | None = None,
) -> PriceSeries:
    """A validated ``PriceSeries`` (aware start, 15- or 60-minute resolution, finite prices; negative is fine)."""
    if start.tzinfo is None or start.utcoffset() is None:
        raise TariffError(f"start: {start.isoformat()} has no time zone; give it in UTC (…Z)")
    if resolution not in RESOLUTIONS:
        raise TariffError(f"resolution: {resolution} ; use 15 or 60 minutes")
    if not prices:
        raise TariffError("prices: empty; give at least one price")
    for index, price in enumerate(prices):
        if not math.isfinite(price):
            raise TariffError(f"prices[{index}]: {price}; give a finite price per kWh")
    return PriceSeries(
        name=name,
        currency=currency,
        start=start.astimezone(UTC),
        resolution=resolution,
        prices=tuple(prices),
        fallback=fallback,
    )


def prices(tariff: Tariff, slots: Sequence[Slot], fallback: TimeOfUse | None = None) -> list[float]:
    """The mean price per kWh of every slot. A series slot outside the series uses the series' own fallback, then
    ``fallback``; with neither it raises ``TariffError`` naming the slot (fetch a longer series)."""
    return [_mean(tariff, start, start + duration, fallback) for start, duration in slots]


def price_at(tariff: Tariff, t: datetime, fallback: TimeOfUse | None = None) -> float:
    """The price per kWh in force at instant ``t``."""
    price, _ = _segment(tariff, t, fallback)
    return price


def period_name(tariff: TimeOfUse, t: datetime) -> str:
    """The name of the time-of-use period in force at ``t`` (for demand charges and explanations)."""
    return _period(tariff, t.astimezone(ZoneInfo(tariff.timezone))).name


def demand_cost(tariff: TimeOfUse, slots: Sequence[Slot], kw: Sequence[float]) -> float:
    """The demand charges for a billing period made of ``slots`` with mean power ``kw`` per slot."""
    total = 0.0
    for charge in tariff.demand_charges:
        counted = [
            p
            for (start, _), p in zip(slots, kw, strict=True)
            if not charge.periods or period_name(tariff, start) in charge.periods
        ]
        total += charge.per_kw * max(counted, default=0.0)
    return total


def _mean(tariff: Tariff, start: datetime, end: datetime, fallback: TimeOfUse | None) -> float:
    if end <= start:
        raise TariffError(f"slot at {start.isoformat()}: duration is not positive; give slots a duration")
    total, t = 0.0, start
    while t < end:
        price, until = _segment(tariff, t, fallback)
        until = min(until, end)
        total += price * (until - t).total_seconds()
        t = until
    return total / (end - start).total_seconds()


def _segment(tariff: Tariff, t: datetime, fallback: TimeOfUse | None) -> tuple[float, datetime]:
    # The price at t and the instant it may change next.
    if t.tzinfo is None:
        raise TariffError(f"slot at {t.isoformat()}: no time zone; give slot starts in UTC")
    if isinstance(tariff, PriceSeries):
        if tariff.start <= t < tariff.end:
            index = int((t - tariff.start) / tariff.resolution)
            return tariff.prices[index], tariff.start + tariff.resolution * (index + 1)
        backup = tariff.fallback or fallback
        if backup is None:
            raise TariffError(
                f"slot at {t.isoformat()}: price series {tariff.name!r} covers {tariff.start.isoformat()} to "
                f"{tariff.end.isoformat()} only; fetch a longer series or give a time-of-use fallback"
            )
        price, until = _segment(backup, t, None)
        return price, min(until, tariff.start) if t < tariff.start else until
    return _tou_segment(tariff, t)


def _tou_segment(tariff: TimeOfUse, t: datetime) -> tuple[float, datetime]:
    zone = ZoneInfo(tariff.timezone)
    local = t.astimezone(zone)
    period = _period(tariff, local)
    minute = local.hour * 60 + local.minute
    day = local.date()
    end_day = day + timedelta(days=1) if period.end <= minute else day
    boundaries = [_instant(end_day, period.end, zone), _instant(day + timedelta(days=1), 0, zone)]
    until = min(boundaries)
    return period.price, until if until > t else t + timedelta(minutes=1)  # a DST fold: step through it


def _instant(day: date, minute: int, zone: ZoneInfo) -> datetime:
    if minute == _DAY:
        day, minute = day + timedelta(days=1), 0
    return datetime.combine(day, time(minute // 60, minute % 60), tzinfo=zone).astimezone(UTC)


def _period(tariff: TimeOfUse, local: datetime) -> Period:
    season = next(season for season in tariff.seasons if local.month in season.months)
    kind = "weekend" if local.weekday() >= 5 else "weekday"
    minute = local.hour * 60 + local.minute
    for period in season.periods:
        if period.days in (kind, "all") and _contains(period, minute):
            return period
    raise TariffError(f"{tariff.name}: no period at {local.isoformat()}; build tariffs with time_of_use()")
