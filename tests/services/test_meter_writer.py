"""Group commit: many concurrent writers share few store calls, and nobody returns before their values are in."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import pytest
from msgspec.structs import replace

from chargewise.adapters.memory import MemoryStore
from chargewise.adapters.sql import open_store
from chargewise.domain.meter import ENERGY_REGISTER
from chargewise.domain.model import MeterValue, SampledValue
from chargewise.services.meter_writer import MeterWriter
from tests.domain.clock import T0


class BatchStore(MemoryStore):
    """The real in-memory store, with its batch commits logged and, on demand, held or failed."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[int] = []  # size of each add_meter_values call, in call order
        self.gate = asyncio.Event()  # a batch "commits" only once the gate is open
        self.gate.set()
        self.failures: list[Exception] = []  # raised by the next calls, one each
        self.down: Exception | None = None  # raised by every call while set
        self.refused = "BAD"  # a batch holding a value of this charger fails, like a number no column holds

    async def add_meter_values(self, values: Sequence[MeterValue]) -> None:
        self.batches.append(len(values))
        await self.gate.wait()
        if self.failures:
            raise self.failures.pop(0)
        if self.down is not None:
            raise self.down
        if any(value.charger_id == self.refused for value in values):
            raise OverflowError("Python int too large to convert to SQLite INTEGER")
        await super().add_meter_values(values)


def samples(tx: int, count: int = 2, charger: str | None = None) -> list[MeterValue]:
    """``count`` meter values of transaction ``tx``, a second apart."""
    return [
        MeterValue(charger_id=charger or f"CP-{tx}", evse_id=1, transaction_id=tx, timestamp=T0 + timedelta(seconds=i),
                   sampled=(SampledValue(ENERGY_REGISTER, 1000.0 + i, "Wh"),))
        for i in range(count)
    ]  # fmt: skip


async def settle() -> None:
    """Let every ready task run until all of them wait on something."""
    for _ in range(10):
        await asyncio.sleep(0)


@pytest.fixture
def store() -> BatchStore:
    return BatchStore()


async def test_concurrent_writers_share_one_commit(store: BatchStore) -> None:
    writer = MeterWriter(store)

    async def charger(tx: int) -> int:
        await writer.write(samples(tx))
        return len(await store.meter_values(tx))  # what the store holds the moment write() returned

    stored = await asyncio.gather(*(charger(tx) for tx in range(1, 101)))

    assert stored == [2] * 100  # every caller's samples were in before it returned
    assert store.batches == [200]


async def test_the_next_batch_fills_while_one_commits(store: BatchStore) -> None:
    writer = MeterWriter(store)
    store.gate.clear()
    first = [asyncio.create_task(writer.write(samples(tx))) for tx in range(1, 11)]
    await settle()
    second = [asyncio.create_task(writer.write(samples(tx))) for tx in range(11, 61)]
    await settle()

    assert store.batches == [20]  # the first batch is committing; the other 50 writers wait for the next one
    assert not any(task.done() for task in first + second)
    assert [len(await store.meter_values(tx)) for tx in (1, 11)] == [0, 0]

    store.gate.set()
    await asyncio.gather(*first, *second)
    assert store.batches == [20, 100]
    assert all([len(await store.meter_values(tx)) == 2 for tx in range(1, 61)])


async def test_large_batches_are_split_between_writes(store: BatchStore) -> None:
    writer = MeterWriter(store, max_batch=5)
    await asyncio.gather(*(writer.write(samples(tx, n)) for tx, n in ((1, 3), (2, 2), (3, 4), (4, 7))))
    assert store.batches == [5, 4, 7]  # a write is never split: a failed batch leaves no half-written write
    assert [len(await store.meter_values(tx)) for tx in (1, 2, 3, 4)] == [3, 2, 4, 7]


async def test_a_failing_store_fails_each_writer_and_later_batches_still_work(store: BatchStore) -> None:
    writer = MeterWriter(store)
    store.down = OSError("disk full")
    outcomes = await asyncio.gather(*(writer.write(samples(tx)) for tx in range(1, 6)), return_exceptions=True)

    assert [type(o) for o in outcomes] == [OSError] * 5
    assert all(str(o) == "disk full" for o in outcomes)
    assert [len(await store.meter_values(tx)) for tx in range(1, 6)] == [0] * 5  # nothing acknowledged
    assert store.batches == [10, 2, 2, 2, 2, 2]  # the batch, then each write alone

    store.down = None
    await writer.write(samples(6))
    assert len(await store.meter_values(6)) == 2


