"""Bounds on the chargers the unknown-charger policy ``pending`` adds: how many may wait, and how fast they come.

Without them any client could fill the database with Pending chargers under ids it makes up. Two limits, both
in the config file's ``[server]`` table: ``max_pending`` Pending chargers at once (an operator approves,
rejects or removes them), and ``pending_per_minute`` new ones a minute (a token bucket: a burst of that many,
then one every ``60 / pending_per_minute`` s). The handshake asks :meth:`Newcomers.refusal` (and a refused
charger gets HTTP 503 with Retry-After); the BootNotification that creates the row asks :meth:`Newcomers.take`
again, as several handshakes may have passed at once (over the bound: the boot is answered Rejected and no row
is created). Time comes in as data.
"""

from __future__ import annotations

from datetime import datetime

RETRY_AFTER = 60  # s a refused newcomer is told to wait before it connects again


class Newcomers:
    """Pure bookkeeping of the two bounds; one per server process."""

    def __init__(self, *, max_pending: int, per_minute: int) -> None:
        self.max_pending = max_pending
        self.per_minute = per_minute
        self._tokens = float(per_minute)
        self._at: datetime | None = None

    def refusal(self, pending: int, now: datetime) -> str | None:
        """Why no new Pending charger may be added now (``pending`` are waiting already), or None."""
        if pending >= self.max_pending:
            return (
                f"{pending} chargers are waiting for approval already (server.max_pending = {self.max_pending}); "
                "approve or remove some, then retry"
            )
        if self._refilled(now) < 1:
            return f"more than {self.per_minute} new chargers a minute (server.pending_per_minute); retry later"
        return None

    def take(self, pending: int, now: datetime) -> str | None:
        """Count one new Pending charger if the bounds allow it; else say why not (and count nothing)."""
        why = self.refusal(pending, now)
        if why is None:
            self._tokens -= 1
        return why

    def _refilled(self, now: datetime) -> float:
        if self._at is not None:
            elapsed = max((now - self._at).total_seconds(), 0.0)
            self._tokens = min(float(self.per_minute), self._tokens + elapsed * self.per_minute / 60)
        self._at = now
        return self._tokens
