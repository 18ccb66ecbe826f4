"""``MemoryDemandEvents``: the ``DemandEventStore`` port in a dict. Nothing survives a restart.

Events are frozen, so handing out the stored objects is safe.
"""

from __future__ import annotations

from chargewise.charging.demand import Compliance, DemandEvent


class MemoryDemandEvents:
    """A fresh, empty store."""

    def __init__(self) -> None:
        self._events: dict[str, DemandEvent] = {}
        self._compliance: dict[str, Compliance] = {}

    async def put(self, event: DemandEvent) -> None:
        self._events[event.id] = event

    async def get(self, event_id: str) -> DemandEvent | None:
        return self._events.get(event_id)

    async def all(self) -> list[DemandEvent]:
        return list(self._events.values())

    async def put_compliance(self, result: Compliance) -> None:
        self._compliance[result.event_id] = result

    async def get_compliance(self, event_id: str) -> Compliance | None:
        return self._compliance.get(event_id)
