"""The bounded queue of transaction messages: what a charger must deliver reliably and in order, across
disconnects (OCPP 1.6 4.10 / 2.0.1 E04). Everything transactional goes through it, online or not.

Rules:

1. Messages leave in the order they were put, one at a time; the head is resent until answered.
2. A timeout or a lost connection is not a failure: the message stays at the head and is resent after
   reconnecting (the CSMS may see a duplicate; 1.6 dedupes on content, 2.0.1 on transactionId + seqNo).
3. A CallError answer counts as an attempt; after ``attempts`` of them the message is discarded
   (TransactionMessageAttempts / MessageAttempts[TransactionEvent]), retried ``retry_interval`` apart.
4. The queue holds at most ``limit`` messages (an ESP32 has little RAM: the ESP32 template keeps 60). When
   full, the oldest *meter* message is dropped first (1.6 MeterValues, 2.0.1 TransactionEvent Updated);
   Start/Stop (Started/Ended) messages are never dropped: if nothing else is left they are kept beyond the
   bound and counted in ``over_bound``. In 2.0.1 a dropped Updated event leaves a seqNo gap, which is how
   the CSMS can tell.
"""

from __future__ import annotations

import enum
from collections import deque
from dataclasses import dataclass, field
from typing import Any


class Kind(enum.Enum):
    START = "start"
    STOP = "stop"
    METER = "meter"  # droppable
    EVENT = "event"  # 2.0.1 Updated carrying a state change (not dropped)


@dataclass(kw_only=True, slots=True)
class Queued:
    """One transaction message. ``tx_local`` names the charger's transaction so that a 1.6 transactionId
    learnt later (from StartTransaction.conf) can be filled in when the message is sent."""

    action: str
    payload: dict[str, Any]
    kind: Kind
    tx_local: int
    created: float
    errors: int = 0
    not_before: float = 0.0
    in_flight: str | None = None  # unique id of the call carrying it
    meta: dict[str, Any] = field(default_factory=dict)


class Outbox:
    """Bounded FIFO of :class:`Queued` messages (rules in the module docstring)."""

    def __init__(self, limit: int) -> None:
        self.limit = max(1, limit)
        self._items: deque[Queued] = deque()
        self.dropped = 0
        self.discarded = 0
        self.over_bound = 0

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Any:
        return iter(self._items)

    def put(self, item: Queued) -> None:
        """Append ``item``, dropping the oldest meter message if the queue is full (rule 4)."""
        if len(self._items) >= self.limit:
            victim = next((q for q in self._items if q.kind is Kind.METER and q.in_flight is None), None)
            if victim is not None:
                self._items.remove(victim)
                self.dropped += 1
            elif item.kind is Kind.METER:
                self.dropped += 1
                return
            else:
                self.over_bound += 1
        self._items.append(item)

    def head(self) -> Queued | None:
        return self._items[0] if self._items else None

    def delivered(self, item: Queued) -> None:
        """The head was answered: remove it."""
        if self._items and self._items[0] is item:
            self._items.popleft()

    def failed(self, item: Queued, *, now: float, attempts: int, retry_interval: float) -> bool:
        """The head got a CallError: retry later, or discard after ``attempts`` errors (True if discarded)."""
        item.in_flight = None
        item.errors += 1
        if item.errors >= attempts:
            self.delivered(item)
            self.discarded += 1
            return True
        item.not_before = now + retry_interval * item.errors
        return False

    def unsent(self, item: Queued) -> None:
        """The call carrying ``item`` timed out or the connection dropped: it stays at the head (rule 2)."""
        item.in_flight = None

    def reset_in_flight(self) -> None:
        """The connection is gone: nothing is in flight any more."""
        for item in self._items:
            item.in_flight = None
