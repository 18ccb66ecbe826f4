"""Ports of fleet operations: what chargers' local lists hold and the reservations made. Implemented by
``adapters.sql.fleet.SqlFleetStore`` and the in-memory ``adapters.memory_fleet.MemoryFleetStore`` (one contract
suite runs against both). Every write returns once it is durable."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from chargewise.fleet.local_list import CachePolicy, Entry, HeldList
from chargewise.fleet.reservations import Reservation, ReservationStatus


class LocalListStore(Protocol):
    async def held_list(self, charger_id: str) -> HeldList:
        """What the charger holds as far as we know (an empty ``HeldList`` if nothing was recorded)."""
        ...

    async def put_held_list(self, charger_id: str, version: int | None, entries: dict[str, Entry] | None,
                            at: datetime) -> None:  # fmt: skip
        """Record what the charger accepted (None, None: forget it, the next push is Full); keeps the policy."""
        ...

    async def set_cache_policy(self, charger_id: str, policy: CachePolicy) -> None: ...


class ReservationStore(Protocol):
    async def add_reservation(self, *, charger_id: str, evse_id: int, id_tag: str, parent_id_tag: str | None,
                              expires_at: datetime, at: datetime) -> Reservation:  # fmt: skip
        """A new reservation (status Requested) with the next id, never one used before."""
        ...

    async def set_reservation_status(self, reservation_id: int, status: ReservationStatus, at: datetime, *,
                                     transaction_id: int | None = None) -> Reservation | None:  # fmt: skip
        """None: no such reservation."""
        ...

    async def get_reservation(self, reservation_id: int) -> Reservation | None: ...

    async def reservations(self, *, charger_id: str | None = None, status: ReservationStatus | None = None,
                           limit: int = 500) -> list[Reservation]:  # fmt: skip
        """Newest (highest id) first."""
        ...


class FleetStore(LocalListStore, ReservationStore, Protocol):
    """Both, on one database."""
