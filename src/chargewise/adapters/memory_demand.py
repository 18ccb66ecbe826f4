"""``MemoryDemandEvents``: the ``DemandEventStore`` port in a dict. Nothing survives a restart.

Events are frozen, so handing out the stored objects is safe.
"""

from __future__ import annotations

from chargewise.charging.demand import DemandEvent


class MemoryDemandEvents:
    """A fresh, empty store."""

    def __init__(self) -> None:
        self._events: dict[str, DemandEvent] = {}

    async def put(self, event: DemandEvent) -> None:
        self._events[event.id] = event

    async def get(self, event_id: str) -> DemandEvent | None:
        return self._events.get(event_id)

    async def all(self) -> list[DemandEvent]:
        return list(self._events.values())
