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
    def __init__(self, flush: Callable[[Sequence[T]], Awaitable[None]], *, max_batch: int = 5000) -> None:
        self._flush_batch = flush
        self._max_batch = max_batch
        self._buffer: list[T] = []
        self._waiters: list[asyncio.Future[None]] = []  # one per write: a cancelled caller cancels only its own
        self._flusher: asyncio.Task[None] | None = None

    async def write(self, items: Sequence[T]) -> None:
        """Store ``items`` durably; raises what the store raised if their batch failed to commit."""
        if not items:
            return
        loop = asyncio.get_running_loop()
        waiter = loop.create_future()
        self._waiters.append(waiter)
        self._buffer.extend(items)
        if self._flusher is None:
            self._flusher = loop.create_task(self._flush())
        await waiter

    async def _flush(self) -> None:
        try:
            while self._buffer:
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
