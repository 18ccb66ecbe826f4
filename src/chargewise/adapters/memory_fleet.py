"""``MemoryFleetStore``: local lists held and reservations in dicts, for unit tests. Nothing survives.

It behaves like ``chargewise.adapters.sql.fleet.SqlFleetStore`` (one contract suite runs against both); the
records are frozen, so handing out the stored objects is safe."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from chargewise.fleet.local_list import CachePolicy, Entry, HeldList
from chargewise.fleet.reservations import Reservation, ReservationStatus

if TYPE_CHECKING:
    from chargewise.domain.fleet_ports import FleetStore


class MemoryFleetStore:
    def __init__(self) -> None:
        self._lists: dict[str, HeldList] = {}
        self._reservations: dict[int, Reservation] = {}
        self._ids = itertools.count(1)

    async def held_list(self, charger_id: str) -> HeldList:
        return self._lists.get(charger_id) or HeldList(charger_id=charger_id)

    async def put_held_list(self, charger_id: str, version: int | None, entries: dict[str, Entry] | None,
                            at: datetime) -> None:  # fmt: skip
        held = await self.held_list(charger_id)
        self._lists[charger_id] = replace(held, version=version, entries=None if entries is None else dict(entries),
                                          updated_at=at)  # fmt: skip

    async def set_cache_policy(self, charger_id: str, policy: CachePolicy) -> None:
        self._lists[charger_id] = replace(await self.held_list(charger_id), cache_policy=policy)

    async def add_reservation(self, *, charger_id: str, evse_id: int, id_tag: str, parent_id_tag: str | None,
                              expires_at: datetime, at: datetime) -> Reservation:  # fmt: skip
        r = Reservation(id=next(self._ids), charger_id=charger_id, evse_id=evse_id, id_tag=id_tag,
                        parent_id_tag=parent_id_tag, expires_at=expires_at, status=ReservationStatus.REQUESTED,
                        created_at=at, updated_at=at)  # fmt: skip
        self._reservations[r.id] = r
        return r

    async def set_reservation_status(self, reservation_id: int, status: ReservationStatus, at: datetime, *,
                                     transaction_id: int | None = None) -> Reservation | None:  # fmt: skip
        r = self._reservations.get(reservation_id)
        if r is None:
            return None
        r = self._reservations[r.id] = replace(r, status=status, updated_at=at,
                                               transaction_id=transaction_id or r.transaction_id)  # fmt: skip
        return r

    async def get_reservation(self, reservation_id: int) -> Reservation | None:
        return self._reservations.get(reservation_id)

    async def reservations(self, *, charger_id: str | None = None, status: ReservationStatus | None = None,
                           limit: int = 500) -> list[Reservation]:  # fmt: skip
        found = [
            r
            for r in sorted(self._reservations.values(), key=lambda r: -r.id)
            if (charger_id is None or r.charger_id == charger_id) and (status is None or r.status is status)
        ]
        return found[:limit]  # fmt: skip


if TYPE_CHECKING:  # mypy proves here that MemoryFleetStore implements the whole port
    _implements: type[FleetStore] = MemoryFleetStore
