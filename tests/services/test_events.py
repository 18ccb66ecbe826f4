"""The event hub: filters, bounded queues that drop the oldest, replay after a sequence number."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from chargewise.services.events import EventHub, Kind

AT = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


async def test_a_subscription_gets_what_passes_its_filter_in_order() -> None:
    hub = EventHub()
    with hub.subscribe(kinds=[Kind.STATUS], chargers=["A"]) as sub:
        hub.publish(Kind.STATUS, AT, "A", {"status": "Charging"})
        hub.publish(Kind.STATUS, AT, "B", {"status": "Charging"})
        hub.publish(Kind.METER, AT, "A", {"power_w": 1.0})
        hub.publish(Kind.STATUS, AT, "A", {"status": "Available"})
        got = [await sub.next(0.1), await sub.next(0.1), await sub.next(0.01)]
    assert [e.data["status"] for e in got if e] == ["Charging", "Available"]
    assert got[2] is None  # nothing more within the wait
    assert hub.listeners() == 0


async def test_a_slow_listener_loses_the_oldest_and_says_how_many() -> None:
    hub = EventHub()
    sub = hub.subscribe(maxsize=3)
    for i in range(10):
        hub.publish(Kind.METER, AT, "A", {"i": i})
    assert sub.dropped == 7
    assert [(await sub.next(0)).data["i"] for _ in range(3)] == [7, 8, 9]  # type: ignore[union-attr]
    sub.close()


async def test_replay_after_a_sequence_number_then_live() -> None:
    hub = EventHub(keep=5)
    first = [hub.publish(Kind.CONNECTION, AT, f"C{i}", {"connected": True}) for i in range(8)]
    sub = hub.subscribe(after=first[4].seq)  # the ring keeps the last 5: seq 4..8; newer than 5: 6, 7, 8
    hub.publish(Kind.CONNECTION, AT, "live", {"connected": False})
    seen = [e.charger_id for e in [await sub.next(0) for _ in range(4)] if e]
    assert seen == ["C5", "C6", "C7", "live"]
    assert [e.charger_id for e in hub.recent(2)] == ["C7", "live"]
    sub.close()


async def test_close_wakes_a_waiting_reader() -> None:
    hub = EventHub()
    sub = hub.subscribe()
    reader = asyncio.ensure_future(sub.next())
    await asyncio.sleep(0)
    sub.close()
    assert await asyncio.wait_for(reader, 1) is None


def test_event_json_is_utc_iso() -> None:
    event = EventHub().publish(Kind.FINDING, AT, "A", {"cause": "weak_rssi"})
    assert event.as_json() == {"seq": 1, "kind": "finding", "at": "2026-12-01T12:00:00Z", "charger_id": "A",
                               "data": {"cause": "weak_rssi"}}  # fmt: skip
