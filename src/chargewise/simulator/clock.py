"""Simulated time. The firmware only ever sees ``now`` as POSIX seconds of *simulated* time; the runner maps
the event loop's clock onto it with a speed factor (``--speed 60`` runs an hour in a minute).
"""

from __future__ import annotations

from datetime import UTC, datetime


def iso(t: float) -> str:
    """OCPP date-time for POSIX seconds ``t``: UTC, milliseconds, ``Z`` suffix."""
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(text: str) -> float:
    """POSIX seconds of an OCPP date-time (``Z`` or an offset; naive text is taken as UTC)."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


class SimClock:
    """Maps the event loop's monotonic clock to simulated POSIX time: ``sim = start + (loop - origin) * speed``.

    Build it once per run with the loop's ``time()`` at the start; pass :meth:`now` to the firmware and use
    :meth:`loop_time` to schedule a loop timer for a simulated deadline.
    """

    __slots__ = ("origin", "speed", "start")

    def __init__(self, *, start: float, origin: float, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.start = start
        self.origin = origin
        self.speed = speed

    def sim(self, loop_now: float) -> float:
        """Simulated time at event-loop time ``loop_now``."""
        return self.start + (loop_now - self.origin) * self.speed

    def loop_time(self, sim_t: float) -> float:
        """Event-loop time at which simulated time reaches ``sim_t``."""
        return self.origin + (sim_t - self.start) / self.speed

    def real_seconds(self, sim_seconds: float) -> float:
        """How long ``sim_seconds`` of simulated time last in real time."""
        return sim_seconds / self.speed
