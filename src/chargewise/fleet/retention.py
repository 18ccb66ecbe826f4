"""Which stored log uploads to delete: those older than the age limit, then the oldest beyond the count limit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, kw_only=True, slots=True)
class Retention:
    """How long uploaded files are kept: ``days`` at most, and no more than ``count`` of them (all chargers)."""

    days: float = 30.0
    count: int = 1000
    max_bytes: int = 50 * 1024 * 1024  # one upload larger than this is refused (HTTP 413)


@dataclass(frozen=True, kw_only=True, slots=True)
class Kept:
    """One stored record: its id and when it was requested (the age counts from then)."""

    id: str
    at: datetime


def to_delete(records: Sequence[Kept], policy: Retention, now: datetime) -> list[str]:
    """The ids to delete at ``now``, oldest first: every record past ``policy.days``, and the oldest of the
    rest while more than ``policy.count`` remain."""
    cutoff = now - timedelta(days=policy.days)
    ordered = sorted(records, key=lambda r: (r.at, r.id))
    old = [r.id for r in ordered if r.at < cutoff]
    young = [r.id for r in ordered if r.at >= cutoff]
    surplus = max(0, len(young) - max(0, policy.count))
    return old + young[:surplus]
