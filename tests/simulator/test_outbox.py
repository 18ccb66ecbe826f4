"""The bounded transaction-message queue: order, retries and what is dropped first."""

from __future__ import annotations

from chargewise.simulator.outbox import Kind, Outbox, Queued


def item(kind: Kind, n: int) -> Queued:
    return Queued(action=kind.value, payload={"n": n}, kind=kind, tx_local=1, created=float(n))


def test_full_queue_drops_the_oldest_meter_message_never_start_or_stop() -> None:
    box = Outbox(3)
    for q in (item(Kind.START, 0), item(Kind.METER, 1), item(Kind.METER, 2), item(Kind.METER, 3), item(Kind.STOP, 4)):
        box.put(q)
    assert [q.payload["n"] for q in box] == [0, 3, 4] and box.dropped == 2


def test_start_and_stop_are_kept_beyond_the_bound() -> None:
    box = Outbox(2)
    for n, kind in enumerate((Kind.START, Kind.STOP, Kind.START, Kind.METER)):
        box.put(item(kind, n))
    assert [q.payload["n"] for q in box] == [0, 1, 2] and box.over_bound == 1 and box.dropped == 1


def test_errors_retry_then_discard_timeouts_never_discard() -> None:
    box = Outbox(10)
    head = item(Kind.METER, 0)
    box.put(head)
    box.unsent(head)
    assert box.head() is head
    assert not box.failed(head, now=100.0, attempts=2, retry_interval=20)
    assert head.not_before == 120.0
    assert box.failed(head, now=130.0, attempts=2, retry_interval=20)
    assert box.head() is None and box.discarded == 1
