"""The in-process bus: the embedded default (one node, nothing to install), and several nodes in one test
process sharing one :class:`MemoryBroker`. Behaves as ``nats_bus`` does: messages go to every matching
subscription, a request with no responder fails at once, keys of a ``ttl`` bucket expire unless rewritten."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from chargewise.domain.bus import (
    Entry,
    Handler,
    NoResponder,
    RequestTimeout,
    Responder,
    subject_matches,
)


@dataclass(eq=False)
class _Sub:
    broker: MemoryBroker
    pattern: str
    handler: Handler | None = None
    responder: Responder | None = None

    async def stop(self) -> None:
        with contextlib.suppress(ValueError):
            self.broker.subs.remove(self)


@dataclass
class MemoryBucket:
    ttl: float | None
    monotonic: Callable[[], float]
    data: dict[str, tuple[bytes, int, float]] = field(default_factory=dict)  # key -> value, revision, written
    revision: int = 0

    def _live(self, key: str) -> tuple[bytes, int, float] | None:
        found = self.data.get(key)
        if found is not None and self.ttl is not None and self.monotonic() - found[2] >= self.ttl:
            del self.data[key]
            return None
        return found

    async def get(self, key: str) -> Entry | None:
        found = self._live(key)
        return None if found is None else Entry(key=key, value=found[0], revision=found[1])

    async def put(self, key: str, value: bytes) -> int:
        self.revision += 1
        self.data[key] = (value, self.revision, self.monotonic())
        return self.revision

    async def create(self, key: str, value: bytes) -> int | None:
        if self._live(key) is not None:
            return None
        return await self.put(key, value)

    async def update(self, key: str, value: bytes, revision: int) -> int | None:
        found = self._live(key)
        if found is None or found[1] != revision:
            return None
        return await self.put(key, value)

    async def delete(self, key: str) -> None:
        self.data.pop(key, None)

    async def items(self) -> list[Entry]:
        return [Entry(key=k, value=v[0], revision=v[1]) for k in list(self.data) if (v := self._live(k)) is not None]


class MemoryBroker:
    """What the nodes of one process share: subscriptions and buckets."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.subs: list[_Sub] = []
        self.buckets: dict[str, MemoryBucket] = {}
        self.monotonic = monotonic


class MemoryBus:
    """One node's view of a :class:`MemoryBroker` (a private one by default)."""

    def __init__(self, broker: MemoryBroker | None = None) -> None:
        self.broker = broker or MemoryBroker()
        self._closed = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._subs: list[_Sub] = []

    async def publish(self, subject: str, data: bytes) -> None:
        for sub in list(self.broker.subs):
            if sub.handler is not None and subject_matches(sub.pattern, subject):
                task = asyncio.ensure_future(sub.handler(subject, data))  # delivered later, as over a network
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def subscribe(self, subject: str, handler: Handler) -> _Sub:
        return self._add(_Sub(self.broker, subject, handler=handler))

    async def serve(self, subject: str, responder: Responder) -> _Sub:
        return self._add(_Sub(self.broker, subject, responder=responder))

    def _add(self, sub: _Sub) -> _Sub:
        self.broker.subs.append(sub)
        self._subs.append(sub)
        return sub

    async def request(self, subject: str, data: bytes, wait_s: float) -> bytes:
        for sub in self.broker.subs:
            if sub.responder is not None and subject_matches(sub.pattern, subject):
                try:
                    return await asyncio.wait_for(sub.responder(data), wait_s)
                except TimeoutError:
                    raise RequestTimeout(f"no reply on {subject} within {wait_s:g} s") from None
        raise NoResponder(f"nobody serves {subject}")

    async def bucket(self, name: str, *, ttl: float | None = None) -> MemoryBucket:
        found = self.broker.buckets.get(name)
        if found is None:
            found = self.broker.buckets[name] = MemoryBucket(ttl=ttl, monotonic=self.broker.monotonic)
        return found

    def healthy(self) -> bool:
        return not self._closed

    async def close(self) -> None:
        self._closed = True
        for sub in self._subs:
            await sub.stop()
        for task in list(self._tasks):
            task.cancel()
