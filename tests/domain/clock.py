"""A clock for tests: the in-memory fake of the domain's ``Clock`` port. It stands still until a test moves it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


class SteppingClock:
    """``now()`` returns the same instant until :meth:`advance` moves it forward."""

    def __init__(self, start: datetime = T0) -> None:
        self.current = start

    def now(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> datetime:
        """Move time forward and return the new instant."""
        self.current += timedelta(seconds=seconds)
        return self.current
