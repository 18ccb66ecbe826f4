"""Signed POSTs that are retried: what webhooks (``webhooks``) and job callbacks (``jobs``) send.

Rules:

1. Every body is signed with HMAC-SHA256 under the receiver's secret: ``X-Chargewise-Signature: sha256=<hex>``
   over the exact bytes sent. A receiver recomputes it and compares in constant time (:func:`verify`).
2. A 2xx answer is a success; anything else (another status, a refused connection, a timeout) is a failed
   attempt, retried after ``first_s``, then twice as long each time up to ``max_s``, ``attempts`` times in all;
   then the body is given up (counted as dropped).
3. The sending itself is an adapter's (``adapters.webhook_sender``): a :data:`Post` returns None on success or
   one line saying what went wrong; it never raises for a network failure.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

SIGNATURE = "X-Chargewise-Signature"

#: POST ``body`` with ``headers`` to ``url``: None if answered 2xx, else what went wrong (one line).
Post = Callable[[str, bytes, dict[str, str]], Awaitable[str | None]]
Sleep = Callable[[float], Awaitable[None]]


def sign(secret: str, body: bytes) -> str:
    """The signature header's value for ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str) -> bool:
    """What a receiver does: True if ``header`` is the signature of ``body`` under ``secret``."""
    return hmac.compare_digest(sign(secret, body).encode(), header.encode())


@dataclass(frozen=True, kw_only=True, slots=True)
class Backoff:
    first_s: float = 1.0
    max_s: float = 300.0
    attempts: int = 8

    def delay(self, failed: int) -> float:
        """Seconds to wait after the ``failed``-th failed attempt (1, 2, ...)."""
        return min(self.max_s, self.first_s * 2.0 ** (failed - 1))


@dataclass(kw_only=True)
class DeliveryStatus:
    """How deliveries to one receiver went, since the server started."""

    delivered: int = 0
    failed_attempts: int = 0
    consecutive_failures: int = 0  # 0 once an attempt succeeds
    given_up: int = 0  # bodies dropped after every attempt failed
    last_error: str | None = None
    last_attempt_at: datetime | None = None
    last_success_at: datetime | None = None


async def deliver(
    post: Post,
    url: str,
    body: bytes,
    *,
    secret: str,
    headers: dict[str, str],
    backoff: Backoff,
    status: DeliveryStatus,
    now: Callable[[], datetime],
    sleep: Sleep = asyncio.sleep,
) -> bool:
    """Send ``body`` until it is accepted or every attempt failed (rules 1-2); ``status`` is updated as it goes."""
    signed = {**headers, "Content-Type": "application/json", SIGNATURE: sign(secret, body)}
    for attempt in range(1, backoff.attempts + 1):
        status.last_attempt_at = now()
        error = await post(url, body, signed)
        if error is None:
            status.delivered += 1
            status.consecutive_failures = 0
            status.last_success_at = status.last_attempt_at
            return True
        status.failed_attempts += 1
        status.consecutive_failures += 1
        status.last_error = error
        if attempt < backoff.attempts:
            await sleep(backoff.delay(attempt))
    status.given_up += 1
    return False
