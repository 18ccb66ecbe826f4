"""``SqlSiteSettingStore``: the ``SiteSettingStore`` port on the database of a ``SqlStore``
(``tables.site_documents``, ``tables.evse_settings``: each record as JSON under its key).

Build it over the server's ``SqlStore``: it writes in that store's write turn (on SQLite, its inline
connection), and its operations finish, like the store's, even when their caller is cancelled.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

import msgspec
from sqlalchemy import Table, delete, select

from chargewise.adapters.sql.statements import upsert
from chargewise.adapters.sql.store import SqlStore
from chargewise.adapters.sql.tables import evse_settings, site_documents
from chargewise.domain.site_settings import EvseSetting, SiteDocument, SiteSettingStore

_R = TypeVar("_R")
_T = TypeVar("_T")


class SqlSiteSettingStore:
    """Site settings on the database of ``store``; closing ``store`` closes it too."""

    def __init__(self, store: SqlStore) -> None:
        self._store = store  # its private parts, on purpose: same package, one writer per SQLite file
        self._dialect = store._dialect

    def _run(self, operation: Coroutine[Any, Any, _R]) -> Coroutine[Any, Any, _R]:
        return self._store._shield.run(operation)

    async def _put(self, table: Table, key: dict[str, str], record: object) -> None:
        statement = upsert(self._dialect, table).values(**key, body=msgspec.json.encode(record).decode())
        statement = statement.on_conflict_do_update(index_elements=list(key), set_={"body": statement.excluded.body})
        async with self._store._write() as conn:
            await conn.execute(statement)

    async def _delete(self, evse_id: str) -> None:
        async with self._store._write() as conn:
            await conn.execute(delete(evse_settings).where(evse_settings.c.evse_id == evse_id))

    async def _all(self, table: Table, kind: type[_T]) -> list[_T]:
        query = select(table.c.body).order_by(*table.primary_key.columns)
        async with self._store._engine.connect() as conn:
            return [msgspec.json.decode(body, type=kind) for body in (await conn.execute(query)).scalars()]

    async def put_site_document(self, site: SiteDocument) -> None:
        await self._run(self._put(site_documents, {"name": site.name}, site))

    async def site_documents(self) -> list[SiteDocument]:
        return await self._run(self._all(site_documents, SiteDocument))

    async def put_evse_setting(self, setting: EvseSetting) -> None:
        if setting.empty:
            await self._run(self._delete(setting.evse_id))
        else:
            await self._run(self._put(evse_settings, {"evse_id": setting.evse_id}, setting))

    async def evse_settings(self) -> list[EvseSetting]:
        return await self._run(self._all(evse_settings, EvseSetting))


if TYPE_CHECKING:  # mypy proves here that SqlSiteSettingStore implements the whole port
    _implements: type[SiteSettingStore] = SqlSiteSettingStore
