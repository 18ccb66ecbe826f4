"""A small seeded random number generator: SplitMix64 with a 64-bit state (tens of bytes instead of the
2.5 KB of a Mersenne-Twister ``random.Random``), so that each of 10,000 chargers can own several independent
streams. Seeded from text, so ``"{seed}/{charger}/rf"`` gives the same stream in every process and Python
version. Quality is ample for simulation (SplitMix64 passes BigCrush); it is not for cryptography.
"""

from __future__ import annotations

import hashlib
import math

_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15


class Rng:
    """The subset of ``random.Random`` the simulator uses, on a 64-bit state."""

    __slots__ = ("_spare", "_state")

    def __init__(self, seed: str) -> None:
        self._state = int.from_bytes(hashlib.blake2b(seed.encode(), digest_size=8).digest(), "little")
        self._spare: float | None = None

    def _next(self) -> int:
        self._state = z = (self._state + _GOLDEN) & _MASK
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
        return z ^ (z >> 31)

    def random(self) -> float:
        """Uniform in [0, 1)."""
        return (self._next() >> 11) * (1.0 / (1 << 53))

    def uniform(self, a: float, b: float) -> float:
        return a + (b - a) * self.random()

    def randrange(self, n: int) -> int:
        """Uniform integer in [0, n) for n up to 2**64."""
        return self._next() % n

    def getrandbits(self, k: int) -> int:
        bits, value = 0, 0
        while bits < k:
            value = (value << 64) | self._next()
            bits += 64
        return value >> (bits - k)

    def gauss(self, mu: float = 0.0, sigma: float = 1.0) -> float:
        """Normal deviate (Box-Muller, the second value kept for the next call)."""
        if self._spare is not None:
            z, self._spare = self._spare, None
            return mu + sigma * z
        u1 = 1.0 - self.random()  # (0, 1]
        u2 = self.random()
        radius = math.sqrt(-2.0 * math.log(u1))
        self._spare = radius * math.sin(2.0 * math.pi * u2)
        return mu + sigma * radius * math.cos(2.0 * math.pi * u2)
