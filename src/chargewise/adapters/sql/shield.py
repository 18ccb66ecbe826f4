"""``Shield``: run database operations to the end even when their caller is cancelled.

A caller cancelled in the middle of a SQLAlchemy call makes it tear down the pooled connection, and with
aiosqlite that teardown can leave a task that never finishes and hangs event-loop shutdown. Run each
operation through ``Shield.run`` instead: the caller still sees ``CancelledError`` at once, the operation
finishes in the background (a write still commits), and ``drain`` waits for the stragglers before closing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

_R = TypeVar("_R")


class Shield:
    """One per store; call ``drain`` before disposing the engine."""

    def __init__(self) -> None:
        self._running: set[asyncio.Future[Any]] = set()

    async def run(self, operation: Coroutine[Any, Any, _R]) -> _R:
        """Await ``operation`` in its own task, which the caller's cancellation does not reach."""
        task = asyncio.ensure_future(operation)
        self._running.add(task)  # keep a reference until it is done
        task.add_done_callback(self._finished)
        return await asyncio.shield(task)

    async def drain(self) -> None:
        """Return once no operation is running (including ones whose callers were cancelled)."""
        while self._running:
            await asyncio.gather(*self._running, return_exceptions=True)

    def _finished(self, task: asyncio.Future[Any]) -> None:
        self._running.discard(task)
        if not task.cancelled():
            task.exception()  # mark it retrieved: a caller still waiting gets it through the shield
