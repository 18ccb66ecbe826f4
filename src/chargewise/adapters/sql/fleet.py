"""``SqlFleetStore``: local lists held and reservations (the ``FleetStore`` port) on the database of a
``SqlStore``, in its write turn and transactions (``tables.local_lists``, ``tables.reservations``), finishing
like the store's operations even when their caller is cancelled (see ``reports`` for the same pattern)."""

from __future__ import annotations

from collections.abc import Coroutine
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import msgspec
from sqlalchemy import Row, insert, select, update

from chargewise.adapters.sql.statements import upsert
from chargewise.adapters.sql.store import SqlStore
from chargewise.adapters.sql.tables import local_lists, reservations
from chargewise.fleet.local_list import CachePolicy, Entry, HeldList
from chargewise.fleet.reservations import Reservation, ReservationStatus

if TYPE_CHECKING:
    from chargewise.domain.fleet_ports import FleetStore

_R = TypeVar("_R")
_ENTRIES = msgspec.json.Decoder(dict[str, Entry])


class SqlFleetStore:
    """On the database of ``store`` (opened by ``open_store``); closing ``store`` closes it too."""

    def __init__(self, store: SqlStore) -> None:
        # the store's private parts, on purpose: same package, and one writer per SQLite file (see ``inline``)
        self._store = store
        self._dialect = store._dialect

    def _run(self, operation: Coroutine[Any, Any, _R]) -> Coroutine[Any, Any, _R]:
        return self._store._shield.run(operation)

    # ------------------------------------------------------------------ local lists
    async def held_list(self, charger_id: str) -> HeldList:
        return await self._run(self._held_list(charger_id))

    async def _held_list(self, charger_id: str) -> HeldList:
        async with self._store._engine.connect() as conn:
            row = (await conn.execute(select(local_lists).where(local_lists.c.charger_id == charger_id))).first()
        if row is None:
            return HeldList(charger_id=charger_id)
        entries = None if row.entries is None else _ENTRIES.decode(row.entries)
        return HeldList(charger_id=charger_id, version=row.version, entries=entries,
                        cache_policy=CachePolicy(row.cache_policy), updated_at=row.updated_at)  # fmt: skip

    async def put_held_list(self, charger_id: str, version: int | None, entries: dict[str, Entry] | None,
                            at: datetime) -> None:  # fmt: skip
        body = None if entries is None else msgspec.json.encode(entries).decode()
        statement = upsert(self._dialect, local_lists).values(
            charger_id=charger_id, version=version, entries=body, cache_policy=CachePolicy.CLEAR_ON_BLOCK.value,
            updated_at=at,
        )  # fmt: skip
        statement = statement.on_conflict_do_update(
            index_elements=[local_lists.c.charger_id],
            set_={"version": version, "entries": body, "updated_at": statement.excluded.updated_at},
        )
        await self._run(self._execute(statement))

    async def set_cache_policy(self, charger_id: str, policy: CachePolicy) -> None:
        statement = upsert(self._dialect, local_lists).values(charger_id=charger_id, cache_policy=policy.value)
        statement = statement.on_conflict_do_update(index_elements=[local_lists.c.charger_id],
                                                    set_={"cache_policy": policy.value})  # fmt: skip
        await self._run(self._execute(statement))

    async def _execute(self, statement: Any) -> None:
        async with self._store._write() as conn:
            await conn.execute(statement)

    # ------------------------------------------------------------------ reservations
    async def add_reservation(self, *, charger_id: str, evse_id: int, id_tag: str, parent_id_tag: str | None,
                              expires_at: datetime, at: datetime) -> Reservation:  # fmt: skip
        statement = insert(reservations).values(
            charger_id=charger_id, evse_id=evse_id, id_tag=id_tag, parent_id_tag=parent_id_tag, expires_at=expires_at,
            status=ReservationStatus.REQUESTED.value, created_at=at, updated_at=at,
        ).returning(*reservations.c)  # fmt: skip
        return await self._run(self._returning(statement))

    async def _returning(self, statement: Any) -> Reservation:
        async with self._store._write() as conn:
            return _reservation((await conn.execute(statement)).one())

    async def set_reservation_status(self, reservation_id: int, status: ReservationStatus, at: datetime, *,
                                     transaction_id: int | None = None) -> Reservation | None:  # fmt: skip
        values: dict[str, Any] = {"status": status.value, "updated_at": at}
        if transaction_id is not None:
            values["transaction_id"] = transaction_id
        statement = update(reservations).where(reservations.c.id == reservation_id).values(**values)
        return await self._run(self._update(statement, reservation_id))

    async def _update(self, statement: Any, reservation_id: int) -> Reservation | None:
        async with self._store._write() as conn:
            await conn.execute(statement)
            row = (await conn.execute(select(reservations).where(reservations.c.id == reservation_id))).first()
        return None if row is None else _reservation(row)

    async def get_reservation(self, reservation_id: int) -> Reservation | None:
        found = await self._run(self._select(select(reservations).where(reservations.c.id == reservation_id)))
        return found[0] if found else None

    async def reservations(self, *, charger_id: str | None = None, status: ReservationStatus | None = None,
                           limit: int = 500) -> list[Reservation]:  # fmt: skip
        query = select(reservations).order_by(reservations.c.id.desc()).limit(limit)
        if charger_id is not None:
            query = query.where(reservations.c.charger_id == charger_id)
        if status is not None:
            query = query.where(reservations.c.status == status.value)
        return await self._run(self._select(query))

    async def _select(self, query: Any) -> list[Reservation]:
        async with self._store._engine.connect() as conn:
            return [_reservation(row) for row in await conn.execute(query)]


def _reservation(row: Row[Any]) -> Reservation:
    return Reservation(id=row.id, charger_id=row.charger_id, evse_id=row.evse_id, id_tag=row.id_tag,
                       parent_id_tag=row.parent_id_tag, expires_at=row.expires_at,
                       status=ReservationStatus(row.status), created_at=row.created_at, updated_at=row.updated_at,
                       transaction_id=row.transaction_id)  # fmt: skip


if TYPE_CHECKING:  # mypy proves here that SqlFleetStore implements the whole port
    _implements: type[FleetStore] = SqlFleetStore
