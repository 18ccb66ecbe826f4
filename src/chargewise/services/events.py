"""The event hub: what happens in the central system, told to whoever listens (the REST event stream, webhooks,
MQTT, metrics, the dashboard).

Rules:

1. Publishing never waits and never fails the publisher: :meth:`EventHub.publish` is synchronous and
   O(listeners); with nobody listening it costs one small object kept in the replay ring (about a microsecond).
2. A slow listener never holds anyone up: each subscription has a bounded queue; when it is full the oldest
   event is dropped and counted (:attr:`Subscription.dropped`), so a listener can say it missed some.
3. Every event has a sequence number, increasing per process, and the hub keeps the last ``keep`` events, so a
   listener that reconnects (SSE ``Last-Event-ID``) replays what it missed, as far back as that reaches.
4. Filters are by kind and by charger; an empty filter passes everything.
"""

from __future__ import annotations

import asyncio
import enum
from collections import deque
from collections.abc import AsyncIterator, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class Kind(enum.StrEnum):
    """What an event is about; ``data`` holds the details listed for each."""

    CONNECTION = "connection"  # connected: bool, version: "1.6" | "2.0.1" (when connected)
    STATUS = "status"  # evse, connector, status, error (None or the charger's error code)
    METER = "meter"  # evse, transaction_id, and the latest measurands: power_w, energy_wh, current_a [L1..L3], soc
    TRANSACTION = "transaction"  # state: "started" | "stopped", transaction_id, evse, id_tag, energy_wh, reason
    ALLOCATION = "allocation"  # site, limits: {evse_id: {"limit_a", "phases", "why"}}
    FINDING = "finding"  # cause, confidence, summary
    FIRMWARE = "firmware"  # campaign / firmware status changes
    COMMAND = "command"  # action, outcome (a call we sent and how it ended)


@dataclass(frozen=True, kw_only=True, slots=True)
class Event:
    seq: int
    kind: Kind
    at: datetime
    charger_id: str | None
    data: Mapping[str, Any]
    node: str = ""  # the cluster node it happened on, when not this one (services/cluster.py)

    def as_json(self) -> dict[str, Any]:
        """The event as the REST stream and webhooks send it (timestamps UTC ISO 8601)."""
        out = {"seq": self.seq, "kind": self.kind.value, "at": self.at.isoformat().replace("+00:00", "Z"),
               "charger_id": self.charger_id, "data": dict(self.data)}  # fmt: skip
        if self.node:
            out["node"] = self.node
        return out


@dataclass(frozen=True, kw_only=True, slots=True)
class Filter:
    kinds: frozenset[Kind] = frozenset()
    chargers: frozenset[str] = frozenset()

    def passes(self, event: Event) -> bool:
        if self.kinds and event.kind not in self.kinds:
            return False
        return not self.chargers or event.charger_id in self.chargers


@dataclass(eq=False)
class Subscription:
    """Events in order, as they come; iterate with ``async for``, end with :meth:`close` (or ``with``)."""

    hub: EventHub
    filter: Filter
    maxsize: int
    dropped: int = 0
    _queue: deque[Event] = field(default_factory=deque)
    _ready: asyncio.Event = field(default_factory=asyncio.Event)
    _closed: bool = False

    def offer(self, event: Event) -> None:
        if not self.filter.passes(event):
            return
        if len(self._queue) >= self.maxsize:
            self._queue.popleft()
            self.dropped += 1
        self._queue.append(event)
        self._ready.set()

    async def next(self, wait_s: float | None = None) -> Event | None:
        """The next event; None when ``wait_s`` seconds pass without one or the subscription is closed."""
        while not self._queue:
            if self._closed:
                return None
            self._ready.clear()
            try:
                await asyncio.wait_for(self._ready.wait(), wait_s)
            except TimeoutError:
                return None
        return self._queue.popleft()

    def pending(self) -> int:
        return len(self._queue)

    async def __aiter__(self) -> AsyncIterator[Event]:
        while (event := await self.next()) is not None:
            yield event

    def close(self) -> None:
        self._closed = True
        self._ready.set()
        self.hub.unsubscribe(self)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class EventHub:
    """One per process (``bootstrap``); services :meth:`publish`, adapters :meth:`subscribe`."""

    def __init__(self, *, keep: int = 2000) -> None:
        self._subscriptions: list[Subscription] = []
        self._recent: deque[Event] = deque(maxlen=keep)
        self._seq = 0
        self.published: dict[Kind, int] = dict.fromkeys(Kind, 0)  # per kind since start (for /metrics)
        self.dropped_closed = 0  # events dropped by subscriptions since closed (for /metrics)

    def publish(
        self, kind: Kind, at: datetime, charger_id: str | None, data: Mapping[str, Any], *, node: str = ""
    ) -> Event:
        """Tell every listener; ``node``: the cluster node it happened on, if another one."""
        self._seq += 1
        event = Event(seq=self._seq, kind=kind, at=at, charger_id=charger_id, data=data, node=node)
        self._recent.append(event)
        self.published[kind] += 1
        for subscription in self._subscriptions:
            subscription.offer(event)
        return event

    def subscribe(
        self,
        *,
        kinds: Collection[Kind] = (),
        chargers: Collection[str] = (),
        after: int | None = None,
        maxsize: int = 1000,
    ) -> Subscription:
        """A new subscription; ``after`` (a sequence number) first replays the kept events newer than it."""
        subscription = Subscription(self, Filter(kinds=frozenset(kinds), chargers=frozenset(chargers)), maxsize)
        if after is not None:
            for event in self._recent:
                if event.seq > after:
                    subscription.offer(event)
        self._subscriptions.append(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        if subscription in self._subscriptions:
            self._subscriptions.remove(subscription)
            self.dropped_closed += subscription.dropped

    def dropped(self) -> int:
        """Events dropped by slow listeners since start (open and closed subscriptions)."""
        return self.dropped_closed + sum(s.dropped for s in self._subscriptions)

    def listeners(self) -> int:
        return len(self._subscriptions)

    def recent(self, limit: int = 100, *, kinds: Collection[Kind] = (), chargers: Collection[str] = ()) -> list[Event]:
        """The last ``limit`` kept events that pass the filter, oldest first."""
        flt = Filter(kinds=frozenset(kinds), chargers=frozenset(chargers))
        kept = [e for e in self._recent if flt.passes(e)]
        return kept[-limit:] if limit > 0 else []