async def test_one_writers_bad_item_fails_only_that_writer(store: BatchStore) -> None:
    writer = MeterWriter(store)
    writes = [writer.write(samples(tx, charger="BAD" if tx == 3 else None)) for tx in range(1, 6)]
    outcomes = await asyncio.gather(*writes, return_exceptions=True)

    assert [type(o) for o in outcomes] == [type(None), type(None), OverflowError, type(None), type(None)]
    assert [len(await store.meter_values(tx)) for tx in range(1, 6)] == [2, 2, 0, 2, 2]
    assert store.batches == [10, 2, 2, 2, 2, 2]


async def test_a_transient_failure_of_a_batch_is_retried_write_by_write(store: BatchStore) -> None:
    writer = MeterWriter(store)
    store.gate.clear()
    store.failures.append(RuntimeError("connection reset"))
    first = [asyncio.create_task(writer.write(samples(tx))) for tx in (1, 2)]
    await settle()
    second = [asyncio.create_task(writer.write(samples(tx))) for tx in (3, 4)]
    await settle()
    store.gate.set()

    await asyncio.gather(*first, *second)
    assert [len(await store.meter_values(tx)) for tx in (1, 2, 3, 4)] == [2, 2, 2, 2]
    assert store.batches == [4, 2, 2, 4]


async def test_a_cancelled_writer_does_not_cancel_its_batch(store: BatchStore) -> None:
    writer = MeterWriter(store)
    store.gate.clear()
    impatient = asyncio.create_task(writer.write(samples(1)))
    patient = asyncio.create_task(writer.write(samples(2)))
    await settle()
    impatient.cancel()
    await settle()
    store.gate.set()
    await patient
    assert impatient.cancelled()
    assert [len(await store.meter_values(tx)) for tx in (1, 2)] == [2, 2]  # shared batch committed all the same


async def test_empty_write_returns_at_once(store: BatchStore) -> None:
    await MeterWriter(store).write([])
    assert store.batches == []


async def test_drain_waits_for_everything_written_so_far(store: BatchStore) -> None:
    writer = MeterWriter(store)
    await writer.drain()  # nothing pending: returns at once

    store.gate.clear()
    pending = [asyncio.create_task(writer.write(samples(tx))) for tx in (1, 2, 3)]
    await settle()
    drained = asyncio.create_task(writer.drain())
    await settle()
    assert not drained.done()

    store.gate.set()
    await drained
    assert [len(await store.meter_values(tx)) for tx in (1, 2, 3)] == [2, 2, 2]
    await asyncio.gather(*pending)


async def test_linger_gathers_writes_that_arrive_soon_after_a_commit(store: BatchStore) -> None:
    writer = MeterWriter(store, linger=0.2)
    await writer.write(samples(1))  # the first write after a quiet spell commits at once
    assert store.batches == [2]
    later = []
    for tx in (2, 3, 4):  # one per loop iteration, all within the linger after the first commit
        later.append(asyncio.create_task(writer.write(samples(tx))))
        await asyncio.sleep(0)
    await asyncio.gather(*later)
    assert store.batches == [2, 6]  # one commit for the three
    assert [len(await store.meter_values(tx)) for tx in (2, 3, 4)] == [2, 2, 2]


async def test_without_linger_each_loop_iteration_commits_on_its_own(store: BatchStore) -> None:
    writer = MeterWriter(store, linger=0.0)
    await writer.write(samples(1))
    for tx in (2, 3):
        await writer.write(samples(tx))
    assert store.batches == [2, 2, 2]


async def test_a_value_no_column_holds_fails_only_its_writer_on_sql(db_url: str | None, tmp_path: Path) -> None:
    """Past validation (a bug, or a bound too wide), one charger's evse id that the column cannot hold (int64
    on SQLite, int4 on PostgreSQL) had rolled back the whole batch and failed every charger in it."""
    sql = await open_store(db_url or f"sqlite+aiosqlite:///{tmp_path}/chargewise.db")
    too_big = 2**63 if db_url is None else 2**31
    try:
        writer = MeterWriter(sql)
        bad = [replace(value, evse_id=too_big) for value in samples(3)]
        writes = [writer.write(bad if tx == 3 else samples(tx)) for tx in range(1, 6)]
        outcomes = await asyncio.gather(*writes, return_exceptions=True)

        assert [o is None for o in outcomes] == [True, True, False, True, True], outcomes
        assert [len(await sql.meter_values(tx)) for tx in range(1, 6)] == [2, 2, 0, 2, 2]
    finally:
        await sql.close()
