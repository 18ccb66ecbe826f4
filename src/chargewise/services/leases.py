"""Leases: jobs that must run on one node at a time (each site's reconcile loop, the reapers, campaigns).

Rules:

1. A lease is a key in a bucket whose keys expire after ``ttl`` seconds. A node takes it with ``create`` (only
   if absent) and keeps it by rewriting it with ``update`` at the revision it holds, every ``ttl / 4``.
2. A node acts only while :meth:`Leases.holds` says so: its last successful write began less than
   ``FENCE * ttl`` ago by its own monotonic clock. The key expires on the bus ``ttl`` after that write reached
   it, later than the holder stopped acting; so a node that lost its bus (or froze) has stopped before another
   can take over, and two nodes never act at once.
3. A dead node's leases are taken by a live node within ``ttl`` plus one retry interval.
4. Leaving (``release``) deletes the key, so another node takes over at its next try.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from chargewise.domain.bus import Bus, BusError, KeyValue, key_for

log = logging.getLogger(__name__)
FENCE = 0.6


@dataclass
class _Held:
    revision: int | None = None  # None: not held
    written: float = float("-inf")  # monotonic time the last successful write began


class Leases:
    """This node's leases; :meth:`want` the ones it should hold, :meth:`run` in the background."""

    def __init__(self, bus: Bus, node: str, *, ttl: float = 5.0, monotonic: Callable[[], float] = time.monotonic,
                 bucket: str = "cw_leases") -> None:  # fmt: skip
        self.bus, self.node, self.ttl, self.monotonic, self.bucket_name = bus, node, ttl, monotonic, bucket
        self._bucket: KeyValue | None = None
        self._held: dict[str, _Held] = {}
        self._changed = asyncio.Event()

    def want(self, name: str) -> None:
        """Try to hold lease ``name`` from now on (at once, then every retry)."""
        if name not in self._held:
            self._held[name] = _Held()
            self._changed.set()

    def wanted(self, name: str) -> bool:
        """:meth:`want` it, and say whether this node holds it now (a singleton job asks before each turn)."""
        self.want(name)
        return self.holds(name)

    def holds(self, name: str) -> bool:
        """Whether this node may act for ``name`` now (see rule 2)."""
        held = self._held.get(name)
        return held is not None and held.revision is not None and (self.monotonic() - held.written < FENCE * self.ttl)

    def held(self) -> list[str]:
        return sorted(n for n in self._held if self.holds(n))

    async def holder(self, name: str) -> str | None:
        """Which node holds ``name`` now, per the bus."""
        found = await (await self._kv()).get(key_for(name))
        return None if found is None else found.value.decode()

    async def _kv(self) -> KeyValue:
        if self._bucket is None:
            self._bucket = await self.bus.bucket(self.bucket_name, ttl=self.ttl)
        return self._bucket

    async def refresh(self) -> None:
        """Take or keep every wanted lease once."""
        kv = await self._kv()
        for name, held in self._held.items():
            began = self.monotonic()
            key, me = key_for(name), self.node.encode()
            try:
                if held.revision is not None:
                    revision = await kv.update(key, me, held.revision)
                    if revision is None:
                        log.warning("lease %s lost (another node took it)", name)
                else:
                    revision = await kv.create(key, me)
                    if revision is not None:
                        log.info("lease %s taken by node %s", name, self.node)
            except BusError as exc:
                log.warning("lease %s not refreshed: %s", name, exc)
                continue
            held.revision = revision
            if revision is not None:
                held.written = began

    async def run(self) -> None:
        """Refresh every ``ttl / 4`` s (at once when a lease is newly wanted), until cancelled."""
        while True:
            try:
                await self.refresh()
            except Exception:
                log.exception("lease refresh failed")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), self.ttl / 4)

    async def release(self) -> None:
        """Give up every lease held (on a clean stop), so other nodes take them over at once."""
        kv = await self._kv()
        for name, held in self._held.items():
            if held.revision is not None:
                with contextlib.suppress(BusError):
                    found = await kv.get(key_for(name))
                    if found is not None and found.revision == held.revision:
                        await kv.delete(key_for(name))
            held.revision = None
