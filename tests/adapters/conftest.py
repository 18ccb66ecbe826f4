"""Store fixtures: a test asking for ``store`` runs once per backend (memory, SQLite, PostgreSQL).

``sql_url`` gives the URL of an empty SQL database instead, for tests that open and reopen stores themselves.
PostgreSQL tests use one scratch database per session (created and dropped here, over asyncpg), emptied
before each test; set ``CHARGEWISE_TEST_PG_ADMIN`` to use a server other than the local one.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import asyncpg
import pytest

from chargewise.adapters.memory import MemoryStore
from chargewise.adapters.sql import open_store
from chargewise.domain.ports import Store
from tests.services import require_service

PG_ADMIN = os.environ.get("CHARGEWISE_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_START = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"

SQL_BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
BACKENDS = ["memory", *SQL_BACKENDS]

T = TypeVar("T")


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    # Session set-up runs outside the tests' event loops: give it a private one.
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coroutine)
    finally:
        loop.close()


async def _execute(dsn: str, *statements: str) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """The asyncpg DSN of a scratch database that lives as long as the test session."""
    server = urlsplit(PG_ADMIN)
    require_service("PostgreSQL", server.hostname or "127.0.0.1", server.port or 5432, PG_START)
    name = f"chargewise_test_{secrets.token_hex(6)}"
    _run(_execute(PG_ADMIN, f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        _run(_execute(PG_ADMIN, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def postgres_url(postgres_database: str) -> str:
    """The session's database with no tables at all (migrations included), as a SQLAlchemy URL."""
    _run(_execute(postgres_database, "DROP SCHEMA public CASCADE", "CREATE SCHEMA public"))
    return postgres_database.replace("postgresql://", "postgresql+asyncpg://", 1)


def _url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str | None:
    if backend == "memory":
        return None
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path}/data/chargewise.db"  # data/ does not exist yet
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture(params=SQL_BACKENDS)
def sql_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    url = _url(request.param, request, tmp_path)
    assert url is not None
    return url


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str | None:
    """None for the memory backend."""
    return _url(request.param, request, tmp_path)


@pytest.fixture
async def store(store_url: str | None) -> AsyncIterator[Store]:
    opened: Store = MemoryStore() if store_url is None else await open_store(store_url)
    try:
        yield opened
    finally:
        await opened.close()
