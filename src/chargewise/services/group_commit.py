"""Group commit: many callers' items written to the store in one database transaction.

Every caller of :meth:`GroupCommit.write` returns only once its items are committed (so an acknowledgement
that follows is backed by a durable write); while one batch commits, the next one fills. Throughput then
follows the store's batched write rate rather than its per-commit latency.

One caller's bad item never fails another caller's write: when a batch fails, each write in it is retried
alone, so only the writes that fail on their own get the store's exception (a store that is down costs one
more attempt per write). A write is never split across batches (one larger than ``max_batch`` is a batch of
its own): a failed batch, rolled back, left nothing of any write behind, and its retries store nothing twice.
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
        # one (items, waiter) per write: a cancelled caller cancels only its own waiter
        self._writes: list[tuple[Sequence[T], asyncio.Future[None]]] = []
        self._flusher: asyncio.Task[None] | None = None

    def pending(self) -> int:
        """Items queued for the next batch (the queue depth /metrics shows)."""
        return sum(len(items) for items, _ in self._writes)

    async def write(self, items: Sequence[T]) -> None:
        """Store ``items`` durably; raises what the store raised if they failed to commit (alone: another
        caller's bad item in the same batch does not fail this write)."""
        if items:
            await self.submit(items)

    def submit(self, items: Sequence[T]) -> asyncio.Future[None]:
        """Queue ``items`` for the next batch and return the future of their commit, without waiting for it
        (its result is None, or the exception the store raised for these items)."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        if not items:
            waiter.set_result(None)
            return waiter
        self._writes.append((items, waiter))
        if self._flusher is None:
            self._flusher = loop.create_task(self._flush())
        return waiter

    async def _flush(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._writes:
                wait = self._last_start + self._linger - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)  # writes arriving meanwhile join this batch
                self._last_start = loop.time()
                writes, self._writes = self._writes, []
                for batch in _batches(writes, self._max_batch):
                    await self._commit(batch)
        finally:
            self._flusher = None

    async def _commit(self, writes: list[tuple[Sequence[T], asyncio.Future[None]]]) -> None:
        try:
            await self._flush_batch([item for items, _ in writes for item in items])
        except Exception as exc:
            if len(writes) == 1:  # the waiting handler answers InternalError; nothing of it is acknowledged
                _settle(writes[0][1], exc)
                return
            for write in writes:  # whose item was it? each write alone: only the failing ones fail
                await self._commit([write])
        else:
            for _, waiter in writes:
                _settle(waiter, None)

    async def drain(self) -> None:
        """Wait until everything written so far is committed (call before closing the store)."""
        while self._flusher is not None:
            await asyncio.shield(self._flusher)


def _batches(
    writes: list[tuple[Sequence[T], asyncio.Future[None]]], max_batch: int
) -> list[list[tuple[Sequence[T], asyncio.Future[None]]]]:
    """Consecutive writes grouped into batches of at most ``max_batch`` items, never splitting a write (a write
    larger than ``max_batch`` is a batch of its own)."""
    batches: list[list[tuple[Sequence[T], asyncio.Future[None]]]] = []
    size = max_batch
    for write in writes:
        if size + len(write[0]) > max_batch:
            batches.append([])
            size = 0
        batches[-1].append(write)
        size += len(write[0])
    return batches


def _settle(waiter: asyncio.Future[None], exc: Exception | None) -> None:
    if waiter.done():  # its caller was cancelled: the write happened (or failed) all the same
        return
    if exc is None:
        waiter.set_result(None)
    else:
        waiter.set_exception(exc)
