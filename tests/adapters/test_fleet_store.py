"""The ``FleetStore`` contract (local lists held, reservations), against the in-memory fake, SQLite and
PostgreSQL; the SQL one survives a reopen."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from chargewise.adapters.memory_fleet import MemoryFleetStore
from chargewise.adapters.sql import open_store
from chargewise.adapters.sql.fleet import SqlFleetStore
from chargewise.domain.fleet_ports import FleetStore
from chargewise.fleet.local_list import CachePolicy, Entry
from chargewise.fleet.reservations import ReservationStatus

T0 = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
async def fleet(store_url: str | None) -> AsyncIterator[FleetStore]:
    if store_url is None:
        yield MemoryFleetStore()
        return
    store = await open_store(store_url)
    try:
        yield SqlFleetStore(store)
    finally:
        await store.close()


async def test_a_held_list_is_recorded_replaced_and_forgotten_keeping_its_policy(fleet: FleetStore) -> None:
    empty = await fleet.held_list("CP1")
    assert empty.version is None and empty.entries is None and empty.cache_policy is CachePolicy.CLEAR_ON_BLOCK
    entries = {"A": Entry(status="Accepted", expires_at=T0, parent="G"), "B": Entry(status="Blocked")}
    await fleet.put_held_list("CP1", 3, entries, T0)
    await fleet.set_cache_policy("CP1", CachePolicy.KEEP)
    held = await fleet.held_list("CP1")
    assert (held.version, held.entries, held.cache_policy, held.updated_at) == (3, entries, CachePolicy.KEEP, T0)
    await fleet.put_held_list("CP1", None, None, T0 + timedelta(seconds=1))
    forgotten = await fleet.held_list("CP1")
    assert forgotten.version is None and forgotten.entries is None and forgotten.cache_policy is CachePolicy.KEEP
    await fleet.set_cache_policy("CP2", CachePolicy.KEEP)  # a policy before any list
    assert (await fleet.held_list("CP2")).cache_policy is CachePolicy.KEEP


async def test_reservations_get_new_ids_and_their_status_moves(fleet: FleetStore) -> None:
    first = await fleet.add_reservation(charger_id="CP1", evse_id=1, id_tag="T1", parent_id_tag=None,
                                        expires_at=T0 + timedelta(hours=1), at=T0)  # fmt: skip
    second = await fleet.add_reservation(charger_id="CP2", evse_id=0, id_tag="T2", parent_id_tag="G",
                                         expires_at=T0 + timedelta(hours=2), at=T0)  # fmt: skip
    assert second.id > first.id and first.status is ReservationStatus.REQUESTED and second.parent_id_tag == "G"
    done = await fleet.set_reservation_status(first.id, ReservationStatus.USED, T0 + timedelta(minutes=5),
                                              transaction_id=42)  # fmt: skip
    assert done is not None and done.status is ReservationStatus.USED and done.transaction_id == 42
    assert await fleet.set_reservation_status(9999, ReservationStatus.CANCELLED, T0) is None
    assert [r.id for r in await fleet.reservations()] == [second.id, first.id]
    assert [r.id for r in await fleet.reservations(charger_id="CP1")] == [first.id]
    assert [r.id for r in await fleet.reservations(status=ReservationStatus.REQUESTED)] == [second.id]
    assert await fleet.get_reservation(first.id) == done


async def test_sql_rows_survive_a_reopen(sql_url: str) -> None:
    store = await open_store(sql_url)
    fleet = SqlFleetStore(store)
    await fleet.put_held_list("CP1", 7, {"A": Entry(status="Accepted")}, T0)
    made = await fleet.add_reservation(charger_id="CP1", evse_id=1, id_tag="T", parent_id_tag=None,
                                       expires_at=T0 + timedelta(hours=1), at=T0)  # fmt: skip
    await store.close()
    store = await open_store(sql_url)
    try:
        again = SqlFleetStore(store)
        assert (await again.held_list("CP1")).version == 7
        assert await again.get_reservation(made.id) == made
    finally:
        await store.close()
