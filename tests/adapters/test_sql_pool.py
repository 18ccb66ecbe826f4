"""A store whose connection pool stays busy past its queue wait says so (``StoreBusy``), on both databases: the
dispatcher answers it "server busy" (GenericError) and REST 503, never InternalError or 500."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from chargewise.adapters.sql import engine as sql_engine
from chargewise.adapters.sql import open_store
from chargewise.adapters.sql.store import SqlStore
from chargewise.domain.ports import StoreBusy


async def test_a_pool_wait_that_runs_out_is_store_busy(sql_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    await (await open_store(sql_url)).close()  # the schema, made once
    tight = create_async_engine(sql_url, pool_size=1, max_overflow=0, pool_timeout=0.2)
    store = SqlStore(tight, inline=sql_engine.inline_writer(sql_url))
    try:
        async with tight.connect() as held:  # the only connection, held as a storm would
            await held.execute(text("SELECT 1"))
            with pytest.raises(StoreBusy, match="no database connection free"):
                await store.get_charger("CP-1")
        assert await store.get_charger("CP-1") is None  # free again: served
    finally:
        await store.close()


async def test_the_pools_wait_for_their_turn_longer_than_the_default_30_s(tmp_path: Path) -> None:
    assert sql_engine.POOL_WAIT_S >= 60
    for url in (f"sqlite+aiosqlite:///{tmp_path}/chargewise.db", "postgresql+asyncpg://postgres@127.0.0.1/x"):
        made = sql_engine.create_engine(url)  # nothing connects yet
        assert made.pool.timeout() == sql_engine.POOL_WAIT_S  # type: ignore[attr-defined]
        await made.dispose()
