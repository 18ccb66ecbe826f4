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
        self._batch_done: asyncio.Future[None] | None = None
        self._flusher: asyncio.Task[None] | None = None

    async def write(self, items: Sequence[T]) -> None:
        """Store ``items`` durably; raises what the store raised if their batch failed to commit."""
        if not items:
            return
        loop = asyncio.get_running_loop()
        if self._batch_done is None:
            self._batch_done = loop.create_future()
        done = self._batch_done
        self._buffer.extend(items)
        if self._flusher is None:
            self._flusher = loop.create_task(self._flush())
        await asyncio.shield(done)

    async def _flush(self) -> None:
        try:
            while self._buffer:
                batch, self._buffer = self._buffer, []
                done, self._batch_done = self._batch_done, None
                assert done is not None
                try:
                    for start in range(0, len(batch), self._max_batch):
                        await self._flush_batch(batch[start : start + self._max_batch])
                except Exception as exc:  # the waiting handlers answer InternalError; nothing is acknowledged
                    done.set_exception(exc)
                    done.exception()  # mark retrieved: every waiter sees it through shield()
                else:
                    done.set_result(None)
        finally:
            self._flusher = None

    async def drain(self) -> None:
        """Wait until everything written so far is committed (call before closing the store)."""
        while self._flusher is not None:
            await asyncio.shield(self._flusher)
