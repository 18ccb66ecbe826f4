"""``SqlReportStore``: the ``ReportStore`` port on the database of a ``SqlStore``.

Each record is its domain object encoded as JSON in a ``body`` column, under the key columns it is looked up
by (``tables``, "what chargers report besides transactions"). Build it over the server's ``SqlStore``:
it writes in that store's write turn and transactions (on SQLite, its inline connection: one writer per
file), and its operations finish, like the store's, even when their caller is cancelled.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

import msgspec
from sqlalchemy import Table, and_, delete, func, select
from sqlalchemy.sql import ColumnElement, Delete

from chargewise.adapters.sql.statements import upsert
from chargewise.adapters.sql.store import SqlStore
from chargewise.adapters.sql.tables import (
    charging_limits,
    ev_charging_needs,
    ev_charging_schedules,
    firmware_publications,
    report_parts,
    reservation_updates,
)
from chargewise.domain.reports import (
    ChargingLimit,
    EvChargingNeeds,
    EvChargingSchedule,
    FirmwarePublication,
    LimitSource,
    Report,
    ReportKind,
    ReportPart,
    ReportStore,
    ReservationUpdate,
)

_R = TypeVar("_R")
_T = TypeVar("_T")


class SqlReportStore:
    """Reports on the database of ``store`` (opened by ``open_store``); closing ``store`` closes it too."""

    def __init__(self, store: SqlStore) -> None:
        # the store's private parts, on purpose: same package, and one writer per SQLite file (see ``inline``)
        self._store = store
        self._dialect = store._dialect

    def _run(self, operation: Coroutine[Any, Any, _R]) -> Coroutine[Any, Any, _R]:
        return self._store._shield.run(operation)

    async def _put(
        self,
        table: Table,
        keys: dict[str, Any],
        record: object,
        *,
        start_over: ColumnElement[bool] | None = None,
        then: Delete | None = None,
    ) -> None:
        """Insert or replace ``record`` under ``keys``, in one transaction: ``start_over`` first deletes the rows
        it matches, ``then`` runs after."""
        statement = upsert(self._dialect, table).values(**keys, body=msgspec.json.encode(record).decode())
        statement = statement.on_conflict_do_update(
            index_elements=list(table.primary_key.columns), set_={"body": statement.excluded.body}
        )
        async with self._store._write() as conn:
            if start_over is not None:
                await conn.execute(delete(table).where(start_over))
            await conn.execute(statement)
            if then is not None:
                await conn.execute(then)

    async def _bodies(self, table: Table, kind: type[_T], *where: ColumnElement[bool], descending: bool = False,
                      limit: int | None = None) -> list[_T]:  # fmt: skip
        order = [column.desc() if descending else column for column in table.primary_key.columns]
        query = select(table.c.body).where(*where).order_by(*order).limit(limit)
        async with self._store._engine.connect() as conn:
            return [msgspec.json.decode(body, type=kind) for body in (await conn.execute(query)).scalars()]

    async def _body(self, table: Table, kind: type[_T], *where: ColumnElement[bool]) -> _T | None:
        found = await self._bodies(table, kind, *where)
        return found[0] if found else None

    # --- charging limits, EV needs and schedules ------------------------------------------------------------

    async def put_charging_limit(self, limit: ChargingLimit) -> None:
        keys = {"charger_id": limit.charger_id, "evse_id": limit.evse_id, "source": limit.source.value}
        await self._run(self._put(charging_limits, keys, limit))

    async def clear_charging_limit(self, charger_id: str, evse_id: int, source: LimitSource) -> bool:
        return await self._run(self._clear_charging_limit(charger_id, evse_id, source))

    async def _clear_charging_limit(self, charger_id: str, evse_id: int, source: LimitSource) -> bool:
        c = charging_limits.c
        statement = delete(charging_limits).where(c.charger_id == charger_id, c.evse_id == evse_id, c.source == source)
        async with self._store._write() as conn:
            return (await conn.execute(statement)).rowcount > 0

    async def charging_limits(self, charger_id: str) -> list[ChargingLimit]:
        return await self._run(self._bodies(charging_limits, ChargingLimit, charging_limits.c.charger_id == charger_id))

    async def put_ev_charging_needs(self, needs: EvChargingNeeds) -> None:
        await self._run(self._put(ev_charging_needs, {"charger_id": needs.charger_id, "evse_id": needs.evse_id}, needs))

    async def ev_charging_needs(self, charger_id: str, evse_id: int) -> EvChargingNeeds | None:
        c = ev_charging_needs.c
        return await self._run(
            self._body(ev_charging_needs, EvChargingNeeds, c.charger_id == charger_id, c.evse_id == evse_id)
        )

    async def put_ev_charging_schedule(self, schedule: EvChargingSchedule) -> None:
        keys = {"charger_id": schedule.charger_id, "evse_id": schedule.evse_id}
        await self._run(self._put(ev_charging_schedules, keys, schedule))

    async def ev_charging_schedule(self, charger_id: str, evse_id: int) -> EvChargingSchedule | None:
        c = ev_charging_schedules.c
        return await self._run(
            self._body(ev_charging_schedules, EvChargingSchedule, c.charger_id == charger_id, c.evse_id == evse_id)
        )

    # --- multi-part reports ---------------------------------------------------------------------------------

    def _of_report(self, charger_id: str, kind: ReportKind, request_id: int) -> tuple[ColumnElement[bool], ...]:
        c = report_parts.c
        return c.charger_id == charger_id, c.kind == kind.value, c.request_id == request_id

    async def put_report_part(self, part: ReportPart, *, start_over: bool) -> None:
        where = self._of_report(part.charger_id, part.kind, part.request_id)
        keys = {"charger_id": part.charger_id, "kind": part.kind.value, "request_id": part.request_id,
                "seq_no": part.seq_no}  # fmt: skip
        await self._run(self._put(report_parts, keys, part, start_over=and_(*where) if start_over else None))

    async def last_report_part(self, charger_id: str, kind: ReportKind, request_id: int) -> ReportPart | None:
        where = self._of_report(charger_id, kind, request_id)
        found = await self._run(self._bodies(report_parts, ReportPart, *where, descending=True, limit=1))
        return found[0] if found else None

    async def report(self, charger_id: str, kind: ReportKind, request_id: int) -> Report | None:
        parts = await self._run(self._bodies(report_parts, ReportPart, *self._of_report(charger_id, kind, request_id)))
        return Report(parts=tuple(parts)) if parts else None

    async def report_sizes(self, charger_id: str, kind: ReportKind) -> dict[int, int]:
        return await self._run(self._report_sizes(charger_id, kind))

    async def _report_sizes(self, charger_id: str, kind: ReportKind) -> dict[int, int]:
        c = report_parts.c
        query = (
            select(c.request_id, func.sum(func.length(c.body)))
            .where(c.charger_id == charger_id, c.kind == kind.value)
            .group_by(c.request_id)
        )
        async with self._store._engine.connect() as conn:
            return {request_id: int(size) for request_id, size in await conn.execute(query)}

    async def drop_report(self, charger_id: str, kind: ReportKind, request_id: int) -> None:
        await self._run(self._delete(delete(report_parts).where(*self._of_report(charger_id, kind, request_id))))

    async def _delete(self, statement: Delete) -> None:
        async with self._store._write() as conn:
            await conn.execute(statement)

    # --- firmware publications, reservations ----------------------------------------------------------------

    async def put_firmware_publication(self, publication: FirmwarePublication) -> None:
        await self._run(self._put(firmware_publications, {"charger_id": publication.charger_id}, publication))

    async def firmware_publication(self, charger_id: str) -> FirmwarePublication | None:
        where = firmware_publications.c.charger_id == charger_id
        return await self._run(self._body(firmware_publications, FirmwarePublication, where))

    async def put_reservation_update(self, update: ReservationUpdate, *, keep: int) -> None:
        c = reservation_updates.c
        kept = select(c.reservation_id).where(c.charger_id == update.charger_id).order_by(c.reservation_id.desc())
        beyond = delete(reservation_updates).where(
            c.charger_id == update.charger_id, c.reservation_id.not_in(kept.limit(keep).scalar_subquery())
        )
        keys = {"charger_id": update.charger_id, "reservation_id": update.reservation_id}
        await self._run(self._put(reservation_updates, keys, update, then=beyond))

    async def reservation_update(self, charger_id: str, reservation_id: int) -> ReservationUpdate | None:
        c = reservation_updates.c
        return await self._run(
            self._body(reservation_updates, ReservationUpdate, c.charger_id == charger_id,
                       c.reservation_id == reservation_id)
        )  # fmt: skip


if TYPE_CHECKING:  # mypy proves here that SqlReportStore implements the whole port
    _implements: type[ReportStore] = SqlReportStore
