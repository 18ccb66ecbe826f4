"""``SqlStore``: the ``Store`` port on SQLite or PostgreSQL, with Core statements that run on both.

Every write method runs in one database transaction and returns after it committed. Unknown chargers:
``remove_charger`` and ``touch`` do nothing, every other charger write raises ``KeyError``.

Cancelling a caller never interrupts the database work it started: the operation finishes in the background
(a write still commits) and ``close`` waits for it (see ``shield``).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable, Collection, Container, Coroutine, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, Protocol, TypeVar

from sqlalchemy import (
    Connection,
    CursorResult,
    Executable,
    Table,
    and_,
    bindparam,
    case,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql import ColumnElement, Select

from chargewise.adapters.sql import rows
from chargewise.adapters.sql.engine import POOL_WAIT_S, WRITE
from chargewise.adapters.sql.inline import CATCH_UP_PAGES, CHECKPOINT_ROUNDS, InlineSqliteWriter
from chargewise.adapters.sql.shield import Shield
from chargewise.adapters.sql.statements import (
    BUMP_DIRECTORY,
    Upsert,
    advance_register,
    amend_transaction,
    connector_states,
    upsert,
)
from chargewise.adapters.sql.tables import (
    chargers,
    connectors,
    directory,
    id_tokens,
    meter_values,
    transaction_events,
    transactions,
)
from chargewise.domain.model import (
    BootInfo,
    Charger,
    ConnectorStatus,
    Credentials,
    IdToken,
    MeterValue,
    OcppVersion,
    Registration,
    TokenStatus,
    Transaction,
)
from chargewise.domain.ports import ConnectionChange, NewTransaction, Page, Store, StoreBusy, TransactionFacts

_P = ParamSpec("_P")
log = logging.getLogger(__name__)
_R = TypeVar("_R")


def _shielded(
    method: Callable[Concatenate[SqlStore, _P], Coroutine[Any, Any, _R]],
) -> Callable[Concatenate[SqlStore, _P], Coroutine[Any, Any, _R]]:
    """Run the method to the end even if its caller is cancelled (``Shield.run``); a pool wait that ran out is
    :class:`StoreBusy`."""

    @functools.wraps(method)
    async def run(self: SqlStore, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return await self._shield.run(method(self, *args, **kwargs))
        except PoolTimeout as exc:
            raise StoreBusy(f"no database connection free within {POOL_WAIT_S:.0f} s") from exc

    return run


class Writes(Protocol):
    """What a write method does with its transaction: an ``AsyncConnection``, or ``_Inline`` on SQLite."""

    async def execute(self, statement: Executable, parameters: Any = None) -> CursorResult[Any]: ...

    async def exec_driver_sql(self, statement: str, parameters: Any = None) -> CursorResult[Any]: ...


class _Inline:
    """A write transaction on the inline SQLite connection behind the ``AsyncConnection`` methods the write
    methods use: each call runs at once on the loop thread (see ``inline``), so one code path serves both."""

    __slots__ = ("_conn",)

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def execute(self, statement: Executable, parameters: Any = None) -> CursorResult[Any]:
        return self._conn.execute(statement, parameters)

    async def exec_driver_sql(self, statement: str, parameters: Any = None) -> CursorResult[Any]:
        return self._conn.exec_driver_sql(statement, parameters)


class SqlStore:
    """The ``Store`` port on a SQL database. Get one from ``open_store(url)``; ``close()`` it when done."""

    def __init__(self, engine: AsyncEngine, *, inline: InlineSqliteWriter | None = None) -> None:
        """Wrap an engine whose schema is up to date (``engine.upgrade``); the store disposes it on close.
        ``inline`` (SQLite only) takes every write, on the event-loop thread (see ``inline``); reads stay on
        the engine."""
        self._engine = engine
        self._inline = inline
        self._checkpoint: asyncio.Future[None] | None = None
        self._writer = engine.execution_options(**{WRITE: True})
        self._dialect = engine.dialect.name
        # SQLite has one writer at a time. Queue our own writers here: waiting on SQLite's busy handler
        # instead (it sleeps and retries) costs ~100 ms per write under load. Other processes still use it.
        self._write_turn = asyncio.Lock() if self._dialect == "sqlite" else contextlib.nullcontext()
        self._shield = Shield()

    async def close(self) -> None:
        """Wait for operations still running (their callers may have been cancelled), then close every pooled
        connection; the store cannot be used afterwards."""
        await self._shield.drain()
        if self._checkpoint is not None:
            await self._checkpoint
        if self._inline is not None:
            self._inline.close()
        await self._engine.dispose()

    @contextlib.asynccontextmanager
    async def _write(self) -> AsyncIterator[Writes]:
        # One committed transaction; a bad value (a naive datetime) surfaces as the ValueError it is.
        try:
            async with self._write_turn:
                if self._inline is not None:
                    with self._inline.begin() as conn:
                        yield _Inline(conn)
                    self._checkpoint_if_due()
                else:
                    async with self._writer.begin() as async_conn:
                        yield async_conn
        except StatementError as error:
            if isinstance(error.orig, ValueError):
                raise error.orig from error
            raise

    def _checkpoint_if_due(self) -> None:
        """Start a WAL checkpoint when the inline writes have written enough (see ``inline``)."""
        assert self._inline is not None
        if self._inline.checkpoint_due and (self._checkpoint is None or self._checkpoint.done()):
            self._checkpoint = asyncio.ensure_future(self._run_checkpoint(self._inline))

    async def _run_checkpoint(self, inline: InlineSqliteWriter) -> None:
        """Copy the WAL into the database while our writes go on. When it is time for the WAL to start over,
        catch up: more rounds while much was written meanwhile, a sync of the database file, one more round,
        then the last few frames holding the write turn (meter batches wait meanwhile; the loop goes on).

        Only a checkpoint that caught up with the last write lets the next write start the WAL over. With
        writes running through every checkpoint, none ever caught up: the WAL grew without bound (400 MB in
        35 s of the benchmark) and every page lookup searched more of its index, so writes grew slower.
        SQLite syncs the database file only in a checkpoint that caught up, so the held round used to flush
        every page the earlier rounds had copied (46-70 ms of held writes in the benchmark); syncing it before,
        with the writes going on, leaves the held round its own few pages (9-18 ms)."""
        loop = asyncio.get_running_loop()
        restart = inline.restart_due
        try:
            for _ in range(CHECKPOINT_ROUNDS if restart else 1):
                await loop.run_in_executor(inline.executor, inline.checkpoint)
                if inline.pages_since_checkpoint <= CATCH_UP_PAGES:
                    break
            if restart:
                await loop.run_in_executor(inline.executor, inline.sync_database)
                await loop.run_in_executor(inline.executor, inline.checkpoint)
                last_round = functools.partial(inline.checkpoint, caught_up=True)
                async with self._write_turn:
                    await loop.run_in_executor(inline.final_executor, last_round)
        except (sqlite3.Error, OSError) as error:  # the WAL keeps the data; the next due checkpoint tries again
            log.warning("WAL checkpoint failed (%s); the WAL keeps growing until one succeeds", error)

    def _upsert(self, table: Table) -> Upsert:
        return upsert(self._dialect, table)

    async def _update_charger(self, charger_id: str, *, listed: bool = False, **values: Any) -> None:
        # listed: the change is part of the charger directory, so bump its revision in the same transaction.
        async with self._write() as conn:
            result = await conn.execute(update(chargers).where(chargers.c.id == charger_id).values(**values))
            if result.rowcount == 0:
                raise KeyError(charger_id)
            if listed:
                await conn.execute(BUMP_DIRECTORY)

    # --- chargers -------------------------------------------------------------------------------------------

    @_shielded
    async def get_charger(self, charger_id: str) -> Charger | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(chargers).where(chargers.c.id == charger_id))).first()
            if row is None:
                return None
            states = await conn.execute(connector_states().where(connectors.c.charger_id == charger_id))
            return rows.charger(row, [rows.connector(state) for state in states])

    @_shielded
    async def list_chargers(self) -> list[Charger]:
        async with self._engine.connect() as conn:
            found = (await conn.execute(select(chargers))).all()
            states = rows.group_connectors(await conn.execute(connector_states()))
        # Sorted here, not in SQL: PostgreSQL's collation would order mixed-case ids differently.
        return sorted((rows.charger(row, states.get(row.id, [])) for row in found), key=lambda c: c.id)

    @_shielded
    async def page_chargers(self, *, limit: int, after: str | None = None) -> Page[Charger, str]:
        key = self._code_points(chargers.c.id)
        query = select(chargers).order_by(key).limit(limit + 1)
        if after is not None:
            query = query.where(key > after)
        async with self._engine.connect() as conn:
            found = (await conn.execute(query)).all()
            ids = [row.id for row in found[:limit]]
            on_page = connector_states().where(connectors.c.charger_id.in_(ids))
            states = rows.group_connectors(await conn.execute(on_page))
            total = int((await conn.execute(select(func.count()).select_from(chargers))).scalar_one())
        items = [rows.charger(row, states.get(row.id, [])) for row in found[:limit]]
        return Page(items=items, total=total, next_key=items[-1].id if len(found) > limit else None)

    def _code_points(self, column: ColumnElement[str]) -> ColumnElement[str]:
        """``column`` compared and sorted by code point, as Python sorts (PostgreSQL's default collation does not)."""
        return column.collate("C") if self._dialect == "postgresql" else column

    @_shielded
    async def add_charger(
        self,
        charger_id: str,
        *,
        registration: Registration,
        password_hash: str | None = None,
        security_profile: int | None = None,
    ) -> Charger:
        statement = self._upsert(chargers).values(
            id=charger_id,
            registration=registration.value,
            password_hash=password_hash,
            security_profile=security_profile,
            connected=False,
            quirks="[]",
        )
        async with self._write() as conn:
            result = await conn.execute(statement.on_conflict_do_nothing(index_elements=[chargers.c.id]))
            if result.rowcount == 0:
                raise KeyError(charger_id)
            await conn.execute(BUMP_DIRECTORY)
        return Charger(
            id=charger_id, registration=registration, password_hash=password_hash, security_profile=security_profile
        )

    @_shielded
    async def set_registration(self, charger_id: str, registration: Registration) -> None:
        await self._update_charger(charger_id, listed=True, registration=registration.value)

    @_shielded
    async def set_password_hash(self, charger_id: str, password_hash: str | None) -> None:
        await self._update_charger(charger_id, listed=True, password_hash=password_hash)

    @_shielded
    async def set_credentials(self, charger_id: str, credentials: Credentials) -> None:
        await self._update_charger(
            charger_id, listed=True, password_hash=credentials.password_hash,
            previous_password_hash=credentials.previous_password_hash,
            security_profile=credentials.security_profile,
            pending_security_profile=credentials.pending_security_profile,
        )  # fmt: skip

    @_shielded
    async def remove_charger(self, charger_id: str) -> None:
        async with self._write() as conn:
            await conn.execute(delete(connectors).where(connectors.c.charger_id == charger_id))
            result = await conn.execute(delete(chargers).where(chargers.c.id == charger_id))
            if result.rowcount:
                await conn.execute(BUMP_DIRECTORY)

    @_shielded
    async def set_quirks(self, charger_id: str, quirks: tuple[str, ...]) -> None:
        await self._update_charger(charger_id, listed=True, quirks=json.dumps(list(quirks)))

    @_shielded
    async def directory_revision(self) -> int:
        """Poll it (cheap: one row); when it differs from the last value seen, reload the chargers."""
        async with self._engine.connect() as conn:
            return int((await conn.execute(select(directory.c.revision))).scalar_one())

    @_shielded
    async def record_boot(self, charger_id: str, version: OcppVersion, boot: BootInfo, at: datetime) -> None:
        await self._update_charger(
            charger_id,
            ocpp_version=version.value,
            vendor=boot.vendor,
            model=boot.model,
            serial_number=boot.serial_number,
            firmware_version=boot.firmware_version,
            boot_reason=boot.reason,
            last_seen=at,
        )

    @_shielded
    async def record_connection(self, charger_id: str, *, connected: bool, at: datetime) -> None:
        if connected:
            await self._update_charger(charger_id, connected=True, offline_since=None, last_seen=at)
        else:
            await self._update_charger(charger_id, connected=False, offline_since=at)

    @_shielded
    async def record_connections(self, changes: Sequence[ConnectionChange]) -> None:
        new = {c.charger_id: c.register_as for c in changes if c.register_as is not None}
        latest = {c.charger_id: c for c in changes}  # in order: the last change per charger wins
        online = [{"cid": c.charger_id, "at": c.at} for c in latest.values() if c.connected]
        offline = [{"cid": c.charger_id, "at": c.at} for c in latest.values() if not c.connected]
        where = chargers.c.id == bindparam("cid")
        async with self._write() as conn:
            if new:
                rows_ = [
                    {"id": cid, "registration": reg.value, "connected": False, "quirks": "[]"}
                    for cid, reg in new.items()
                ]
                await conn.execute(self._upsert(chargers).on_conflict_do_nothing(index_elements=[chargers.c.id]), rows_)
            if online:
                statement = (
                    update(chargers).where(where).values(connected=True, offline_since=None, last_seen=bindparam("at"))
                )
                await conn.execute(statement, online)
            if offline:
                await conn.execute(
                    update(chargers).where(where).values(connected=False, offline_since=bindparam("at")), offline
                )

    @_shielded
    async def touch(self, charger_id: str, at: datetime) -> None:
        async with self._write() as conn:
            await conn.execute(update(chargers).where(chargers.c.id == charger_id).values(last_seen=at))

    @_shielded
    async def clear_silent_links(self, silent_since: datetime, *, spare: Container[str] = ()) -> list[str]:
        seen = chargers.c.last_seen
        silent = and_(chargers.c.connected.is_(True), or_(seen.is_(None), seen < silent_since))
        async with self._engine.connect() as conn:
            found = [row.id for row in await conn.execute(select(chargers.c.id).where(silent))]
        spared = [charger_id for charger_id in found if charger_id in spare]
        if len(spared) == len(found):
            return []
        # one statement, the condition asked again: a charger that spoke since the read (and so was flagged
        # connected, with a new last_seen) stays as it is
        statement = (
            update(chargers)
            .where(silent, chargers.c.id.not_in(spared))
            .values(connected=False, offline_since=func.coalesce(seen, silent_since))
            .returning(chargers.c.id)
        )
        async with self._write() as conn:
            return sorted(row.id for row in await conn.execute(statement))

    @_shielded
    async def set_connector_status(
        self,
        charger_id: str,
        evse_id: int,
        connector_id: int,
        status: ConnectorStatus,
        error_code: str | None,
        at: datetime,
    ) -> None:
        statement = self._upsert(connectors).values(
            charger_id=charger_id,
            evse_id=evse_id,
            connector_id=connector_id,
            status=status.value,
            error_code=error_code,
            updated_at=at,
        )
        statement = statement.on_conflict_do_update(
            index_elements=[connectors.c.charger_id, connectors.c.evse_id, connectors.c.connector_id],
            set_={
                "status": statement.excluded.status,
                "error_code": statement.excluded.error_code,
                "updated_at": statement.excluded.updated_at,
            },
            where=connectors.c.updated_at <= statement.excluded.updated_at,
        )
        try:
            async with self._write() as conn:
                await conn.execute(statement)
        except IntegrityError as error:  # the foreign key: no such charger
            raise KeyError(charger_id) from error

    # --- transactions ---------------------------------------------------------------------------------------

    @_shielded
    async def start_transaction(self, new: NewTransaction) -> tuple[Transaction, bool]:
        statement = self._upsert(transactions).values(
            charger_id=new.charger_id,
            evse_id=new.evse_id,
            connector_id=new.connector_id,
            id_tag=new.id_tag,
            remote_id=new.remote_id,
            dedupe_key=new.dedupe_key,
            started_at=new.started_at,
            meter_start_wh=new.meter_start_wh,
        )
        # A retry or a racing duplicate inserts nothing (the unique key) and reads the row that won.
        statement = statement.on_conflict_do_nothing(
            index_elements=[transactions.c.charger_id, transactions.c.dedupe_key]
        )
        existing = select(transactions).where(
            transactions.c.charger_id == new.charger_id, transactions.c.dedupe_key == new.dedupe_key
        )
        async with self._write() as conn:
            created = (await conn.execute(statement)).rowcount == 1
            row = (await conn.execute(existing)).one()
        return rows.transaction(row), created

    @_shielded
    async def stop_transaction(
        self,
        transaction_id: int,
        *,
        stopped_at: datetime,
        meter_stop_wh: float | None,
        reason: str | None,
        meter_values: Sequence[MeterValue] = (),
        provisional: bool = False,
    ) -> Transaction | None:
        still_open: ColumnElement[bool] = transactions.c.stopped_at.is_(None)
        if not provisional:  # the charger's own stop also replaces a reaper's
            still_open = or_(still_open, transactions.c.provisional.is_(True))
        statement = (
            update(transactions)
            .where(transactions.c.id == transaction_id, still_open)
            .values(stopped_at=stopped_at, meter_stop_wh=meter_stop_wh, stop_reason=reason, provisional=provisional)
        )
        async with self._write() as conn:
            stopped = (await conn.execute(statement)).rowcount == 1
            if stopped and meter_values:  # only the stop that closed it stores them: a retry finds them there
                await self._insert_meter_values(conn, meter_values)
            return await _one_transaction(conn, select(transactions).where(transactions.c.id == transaction_id))

    @_shielded
    async def amend_transaction(self, transaction_id: int, facts: TransactionFacts) -> Transaction | None:
        async with self._write() as conn:
            await conn.execute(amend_transaction(transaction_id, facts))
            return await _one_transaction(conn, select(transactions).where(transactions.c.id == transaction_id))

    @_shielded
    async def get_transaction(self, transaction_id: int) -> Transaction | None:
        async with self._engine.connect() as conn:
            return await _one_transaction(conn, select(transactions).where(transactions.c.id == transaction_id))

    @_shielded
    async def find_by_remote_id(self, charger_id: str, remote_id: str) -> Transaction | None:
        query = (
            select(transactions)
            .where(transactions.c.charger_id == charger_id, transactions.c.remote_id == remote_id)
            .order_by(transactions.c.id.desc())
            .limit(1)
        )
        async with self._engine.connect() as conn:
            return await _one_transaction(conn, query)

    @_shielded
    async def list_transactions(
        self, *, charger_id: str | None = None, active: bool | None = None, limit: int = 500
    ) -> list[Transaction]:
        """Newest (highest id) first."""
        query = select(transactions).order_by(transactions.c.id.desc()).limit(limit)
        if charger_id is not None:
            query = query.where(transactions.c.charger_id == charger_id)
        if active is not None:
            stopped = transactions.c.stopped_at
            query = query.where(stopped.is_(None) if active else stopped.is_not(None))
        async with self._engine.connect() as conn:
            return [rows.transaction(row) for row in await conn.execute(query)]

    @_shielded
    async def page_transactions(
        self,
        *,
        limit: int,
        before: int | None = None,
        charger_id: str | None = None,
        active: bool | None = None,
        chargers: Collection[str] | None = None,
        id_tag: str | None = None,
        started_from: datetime | None = None,
        started_before: datetime | None = None,
    ) -> Page[Transaction, int]:
        matches: list[ColumnElement[bool]] = []
        if charger_id is not None:
            matches.append(transactions.c.charger_id == charger_id)
        if active is not None:
            stopped = transactions.c.stopped_at
            matches.append(stopped.is_(None) if active else stopped.is_not(None))
        if chargers is not None:
            matches.append(transactions.c.charger_id.in_(sorted(chargers)))
        if id_tag is not None:
            matches.append(transactions.c.id_tag == id_tag)
        if started_from is not None:
            matches.append(transactions.c.started_at >= started_from)
        if started_before is not None:
            matches.append(transactions.c.started_at < started_before)
        query = select(transactions).where(*matches).order_by(transactions.c.id.desc()).limit(limit + 1)
        if before is not None:
            query = query.where(transactions.c.id < before)
        count = select(func.count()).select_from(transactions).where(*matches)
        async with self._engine.connect() as conn:
            found = [rows.transaction(row) for row in await conn.execute(query)]
            total = int((await conn.execute(count)).scalar_one())
        return Page(items=found[:limit], total=total, next_key=found[limit - 1].id if len(found) > limit else None)

    @_shielded
    async def active_transactions(self, charger_id: str) -> list[Transaction]:
        """Oldest (lowest id) first."""
        query = (
            select(transactions)
            .where(transactions.c.charger_id == charger_id, transactions.c.stopped_at.is_(None))
            .order_by(transactions.c.id)
        )
        async with self._engine.connect() as conn:
            return [rows.transaction(row) for row in await conn.execute(query)]

    @_shielded
    async def open_while_silent(self, silent_since: datetime) -> list[tuple[Transaction, datetime]]:
        seen, gone = chargers.c.last_seen, chargers.c.offline_since
        heard = case((and_(gone.is_not(None), or_(seen.is_(None), gone > seen)), gone), else_=seen)
        query = (
            select(transactions, heard.label("charger_heard"))
            .join(chargers, chargers.c.id == transactions.c.charger_id)
            .where(transactions.c.stopped_at.is_(None), heard < silent_since)
            .order_by(transactions.c.id)
        )
        async with self._engine.connect() as conn:
            return [(rows.transaction(row), row.charger_heard) for row in await conn.execute(query)]

    @_shielded
    async def accept_event(self, transaction_id: int, seq_no: int, *, meter_values: Sequence[MeterValue] = ()) -> bool:
        """Also raise ``KeyError`` for an unknown transaction."""
        statement = self._upsert(transaction_events).values(transaction_id=transaction_id, seq_no=seq_no)
        advance = (
            update(transactions)
            .where(
                transactions.c.id == transaction_id,
                or_(transactions.c.last_seq_no.is_(None), transactions.c.last_seq_no < seq_no),
            )
            .values(last_seq_no=seq_no)
        )
        try:
            async with self._write() as conn:
                fresh = (await conn.execute(statement.on_conflict_do_nothing())).rowcount == 1
                if fresh:
                    await conn.execute(advance)
                    if meter_values:
                        await self._insert_meter_values(conn, meter_values)
        except IntegrityError as error:  # the foreign key: no such transaction
            raise KeyError(transaction_id) from error
        return fresh

    @_shielded
    async def has_event(self, transaction_id: int, seq_no: int) -> bool:
        query = select(transaction_events.c.seq_no).where(
            transaction_events.c.transaction_id == transaction_id, transaction_events.c.seq_no == seq_no
        )
        async with self._engine.connect() as conn:
            return (await conn.execute(query)).first() is not None

    @_shielded
    async def add_meter_values(self, values: Sequence[MeterValue]) -> None:
        """One database transaction for the whole batch: bulk insert, then advance the energy registers."""
        if not values:
            return
        if self._inline is not None:
            statement, params = rows.meter_value_insert(self._dialect, values)
            async with self._write_turn:
                self._inline.write_meter_values(statement, params, rows.register_readings(values))
            self._checkpoint_if_due()
            return
        async with self._write() as conn:
            await self._insert_meter_values(conn, values)

    async def _insert_meter_values(self, conn: Writes, values: Sequence[MeterValue]) -> None:
        """Bulk insert, then advance the energy registers, in the caller's write transaction."""
        # the hot path: driver-level executemany with ready tuples (SQLAlchemy's per-row parameter processing
        # cost more than SQLite's own insert)
        statement, params = rows.meter_value_insert(self._dialect, values)
        await conn.exec_driver_sql(statement, params)
        readings = rows.register_readings(values)
        if readings:
            await conn.execute(advance_register(), [{"tx": k, "wh": v} for k, v in readings.items()])

    @_shielded
    async def meter_values(self, transaction_id: int) -> list[MeterValue]:
        query = (
            select(meter_values)
            .where(meter_values.c.transaction_id == transaction_id)
            .order_by(meter_values.c.timestamp, meter_values.c.id)
        )
        async with self._engine.connect() as conn:
            return [rows.meter_value(row) for row in await conn.execute(query)]

    # --- tokens ---------------------------------------------------------------------------------------------

    @_shielded
    async def get_token(self, id_tag: str) -> IdToken | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(id_tokens).where(id_tokens.c.id_tag == id_tag))).first()
        return None if row is None else rows.token(row)

    @_shielded
    async def put_token(self, token: IdToken) -> None:
        """Create or replace the token."""
        statement = self._upsert(id_tokens).values(
            id_tag=token.id_tag,
            status=token.status.value,
            expires_at=token.expires_at,
            parent_id_tag=token.parent_id_tag,
        )
        statement = statement.on_conflict_do_update(
            index_elements=[id_tokens.c.id_tag],
            set_={
                "status": statement.excluded.status,
                "expires_at": statement.excluded.expires_at,
                "parent_id_tag": statement.excluded.parent_id_tag,
            },
        )
        async with self._write() as conn:
            await conn.execute(statement)

    @_shielded
    async def list_tokens(self) -> list[IdToken]:
        async with self._engine.connect() as conn:
            found = [rows.token(row) for row in await conn.execute(select(id_tokens))]
        return sorted(found, key=lambda t: t.id_tag)  # code-point order on every database

    @_shielded
    async def page_tokens(self, *, limit: int, after: str | None = None) -> Page[IdToken, str]:
        key = self._code_points(id_tokens.c.id_tag)
        query = select(id_tokens).order_by(key).limit(limit + 1)
        if after is not None:
            query = query.where(key > after)
        async with self._engine.connect() as conn:
            found = [rows.token(row) for row in await conn.execute(query)]
            total = int((await conn.execute(select(func.count()).select_from(id_tokens))).scalar_one())
        return Page(items=found[:limit], total=total, next_key=found[limit - 1].id_tag if len(found) > limit else None)

    @_shielded
    async def set_token_status(self, id_tag: str, status: TokenStatus) -> None:
        statement = update(id_tokens).where(id_tokens.c.id_tag == id_tag).values(status=status.value)
        async with self._write() as conn:
            result = await conn.execute(statement)
        if result.rowcount == 0:
            raise KeyError(id_tag)


async def _one_transaction(conn: AsyncConnection | Writes, query: Select[Any]) -> Transaction | None:
    row = (await conn.execute(query)).first()
    return None if row is None else rows.transaction(row)


if TYPE_CHECKING:  # mypy proves here that SqlStore implements the whole port
    _implements: type[Store] = SqlStore
