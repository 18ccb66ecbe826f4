"""``SqlLinkSignalStore``: the ``LinkSignalStore`` port on the database of a ``SqlStore`` (``tables.link_signals``).

Build it over the server's ``SqlStore``: it writes in that store's write turn (on SQLite, its inline
connection), and its operations finish, like the store's, even when their caller is cancelled.
"""

from __future__ import annotations

from collections.abc import Coroutine, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import delete, func, insert, or_, select

from chargewise.adapters.sql.store import SqlStore
from chargewise.adapters.sql.tables import link_signals
from chargewise.services.link_signals import LinkSignalStore
from chargewise.services.signal_batches import SignalRow

_R = TypeVar("_R")
_C = link_signals.c


class SqlLinkSignalStore:
    """Link signals on the database of ``store`` (opened by ``open_store``); closing ``store`` closes it too."""

    def __init__(self, store: SqlStore) -> None:
        self._store = store  # its private parts, on purpose: same package, one writer per SQLite file

    def _run(self, operation: Coroutine[Any, Any, _R]) -> Coroutine[Any, Any, _R]:
        return self._store._shield.run(operation)

    async def append(self, rows: Sequence[SignalRow]) -> None:
        if rows:
            await self._run(self._append(rows))

    async def _append(self, rows: Sequence[SignalRow]) -> None:
        values = [{"charger_id": r.charger_id, "first_at": r.first_at, "last_at": r.last_at, "body": r.body}
                  for r in rows]  # fmt: skip
        async with self._store._write() as conn:
            await conn.execute(insert(link_signals), values)

    async def rows(self, charger_id: str, since: datetime) -> list[SignalRow]:
        return await self._run(self._rows(charger_id, since))

    async def _rows(self, charger_id: str, since: datetime) -> list[SignalRow]:
        query = (select(_C.charger_id, _C.first_at, _C.last_at, _C.body)
                 .where(_C.charger_id == charger_id, _C.last_at >= since).order_by(_C.id))  # fmt: skip
        async with self._store._engine.connect() as conn:
            found = await conn.execute(query)
        return [SignalRow(charger_id=c, first_at=f, last_at=la, body=b) for c, f, la, b in found]

    async def first_at(self, charger_id: str) -> datetime | None:
        return await self._run(self._first_at(charger_id))

    async def _first_at(self, charger_id: str) -> datetime | None:
        query = select(func.min(_C.first_at)).where(_C.charger_id == charger_id)
        async with self._store._engine.connect() as conn:
            found: datetime | None = (await conn.execute(query)).scalar()
        if isinstance(found, str):  # SQLite's min() returns the stored text, not the column's type
            found = datetime.fromisoformat(found)
        return found

    async def prune(self, before: datetime, keep: int) -> int:
        return await self._run(self._prune(before, keep))

    async def _prune(self, before: datetime, keep: int) -> int:
        rank = func.row_number().over(partition_by=_C.charger_id, order_by=_C.id.desc()).label("n")
        ranked = select(_C.id, rank).subquery()
        beyond = select(ranked.c.id).where(ranked.c.n > keep)
        statement = delete(link_signals).where(or_(_C.last_at < before, _C.id.in_(beyond)))
        async with self._store._write() as conn:
            return int((await conn.execute(statement)).rowcount)


if TYPE_CHECKING:  # mypy proves here that SqlLinkSignalStore implements the whole port
    _implements: type[LinkSignalStore] = SqlLinkSignalStore
