"""When a ``solar`` session switches on and off: only once the surplus has covered (or failed to cover) its
minimum for ``solar_delay_s`` in a row, so passing clouds do not switch a car every cycle (evcc's enable and
disable delays, "Solar charging" in its docs, do the same). Between, a running session keeps its minimum.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class SurplusClock:
    """Whether the surplus covered the session's minimum last cycle, and since when that has been so."""

    enough: bool
    since: datetime


class Verdict(enum.StrEnum):
    SHARE = "share"  # take part in sharing the surplus as usual
    WAIT = "wait"  # off: the surplus has not covered the minimum long enough yet
    KEEP = "keep"  # on at the minimum: the surplus fell short, but not for long enough yet


def tick(previous: SurplusClock | None, enough: bool, now: datetime) -> SurplusClock:
    if previous is not None and previous.enough == enough:
        return previous
    return SurplusClock(enough=enough, since=now)


def decide(on: bool, clock: SurplusClock, now: datetime, delay_s: float) -> Verdict:
    settled = (now - clock.since).total_seconds() >= delay_s
    if on:
        return Verdict.KEEP if not clock.enough and not settled else Verdict.SHARE
    return Verdict.SHARE if clock.enough and settled else Verdict.WAIT
