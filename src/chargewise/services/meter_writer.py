"""Group commit for meter samples: many chargers' samples go to the store in one database transaction.

Every caller of :meth:`MeterWriter.write` returns only once its samples are committed, so a MeterValues is
acknowledged only after it is durable; while one batch commits, the next one fills. Throughput then follows
the store's batched insert rate rather than its per-commit latency.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from chargewise.domain.model import MeterSample
from chargewise.domain.ports import TransactionStore


class MeterWriter:
    def __init__(self, store: TransactionStore, *, max_batch: int = 5000) -> None:
        self._store = store
        self._max_batch = max_batch
        self._buffer: list[MeterSample] = []
        self._batch_done: asyncio.Future[None] | None = None
        self._flusher: asyncio.Task[None] | None = None

    async def write(self, samples: Sequence[MeterSample]) -> None:
        """Store ``samples`` durably; raises what the store raised if their batch failed to commit."""
        if not samples:
            return
        loop = asyncio.get_running_loop()
        if self._batch_done is None:
            self._batch_done = loop.create_future()
        done = self._batch_done
        self._buffer.extend(samples)
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
                        await self._store.add_meter_samples(batch[start : start + self._max_batch])
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
