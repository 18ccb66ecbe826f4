"""Store fixtures: a test asking for ``store`` runs once per backend (memory, SQLite, PostgreSQL).

``sql_url`` gives the URL of an empty SQL database instead, for tests that open and reopen stores themselves.
PostgreSQL tests use one scratch database per session (created and dropped here, over asyncpg), emptied
before each test; set ``CHARGEWISE_TEST_PG_ADMIN`` to use a server other than the local one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import TypeVar

import pytest

from chargewise.adapters.memory import MemoryStore
from chargewise.adapters.sql import open_store
from chargewise.domain.ports import Store

SQL_BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
BACKENDS = ["memory", *SQL_BACKENDS]

T = TypeVar("T")


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
