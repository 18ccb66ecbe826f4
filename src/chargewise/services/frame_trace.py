"""The message trace: the last OCPP frames of each charger, both directions, in memory, for the dashboard's
charger page, ``GET /api/v1/chargers/{id}/trace`` and ``chargewise trace CHARGER``.

Rules:

1. Bounded twice: at most ``per_charger`` frames per charger, and ``total`` in all; past the total, the
   charger heard from least recently loses its trace first (an active charger keeps its own).
2. A frame longer than ``max_frame`` bytes is kept cut, marked with how long it was.
3. Credentials never enter the trace: a frame that may hold one is redacted before it is kept
   (``ocpp.redaction``); the others are kept as they came, undecoded (recording costs a deque append).
4. Followers (a live ``trace`` stream) get each new frame of their charger through a bounded queue; a slow one
   loses the oldest, counted.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

from chargewise.ocpp.redaction import may_hold_credential, redact

IN, OUT = "in", "out"  # from the charger, to the charger


class Frame(NamedTuple):  # kept as a plain tuple (cheapest on the hot path), read back as a Frame
    at: float  # seconds since the epoch (UTC)
    direction: str
    data: bytes
    size: int  # bytes on the wire (data may be cut)

    def as_json(self) -> dict[str, Any]:
        text = self.data.decode("utf-8", errors="replace")
        if self.size > len(self.data):
            text += f"... [{self.size} bytes, cut]"
        at = datetime.fromtimestamp(self.at, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return {"at": at, "direction": self.direction, "frame": text}


@dataclass(eq=False)
class Follower:
    charger_id: str
    maxsize: int = 1000
    dropped: int = 0
    queue: deque[Frame] = field(default_factory=deque)
    ready: asyncio.Event = field(default_factory=asyncio.Event)

    def offer(self, frame: Frame) -> None:
        if len(self.queue) >= self.maxsize:
            self.queue.popleft()
            self.dropped += 1
        self.queue.append(frame)
        self.ready.set()

    async def next(self, wait_s: float | None = None) -> Frame | None:
        """The next frame, or None after ``wait_s`` seconds without one."""
        while not self.queue:
            self.ready.clear()
            try:
                await asyncio.wait_for(self.ready.wait(), wait_s)
            except TimeoutError:
                return None
        return self.queue.popleft()


class FrameTrace:
    """One per process (``bootstrap``); the transport adapter calls :meth:`record` for every frame."""

    def __init__(self, *, per_charger: int = 50, total: int = 20_000, max_frame: int = 8192,
                 now: Callable[[], float] = time.time) -> None:  # fmt: skip
        self.per_charger, self.total, self.max_frame = per_charger, total, max_frame
        self._now = now
        self._frames: OrderedDict[str, deque[tuple[float, str, bytes, int]]] = OrderedDict()
        self._count = 0
        self._followers: dict[str, list[Follower]] = {}
        self.redacted = 0  # frames that were rewritten before being kept (for /metrics)

    def record(self, charger_id: str, direction: str, data: bytes) -> None:
        """Keep one frame (O(1); a frame that may hold a credential is redacted first)."""
        size = len(data)
        if may_hold_credential(data, outgoing=direction == OUT):
            data = redact(data)
            self.redacted += 1
        if len(data) > self.max_frame:
            data = data[: self.max_frame]
        frame = (self._now(), direction, data, size)  # a Frame's fields, without its constructor call
        kept = self._frames.get(charger_id)
        if kept is None:
            kept = self._frames[charger_id] = deque(maxlen=self.per_charger)
        else:
            self._frames.move_to_end(charger_id)
        if len(kept) < self.per_charger:
            self._count += 1
        kept.append(frame)
        while self._count > self.total:
            _, gone = self._frames.popitem(last=False)
            self._count -= len(gone)
        if self._followers:
            for follower in self._followers.get(charger_id, ()):
                follower.offer(Frame._make(frame))

    def frames(self, charger_id: str, limit: int | None = None) -> list[Frame]:
        """The charger's kept frames, oldest first (the last ``limit`` of them)."""
        kept = [Frame._make(f) for f in self._frames.get(charger_id, ())]
        return kept[-limit:] if limit is not None and limit < len(kept) else kept

    def __len__(self) -> int:
        return self._count

    def follow(self, charger_id: str) -> Follower:
        """A live feed of the charger's new frames; end it with :meth:`unfollow`."""
        follower = Follower(charger_id)
        self._followers.setdefault(charger_id, []).append(follower)
        return follower

    def unfollow(self, follower: Follower) -> None:
        followers = self._followers.get(follower.charger_id, [])
        if follower in followers:
            followers.remove(follower)
        if not followers:
            self._followers.pop(follower.charger_id, None)
