"""Group commit: many concurrent writers share few store calls, and nobody returns before their values are in."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta

import pytest

from chargewise.adapters.memory import MemoryStore
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

    async def add_meter_values(self, values: Sequence[MeterValue]) -> None:
        self.batches.append(len(values))
        await self.gate.wait()
        if self.failures:
            raise self.failures.pop(0)
        await super().add_meter_values(values)


def samples(tx: int, count: int = 2) -> list[MeterValue]:
    """``count`` meter values of transaction ``tx``, a second apart."""
    return [
        MeterValue(charger_id=f"CP-{tx}", evse_id=1, transaction_id=tx, timestamp=T0 + timedelta(seconds=i),
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


async def test_large_batches_are_split(store: BatchStore) -> None:
    writer = MeterWriter(store, max_batch=5)
    await asyncio.gather(writer.write(samples(1, 7)), writer.write(samples(2, 5)))
    assert store.batches == [5, 5, 2]
    assert [len(await store.meter_values(tx)) for tx in (1, 2)] == [7, 5]


async def test_a_failed_batch_fails_each_of_its_writers_and_later_batches_still_work(store: BatchStore) -> None:
    writer = MeterWriter(store)
    store.failures.append(OSError("disk full"))
    outcomes = await asyncio.gather(*(writer.write(samples(tx)) for tx in range(1, 6)), return_exceptions=True)

    assert [type(o) for o in outcomes] == [OSError] * 5
    assert all(str(o) == "disk full" for o in outcomes)
    assert [len(await store.meter_values(tx)) for tx in range(1, 6)] == [0] * 5  # nothing acknowledged

    await writer.write(samples(6))
    assert len(await store.meter_values(6)) == 2
    assert store.batches == [10, 2]


async def test_a_failure_reaches_only_the_batch_it_belongs_to(store: BatchStore) -> None:
    writer = MeterWriter(store)
    store.gate.clear()
    store.failures.append(RuntimeError("connection reset"))
    doomed = [asyncio.create_task(writer.write(samples(tx))) for tx in (1, 2)]
    await settle()
    survivors = [asyncio.create_task(writer.write(samples(tx))) for tx in (3, 4)]
    await settle()
    store.gate.set()

    outcomes = await asyncio.gather(*doomed, *survivors, return_exceptions=True)
    assert [type(o) for o in outcomes] == [RuntimeError, RuntimeError, type(None), type(None)]
    assert [len(await store.meter_values(tx)) for tx in (1, 2, 3, 4)] == [0, 0, 2, 2]


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
