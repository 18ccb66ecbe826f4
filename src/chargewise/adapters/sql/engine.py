"""Engines for the two supported databases, and the schema upgrade run at start-up.

* ``sqlite+aiosqlite:///path/to/chargewise.db``: the parent directory is created; WAL journal with
  ``synchronous=NORMAL``, which loses nothing committed when the *process* is killed (the WAL is in the OS
  page cache), only on power loss or an OS crash. Append ``?synchronous=full`` to survive those as well, at
  the cost of an fsync per commit.
* ``postgresql+asyncpg://user@host:5432/dbname``.

Call ``create_engine`` then ``upgrade``; ``open_store`` in this package does both.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, event, make_url, text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from chargewise.adapters.sql.inline import InlineSqliteWriter

MIGRATIONS = Path(__file__).with_name("migrations")

#: Execution option read by the SQLite "begin" hook: take the write lock when the transaction starts.
WRITE = "chargewise_write"

_SYNCHRONOUS = ("normal", "full", "extra")
_BUSY_TIMEOUT_MS = 10_000
_WAL_ATTEMPTS = 250  # 5 s
#: Any constant shared by every chargewise process: serialises concurrent upgrades on PostgreSQL.
_PG_MIGRATION_LOCK = 0x63_77_6D_67
POOL_SIZE, POOL_OVERFLOW = 10, 10  # PostgreSQL connections per process: kept, and opened on demand
POOL_WAIT_S = 60.0  # how long an operation may queue for a connection; then StoreBusy (a charger's own call
# timeout is shorter than this, so an answer later than that would reach nobody)


def create_engine(url: str) -> AsyncEngine:
    """An engine for ``url``; run ``upgrade`` on it before use and ``dispose`` it when done."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    if parsed.get_backend_name() == "postgresql":
        # pre-ping: a pooled connection survives a PostgreSQL restart instead of failing one request.
        # Sized for a reconnect storm: thousands of chargers booting at once queue for a connection. With the
        # default pool (5 + 10 overflow, 30 s wait) 8,000 chargers reconnecting got 1 % InternalError from
        # "QueuePool limit ... timeout 30". 20 connections a process (4 workers: 80, under PostgreSQL's default
        # max_connections of 100), and a queued operation waits its turn for up to POOL_WAIT_S.
        return create_async_engine(
            parsed, pool_pre_ping=True, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW, pool_timeout=POOL_WAIT_S
        )
    raise ValueError(f"unsupported database URL {url!r}: use sqlite+aiosqlite:// or postgresql+asyncpg://")


def _sqlite_engine(url: URL) -> AsyncEngine:
    synchronous = str(url.query.get("synchronous", "normal")).lower()
    if synchronous not in _SYNCHRONOUS:
        raise ValueError(f"synchronous={synchronous!r}: use one of {', '.join(_SYNCHRONOUS)}")
    url = url.difference_update_query(["synchronous"])
    if not url.database or url.database == ":memory:":
        # One shared connection would mix concurrent transactions; the in-memory store is MemoryStore.
        raise ValueError("in-memory SQLite is not supported: give a file path, or use adapters.memory.MemoryStore")
    if not url.database.startswith("file:"):
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    # the default pool size (readers run side by side in WAL; writers queue for the one write lock anyway), but a
    # queued operation waits POOL_WAIT_S, not 30 s: a reconnect storm of 10,000 chargers queued past 30 s
    engine = create_async_engine(url, pool_timeout=POOL_WAIT_S)

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, issue BEGIN (see on_begin): real transactions, DDL included.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # journal_mode is not here: it is stored in the file, and upgrade() switches it once.
        for pragma in (f"busy_timeout={_BUSY_TIMEOUT_MS}", f"synchronous={synchronous.upper()}", "foreign_keys=ON"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    def on_begin(connection: Connection) -> None:
        # A writer takes the lock up front, so it waits (busy_timeout) instead of failing on upgrade.
        immediate = connection.get_execution_options().get(WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    event.listen(engine.sync_engine, "connect", on_connect)
    event.listen(engine.sync_engine, "begin", on_begin)
    return engine


async def upgrade(engine: AsyncEngine) -> None:
    """Bring the schema to the latest migration (a no-op when it is there already); safe to run concurrently."""
    if engine.dialect.name == "sqlite":
        await _use_wal(engine)
    async with engine.execution_options(**{WRITE: True}).begin() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
        await connection.run_sync(_upgrade)


async def _use_wal(engine: AsyncEngine) -> None:
    # Two processes switching a new file at the same moment: SQLite fails one at once (it does not wait, as
    # that could deadlock), so retry. Outside any transaction, on the driver: a mode switch cannot run in one.
    async with engine.connect() as connection:
        driver: Any = (await connection.get_raw_connection()).driver_connection  # the aiosqlite connection
        for attempt in range(_WAL_ATTEMPTS):
            try:
                cursor = await driver.execute("PRAGMA journal_mode=WAL")
                await cursor.close()
                return
            except sqlite3.OperationalError:
                if attempt == _WAL_ATTEMPTS - 1:
                    raise
                await asyncio.sleep(0.02)


def _upgrade(connection: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config for our migrations, built in code (no alembic.ini); ``url`` is for the CLI only."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def inline_writer(url: str) -> InlineSqliteWriter | None:
    """For a SQLite URL, the inline writer of meter batches (see ``inline``); None for other databases."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    synchronous = str(parsed.query.get("synchronous", "normal")).lower()
    database = parsed.database
    if database.startswith("file:"):
        return None  # URI file names (tests' shared caches): keep everything on aiosqlite
    # a short wait: the loop is blocked while it waits, and only another process can hold the lock
    return InlineSqliteWriter(database, synchronous=synchronous, busy_timeout_ms=2_000)
