"""The doctor's sweep: every so often, diagnose the chargers heard from recently and publish a
:data:`Kind.FINDING` event when a charger's top finding changes (MQTT and the dashboard show it live).

Bounded cost: only chargers connected now or disconnected within :data:`RECENT` are looked at, at most
``per_sweep`` of them per sweep (round robin over the rest), each diagnosis one read of its signals.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from chargewise.domain.ports import Clock
from chargewise.services.admin_errors import NotFound
from chargewise.services.doctor import Doctor
from chargewise.services.events import EventHub, Kind, Subscription

log = logging.getLogger(__name__)
EVERY_S = 60.0
RECENT = timedelta(hours=1)
WINDOW = "24h"  # the signals each diagnosis reads


@dataclass(frozen=True, kw_only=True, slots=True)
class Top:
    cause: str
    confidence: float
    summary: str


class DoctorSweep:
    """Build one in ``bootstrap``; :meth:`run` it as a background task; :attr:`top` is the latest per charger."""

    def __init__(self, *, doctor: Doctor, events: EventHub, connected: Callable[[], Iterable[str]], clock: Clock,
                 per_sweep: int = 200) -> None:  # fmt: skip
        self.doctor, self.events, self.connected, self.clock = doctor, events, connected, clock
        self.per_sweep = per_sweep
        self.top: dict[str, Top] = {}
        self._left: dict[str, datetime] = {}  # charger -> when it disconnected
        self._queue: list[str] = []

    async def _note(self, sub: Subscription) -> None:
        while (event := await sub.next(0)) is not None:  # what is queued; the sweep only needs who left, when
            if event.charger_id is None:
                continue
            if event.data.get("connected"):
                self._left.pop(event.charger_id, None)
            else:
                self._left[event.charger_id] = event.at

    def candidates(self, now: datetime) -> list[str]:
        """The chargers to look at: connected now, or gone within :data:`RECENT`."""
        for charger, at in list(self._left.items()):
            if now - at > RECENT:
                del self._left[charger]
        return sorted({*self.connected(), *self._left})

    async def sweep(self) -> int:
        """One sweep; returns how many findings changed."""
        now = self.clock.now()
        if not self._queue:
            self._queue = self.candidates(now)
        batch, self._queue = self._queue[: self.per_sweep], self._queue[self.per_sweep :]
        changed = 0
        for charger in batch:
            try:
                explained = await self.doctor.explain(charger, WINDOW)
            except NotFound:
                continue
            first = explained.diagnosis.findings[0]
            top = Top(cause=first.cause.value, confidence=round(first.confidence, 2), summary=first.summary)
            old = self.top.get(charger)
            self.top[charger] = top
            if old is None or old.cause != top.cause:
                changed += 1
                self.events.publish(Kind.FINDING, now, charger, {"cause": top.cause, "confidence": top.confidence,
                                                                 "summary": top.summary})  # fmt: skip
        return changed

    async def run(self, every_s: float = EVERY_S) -> None:
        with self.events.subscribe(kinds=[Kind.CONNECTION], maxsize=10_000) as sub:
            while True:
                await asyncio.sleep(every_s)
                await self._note(sub)
                try:
                    await self.sweep()
                except Exception:
                    log.exception("doctor sweep failed; next one in %.0f s", every_s)
