"""The bus port's contract, run against both adapters: the in-process bus and NATS at 127.0.0.1:4222."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator

import pytest

from chargewise.adapters.memory_bus import MemoryBroker, MemoryBus
from chargewise.domain.bus import Bus, NoResponder, RequestTimeout, id_from_key, key_for, subject_matches
from tests.external_services import require_service

NATS_URL = "nats://127.0.0.1:4222"


@pytest.fixture(params=["memory", pytest.param("nats", marks=pytest.mark.nats)])
async def buses(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Bus, Bus]]:
    """Two nodes' buses on one broker."""
    if request.param == "memory":
        broker = MemoryBroker()
        a, b = MemoryBus(broker), MemoryBus(broker)
    else:
        require_service("NATS", "127.0.0.1", 4222, "nats-server -js -a 127.0.0.1 -p 4222 &")
        from chargewise.adapters.nats_bus import connect

        a, b = await connect(NATS_URL, name="test-a"), await connect(NATS_URL, name="test-b")
    yield a, b
    await a.close()
    await b.close()


def unique(name: str) -> str:
    return f"{name}{secrets.token_hex(4)}"


async def test_events_reach_every_matching_subscriber(buses: tuple[Bus, Bus]) -> None:
    a, b = buses
    root = unique("t")
    got: list[tuple[str, bytes]] = []

    async def take(subject: str, data: bytes) -> None:
        got.append((subject, data))

    await b.subscribe(f"{root}.events.>", take)
    await a.subscribe(f"{root}.events.*.x", take)
    await asyncio.sleep(0.1)  # NATS: the subscription reaches the server
    await a.publish(f"{root}.events.n1.x", b"1")
    await a.publish(f"{root}.other", b"2")
    for _ in range(50):
        if len(got) >= 2:
            break
        await asyncio.sleep(0.02)
    assert sorted(got) == [(f"{root}.events.n1.x", b"1")] * 2


async def test_a_request_gets_its_reply_or_says_nobody_serves_it(buses: tuple[Bus, Bus]) -> None:
    a, b = buses
    subject = unique("call.")

    async def echo(data: bytes) -> bytes:
        return data.upper()

    async def slow(data: bytes) -> bytes:
        await asyncio.sleep(2)
        return data

    served = await b.serve(subject, echo)
    await b.serve(subject + "slow", slow)
    await asyncio.sleep(0.1)
    assert await a.request(subject, b"hello", wait_s=2) == b"HELLO"
    with pytest.raises(RequestTimeout):
        await a.request(subject + "slow", b"x", wait_s=0.2)
    await served.stop()
    await asyncio.sleep(0.1)
    with pytest.raises(NoResponder):
        await a.request(subject, b"hello", wait_s=1)


async def test_keys_create_update_and_expire(buses: tuple[Bus, Bus]) -> None:
    a, b = buses
    name = unique("cwtest")
    ka, kb = await a.bucket(name, ttl=1.0), await b.bucket(name, ttl=1.0)
    first = await ka.create("lease", b"node-a")
    assert first is not None
    assert await kb.create("lease", b"node-b") is None  # held
    assert await kb.update("lease", b"node-b", first + 1000) is None  # not its revision
    again = await ka.update("lease", b"node-a", first)
    assert again is not None and again > first
    found = await kb.get("lease")
    assert found is not None and found.value == b"node-a" and found.revision == again
    await asyncio.sleep(1.6)  # not refreshed for longer than the ttl: gone
    assert await kb.get("lease") is None
    assert await kb.create("lease", b"node-b") is not None
    await ka.put("other", b"1")
    assert sorted(e.key for e in await kb.items()) == ["lease", "other"]
    await ka.delete("other")
    assert [e.key for e in await kb.items()] == ["lease"]


def test_keys_for_any_charger_id() -> None:
    for text in ["CP-001", "ACME:42#1", "ünï çödé", "a.b", "x" * 40]:
        key = key_for(text)
        assert id_from_key(key) == text
        assert all(c.isalnum() or c in "-_=" for c in key), key
    assert key_for("CP_1-x") == "CP_1-x"


@pytest.mark.parametrize(
    ("pattern", "subject", "match"),
    [("a.*.c", "a.b.c", True), ("a.*.c", "a.b.d", False), ("a.>", "a.b.c", True), ("a.>", "a", False),
     ("a.b", "a.b", True), ("a.b", "a.b.c", False), ("a.*", "a", False)],
)  # fmt: skip
def test_subject_matching(pattern: str, subject: str, match: bool) -> None:
    assert subject_matches(pattern, subject) is match
