"""Group commit: many callers' items written to the store in one database transaction.

Every caller of :meth:`GroupCommit.write` returns only once its items are committed (so an acknowledgement
that follows is backed by a durable write); while one batch commits, the next one fills. Throughput then
follows the store's batched write rate rather than its per-commit latency.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")


class GroupCommit(Generic[T]):
    """``linger``: a batch starts no sooner than this many seconds after the previous one started, so that at
    a steady trickle (many chargers, few messages each per loop iteration) one commit serves many writers
    instead of each paying a commit's fixed cost; the first write after a quiet spell is not held back."""

    def __init__(
        self, flush: Callable[[Sequence[T]], Awaitable[None]], *, max_batch: int = 5000, linger: float = 0.0
    ) -> None:
        self._flush_batch = flush
        self._max_batch = max_batch
        self._linger = linger
        self._last_start = float("-inf")
        self._buffer: list[T] = []
        self._waiters: list[asyncio.Future[None]] = []  # one per write: a cancelled caller cancels only its own
        self._flusher: asyncio.Task[None] | None = None

    async def write(self, items: Sequence[T]) -> None:
        """Store ``items`` durably; raises what the store raised if their batch failed to commit."""
        if items:
            await self.submit(items)

    def submit(self, items: Sequence[T]) -> asyncio.Future[None]:
        """Queue ``items`` for the next batch and return the future of their commit, without waiting for it
        (its result is None, or the exception the store raised)."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        if not items:
            waiter.set_result(None)
            return waiter
        self._waiters.append(waiter)
        self._buffer.extend(items)
        if self._flusher is None:
            self._flusher = loop.create_task(self._flush())
        return waiter

    async def _flush(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._buffer:
                wait = self._last_start + self._linger - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)  # writes arriving meanwhile join this batch
                self._last_start = loop.time()
                batch, self._buffer = self._buffer, []
                waiters, self._waiters = self._waiters, []
                try:
                    for start in range(0, len(batch), self._max_batch):
                        await self._flush_batch(batch[start : start + self._max_batch])
                except Exception as exc:  # the waiting handlers answer InternalError; nothing is acknowledged
                    for waiter in waiters:
                        if not waiter.done():
                            waiter.set_exception(exc)
                else:
                    for waiter in waiters:
                        if not waiter.done():
                            waiter.set_result(None)
        finally:
            self._flusher = None

    async def drain(self) -> None:
        """Wait until everything written so far is committed (call before closing the store)."""
        while self._flusher is not None:
            await asyncio.shield(self._flusher)
