"""Leases: one holder at a time, fencing before expiry, take-over after a holder dies, release on stop.
Time is injected (one fake monotonic clock for the nodes and the in-process bus); the same against NATS."""

from __future__ import annotations

import asyncio
import secrets

import pytest

from chargewise.adapters.memory_bus import MemoryBroker, MemoryBus
from chargewise.services.leases import FENCE, Leases
from tests.external_services import require_service


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


async def test_one_holder_and_fenced_before_another_can_take_it() -> None:
    clock = FakeClock()
    broker = MemoryBroker(monotonic=clock)
    a = Leases(MemoryBus(broker), "a", ttl=5.0, monotonic=clock)
    b = Leases(MemoryBus(broker), "b", ttl=5.0, monotonic=clock)
    for node in (a, b):
        node.want("site:garage")
    await a.refresh()
    await b.refresh()
    assert a.holds("site:garage") and not b.holds("site:garage")
    assert await b.holder("site:garage") == "a"
    # a keeps it by refreshing
    for _ in range(5):
        clock.t += 1.25
        await a.refresh()
        await b.refresh()
        assert a.holds("site:garage") and not b.holds("site:garage")
    # a stops refreshing (dead, or lost its bus): it fences itself before the key expires for b
    times = []
    for _ in range(40):
        clock.t += 0.25
        await b.refresh()
        times.append((clock.t, a.holds("site:garage"), b.holds("site:garage")))
    a_stopped = next(t for t, holds_a, _ in times if not holds_a)
    b_started = next(t for t, _, holds_b in times if holds_b)
    assert a_stopped < b_started, times
    assert not any(holds_a and holds_b for _, holds_a, holds_b in times)
    assert b_started - (a_stopped - FENCE * 5.0) <= 5.0 + 0.5  # taken within ttl (+ one step) of a's last write


async def test_release_hands_over_at_the_next_try() -> None:
    clock = FakeClock()
    broker = MemoryBroker(monotonic=clock)
    a = Leases(MemoryBus(broker), "a", ttl=5.0, monotonic=clock)
    b = Leases(MemoryBus(broker), "b", ttl=5.0, monotonic=clock)
    a.want("reaper")
    b.want("reaper")
    await a.refresh()
    await b.refresh()
    await a.release()
    assert not a.holds("reaper")
    await b.refresh()
    assert b.holds("reaper") and await b.holder("reaper") == "b"


@pytest.mark.nats
async def test_take_over_on_nats_after_the_holder_stops() -> None:
    require_service("NATS", "127.0.0.1", 4222, "nats-server -js -a 127.0.0.1 -p 4222 &")
    from chargewise.adapters.nats_bus import connect

    bucket = f"cwtest_leases_{secrets.token_hex(4)}"
    bus_a, bus_b = await connect("nats://127.0.0.1:4222", name="a"), await connect("nats://127.0.0.1:4222", name="b")
    a = Leases(bus_a, "a", ttl=1.0, bucket=bucket)
    b = Leases(bus_b, "b", ttl=1.0, bucket=bucket)
    a.want("site:x")
    b.want("site:x")
    runs = [asyncio.ensure_future(a.run())]
    await asyncio.sleep(0.3)
    runs.append(asyncio.ensure_future(b.run()))
    try:
        await asyncio.sleep(1.5)
        assert a.holds("site:x") and not b.holds("site:x")
        runs[0].cancel()  # a dies
        overlap = False
        for _ in range(40):
            await asyncio.sleep(0.1)
            overlap = overlap or (a.holds("site:x") and b.holds("site:x"))
            if b.holds("site:x"):
                break
        assert b.holds("site:x") and not a.holds("site:x") and not overlap
    finally:
        for run in runs:
            run.cancel()
        await bus_a.close()
        await bus_b.close()
