"""Failed-password throttling: too many wrong passwords within a window, and a key is refused cheaply.

A key is a charger id or a remote address (the handshake keeps one :class:`Throttle` for each). Pure: the
caller passes ``now`` (monotonic seconds) to every method, so tests drive time as data.

Rules:
1. Only failures count; a key with ``failures`` wrong passwords in the last ``window`` seconds is blocked
   until the oldest of them is ``window`` seconds old.
2. Memory is bounded: at most ``failures`` timestamps per key and ``max_keys`` keys; past that, keys whose
   failures are all older than ``window`` are forgotten first, then the least recently failed.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True, slots=True)
class ThrottleLimits:
    failures: int = 5  # wrong passwords allowed per key within `window`; 0 disables throttling
    window: float = 60.0  # seconds
    max_keys: int = 100_000  # keys remembered at most (each holds at most `failures` floats)


class Throttle:
    def __init__(self, limits: ThrottleLimits) -> None:
        self.limits = limits
        self._failures: dict[str, deque[float]] = {}  # key -> its last failures, oldest first; dict order: LRU

    def retry_after(self, key: str, now: float) -> float | None:
        """Seconds until ``key`` may try a password again, or None if it may now. Blocked: answer at once,
        without checking the password."""
        limits = self.limits
        times = self._failures.get(key)
        if limits.failures <= 0 or times is None or len(times) < limits.failures:
            return None
        wait = times[0] + limits.window - now
        return wait if wait > 0 else None

    def fail(self, key: str, now: float) -> None:
        """Record one wrong password for ``key`` at ``now``."""
        if self.limits.failures <= 0:
            return
        times = self._failures.pop(key, None)
        if times is None:
            times = deque(maxlen=self.limits.failures)
        times.append(now)
        self._failures[key] = times  # re-inserted: the most recently failed key is last
        if len(self._failures) > self.limits.max_keys:
            self._forget(now)

    def __len__(self) -> int:
        return len(self._failures)

    def _forget(self, now: float) -> None:
        horizon = now - self.limits.window
        for key in [k for k, times in self._failures.items() if times[-1] <= horizon]:
            del self._failures[key]
        while len(self._failures) > self.limits.max_keys:
            del self._failures[next(iter(self._failures))]
