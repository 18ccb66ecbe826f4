"""The ``LinkSignalStore`` contract, run against the in-memory fake, SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from chargewise.adapters.memory_link_signals import MemoryLinkSignalStore
from chargewise.adapters.sql import open_store
from chargewise.adapters.sql.link_signals import SqlLinkSignalStore
from chargewise.services.link_signals import LinkSignalStore
from chargewise.services.signal_batches import SignalRow

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
async def rows_store(store_url: str | None) -> AsyncIterator[LinkSignalStore]:
    if store_url is None:
        yield MemoryLinkSignalStore()
        return
    store = await open_store(store_url)
    try:
        yield SqlLinkSignalStore(store)
    finally:
        await store.close()


def row(charger_id: str, minute: int, body: str = "{}") -> SignalRow:
    start = T0 + timedelta(minutes=minute)
    return SignalRow(charger_id=charger_id, first_at=start, last_at=start + timedelta(seconds=30), body=body)


async def test_rows_come_back_per_charger_oldest_first_from_since(rows_store: LinkSignalStore) -> None:
    await rows_store.append([row("CP1", 0, '{"a":1}'), row("CP2", 0), row("CP1", 5, '{"b":2}')])
    await rows_store.append([row("CP1", 10)])
    assert await rows_store.rows("CP1", T0) == [row("CP1", 0, '{"a":1}'), row("CP1", 5, '{"b":2}'), row("CP1", 10)]
    # a row whose samples reach past since is kept, one that ended before is not
    assert await rows_store.rows("CP1", T0 + timedelta(minutes=5, seconds=10)) == [row("CP1", 5, '{"b":2}'),
                                                                                  row("CP1", 10)]  # fmt: skip
    assert await rows_store.first_at("CP1") == T0
    assert await rows_store.first_at("nobody") is None
    assert await rows_store.rows("nobody", T0) == []


async def test_prune_drops_old_rows_and_rows_beyond_the_newest_per_charger(rows_store: LinkSignalStore) -> None:
    await rows_store.append([row("CP1", m) for m in range(5)] + [row("CP2", m) for m in range(2)])
    gone = await rows_store.prune(T0 + timedelta(minutes=1), keep=3)  # CP1 0 and CP2 0 are old; CP1 1 is 4th
    assert gone == 3
    assert await rows_store.rows("CP1", T0) == [row("CP1", 2), row("CP1", 3), row("CP1", 4)]
    assert await rows_store.rows("CP2", T0) == [row("CP2", 1)]
