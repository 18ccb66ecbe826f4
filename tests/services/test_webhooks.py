"""The webhook pumps: one per webhook, in order, a bounded queue that drops the oldest while the receiver is
down, kept in the store and pumped again after a restart, stopped when deleted."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import pytest

from chargewise.adapters.memory_api_clients import MemoryApiClientStore
from chargewise.services.admin_errors import InvalidRequest
from chargewise.services.deliveries import Backoff
from chargewise.services.events import EventHub, Kind
from chargewise.services.webhooks import Webhooks

T0 = datetime(2026, 12, 2, tzinfo=UTC)


class Receiver:
    def __init__(self) -> None:
        self.up = asyncio.Event()
        self.seqs: list[int] = []

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> str | None:
        if not self.up.is_set():
            await asyncio.sleep(0)
            return "ConnectionRefusedError"
        self.seqs.append(json.loads(body)["seq"])
        return None


async def settle(condition: object, rounds: int = 500) -> None:
    for _ in range(rounds):
        if callable(condition) and condition():
            return
        await asyncio.sleep(0.001)
    raise AssertionError("not settled")


async def test_a_down_receiver_costs_a_bounded_queue_then_gets_the_newest_in_order() -> None:
    hub, receiver = EventHub(), Receiver()
    hooks = Webhooks(store=MemoryApiClientStore(), hub=hub, post=receiver.post, now=lambda: T0,
                     backoff=Backoff(first_s=0.001, max_s=0.001, attempts=2), queue=5)  # fmt: skip
    pump = await hooks.create("http://r/h", ["status"])
    for n in range(50):
        hub.publish(Kind.STATUS, T0, "CP1", {"n": n})
        hub.publish(Kind.METER, T0, "CP1", {"n": n})  # not asked for
    assert pump.pending <= 5 and pump.dropped >= 40
    await settle(lambda: pump.pending == 0)
    receiver.up.set()
    hub.publish(Kind.STATUS, T0, "CP1", {"n": 50})
    await settle(lambda: receiver.seqs)
    assert receiver.seqs == sorted(receiver.seqs) and pump.status.given_up >= 1
    assert pump.status.last_error == "ConnectionRefusedError"
    await hooks.stop()


async def test_webhooks_survive_a_restart_and_stop_when_deleted() -> None:
    store, hub, receiver = MemoryApiClientStore(), EventHub(), Receiver()
    receiver.up.set()
    first = Webhooks(store=store, hub=hub, post=receiver.post, now=lambda: T0)
    made = await first.create("https://r/h", [], chargers=["CP2"])
    await first.stop()
    assert hub.listeners() == 0
    again = Webhooks(store=store, hub=hub, post=receiver.post, now=lambda: T0)
    await again.start()
    assert [p.webhook.id for p in again.pumps()] == [made.webhook.id]
    hub.publish(Kind.STATUS, T0, "CP1", {})
    event = hub.publish(Kind.TRANSACTION, T0, "CP2", {})
    await settle(lambda: receiver.seqs)
    assert receiver.seqs == [event.seq]
    await again.delete(made.webhook.id)
    assert hub.listeners() == 0 and await store.webhooks() == []
    with pytest.raises(InvalidRequest):
        await again.create("http://", [])
