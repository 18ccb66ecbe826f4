"""A local-time maintenance window: ``01:00-05:00`` in a time zone, possibly across midnight (``22:00-04:00``).

Start is inclusive, end exclusive; ``00:00-24:00`` is always open. The zone is an IANA name (``Europe/Berlin``);
daylight-saving changes are the zone's: a window is checked against the wall clock there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chargewise.firmware.errors import FirmwareError

_WINDOW = re.compile(r"([01]?\d|2[0-4]):([0-5]\d)-([01]?\d|2[0-4]):([0-5]\d)")


@dataclass(frozen=True, kw_only=True, slots=True)
class Window:
    start_min: int  # minutes after local midnight
    end_min: int
    zone: str = "UTC"

    def text(self) -> str:
        def hm(minutes: int) -> str:
            return f"{minutes // 60:02d}:{minutes % 60:02d}"

        return f"{hm(self.start_min)}-{hm(self.end_min)} {self.zone}"


def parse_window(text: str, zone: str | None = None) -> Window:
    """``HH:MM-HH:MM`` (and the zone, default UTC) as a :class:`Window`."""
    match = _WINDOW.fullmatch(text.strip())
    if match is None:
        raise FirmwareError("--window", f"{text[:30]!r} is not HH:MM-HH:MM", "write e.g. 01:00-05:00, in local time")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if start > 24 * 60 or end > 24 * 60:
        raise FirmwareError("--window", f"{text!r} goes past 24:00", "write times from 00:00 to 24:00")
    if start == end:
        raise FirmwareError("--window", f"{text!r} is empty", "give an end other than the start, e.g. 01:00-05:00")
    name = zone or "UTC"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        fix = "give an IANA name, e.g. Europe/Berlin"
        raise FirmwareError("--timezone", f"unknown time zone {name[:40]!r}", fix) from None
    return Window(start_min=start, end_min=end, zone=name)


def _minute(window: Window, now: datetime) -> int:
    local = now.astimezone(ZoneInfo(window.zone))
    return local.hour * 60 + local.minute


def is_open(window: Window | None, now: datetime) -> bool:
    """Whether ``now`` (aware) falls in the window; no window is always open."""
    if window is None:
        return True
    minute = _minute(window, now)
    if window.start_min < window.end_min:
        return window.start_min <= minute < window.end_min
    return minute >= window.start_min or minute < window.end_min  # across midnight


def opens_at(window: Window | None, now: datetime) -> datetime:
    """``now`` if the window is open, else the next minute it opens (searched minute by minute, within a day
    and a bit: a zone's daylight-saving jump moves it by an hour at most)."""
    if is_open(window, now):
        return now
    at = now.replace(second=0, microsecond=0)
    for _ in range(26 * 60):
        at += timedelta(minutes=1)
        if is_open(window, at):
            return at
    return at  # unreachable for a non-empty window


def wall(minutes: int) -> time:
    return time(hour=minutes // 60 % 24, minute=minutes % 60)
