"""``LinkSignals``: O(1) recording in memory, batched flushes (one row per charger), retention, and the
doctor's ``Signals`` assembled from stored rows and live batches. Time is injected; the store is the fake."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from chargewise.adapters.memory_link_signals import MemoryLinkSignalStore
from chargewise.doctor.signals import ClosedBy, LinkEventKind
from chargewise.domain.model import BootInfo, Charger
from chargewise.services import link_signals as ls
from chargewise.services.link_signals import LinkSignals, Retention
from tests.domain.clock import T0, SteppingClock


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def service(**retention: float) -> tuple[LinkSignals, MemoryLinkSignalStore]:
    store = MemoryLinkSignalStore()
    return LinkSignals(store=store, retention=Retention(**retention), clock=SteppingClock(T0)), store  # type: ignore[arg-type]


def record_a_day(signals: LinkSignals) -> None:
    signals.connected("CP1", T0, remote="203.0.113.7", tls_version="TLSv1.3", ping_interval_s=60, ping_timeout_s=30)
    signals.boot("CP1", T0 + timedelta(seconds=1), reason="PowerUp", firmware="1.0", heartbeat_interval_s=300)
    for k in range(1, 4):
        signals.ping("CP1", T0 + timedelta(seconds=60 * k), 0.012 * k)
    signals.ping("CP1", T0 + timedelta(seconds=240), None)
    signals.disconnected("CP1", T0 + timedelta(seconds=270), close_code=1006, closed_by=ClosedBy.PING_TIMEOUT,
                         detail="no pong within 30 s", last_frame_at=T0 + timedelta(seconds=180))  # fmt: skip
    signals.radio("CP1", T0 + timedelta(seconds=5), -71.0, bssid="02:00:00:00:00:01", source="DataTransfer")
    signals.heartbeat("CP1", T0 + timedelta(seconds=120))
    signals.connected("CP2", T0, remote="198.51.100.2")


async def test_the_window_holds_every_kind_oldest_first_from_live_batches() -> None:
    signals, _ = service()
    record_a_day(signals)
    got = await signals.signals("CP1", T0, T0 + timedelta(hours=1))
    assert [e.kind for e in got.links] == [LinkEventKind.CONNECTED, LinkEventKind.DISCONNECTED]
    assert got.links[1].closed_by is ClosedBy.PING_TIMEOUT and got.links[1].last_frame_at == at(180)
    assert [p.rtt_s for p in got.pings] == [pytest.approx(0.012), pytest.approx(0.024), pytest.approx(0.036), None]
    assert [(r.rssi_dbm, r.bssid) for r in got.radio] == [(-71.0, "02:00:00:00:00:01")]
    assert got.heartbeats == (at(120),) and [b.reason for b in got.boots] == ["PowerUp"]
    assert (got.ping_interval_s, got.ping_timeout_s, got.heartbeat_interval_s) == (60, 30, 300)
    assert got.ever_connected and got.known_since == T0  # its first connection
    later = await signals.signals("CP1", T0 + timedelta(seconds=100), T0 + timedelta(hours=1))
    assert [p.at for p in later.pings] == [at(120), at(180), at(240)]


async def test_a_flush_writes_one_row_per_charger_and_reading_gives_the_same() -> None:
    signals, store = service()
    record_a_day(signals)
    before = await signals.signals("CP1", T0, T0 + timedelta(hours=1))
    assert await signals.flush() == 2
    assert await signals.flush() == 0
    assert len(await store.rows("CP1", T0)) == 1 and len(await store.rows("CP2", T0)) == 1
    after = await signals.signals("CP1", T0, T0 + timedelta(hours=1))
    assert after.links == before.links and after.radio == before.radio
    assert [(p.at, p.rtt_s) for p in after.pings] == [(p.at, p.rtt_s and round(p.rtt_s, 4)) for p in before.pings]
    assert after.known_since == T0


async def test_the_charger_row_says_what_it_is_and_whether_it_ever_connected() -> None:
    signals, _ = service()
    row = Charger(id="CP9", boot=BootInfo(vendor="Elektra", model="W22", firmware_version="4.2"), connected=True)
    got = await signals.signals("CP9", T0, T0 + timedelta(hours=1), charger=row)
    assert (got.vendor, got.model, got.firmware, got.ever_connected, got.connected_now) == (
        "Elektra", "W22", "4.2", True, True)  # fmt: skip
    never = await signals.signals("CP9", T0, T0 + timedelta(hours=1), charger=Charger(id="CP9"), connected_now=False)
    assert not never.ever_connected and not never.connected_now and never.links == ()


async def test_a_tls_failure_goes_to_the_charger_last_seen_from_that_address() -> None:
    signals, _ = service()
    signals.connected("CP1", T0, remote="203.0.113.7")
    assert signals.tls_failed("203.0.113.7", T0 + timedelta(seconds=9), "alert certificate expired") == "CP1"
    assert signals.tls_failed("192.0.2.99", T0 + timedelta(seconds=9), "unknown ca") is None
    got = await signals.signals("CP1", T0, T0 + timedelta(minutes=1))
    assert [(e.kind, e.detail) for e in got.links][-1] == (LinkEventKind.TLS_FAILED, "alert certificate expired")


async def test_refusals_keep_the_reason_only() -> None:
    signals, _ = service()
    signals.refused("CP1", T0, remote="203.0.113.7", detail="bad or missing credentials")
    got = await signals.signals("CP1", T0, T0 + timedelta(minutes=1))
    assert [(e.kind, e.remote, e.detail) for e in got.links] == [
        (LinkEventKind.REFUSED, "203.0.113.7", "bad or missing credentials")]  # fmt: skip


async def test_others_reconnected_after_our_clean_close() -> None:
    signals, _ = service()
    for cid in ("CP1", "CP2", "CP3"):
        signals.connected(cid, T0, remote=None)
        signals.disconnected(cid, T0 + timedelta(seconds=10), close_code=1000, closed_by=ClosedBy.SERVER)
    signals.connected("CP2", T0 + timedelta(seconds=15), remote=None)
    signals.connected("CP3", T0 + timedelta(seconds=16), remote=None)
    got = await signals.signals("CP1", T0, T0 + timedelta(minutes=5))
    assert got.others_reconnected == 2
    assert (await signals.signals("CP9", T0, T0 + timedelta(minutes=5))).others_reconnected is None


async def test_command_outcomes_are_stamped_with_the_clock() -> None:
    signals, _ = service()
    signals.command_ended("CP1", "GetVariables", "timeout", 30.0)
    signals.command_ended("CP1", "Reset", "offline", None)
    got = await signals.signals("CP1", T0, T0 + timedelta(minutes=1))
    assert [(c.action, c.outcome, c.duration_s) for c in got.commands] == [
        ("GetVariables", "timeout", 30.0), ("Reset", "offline", None)]  # fmt: skip


async def test_a_flood_is_capped_per_flush_and_counted() -> None:
    signals, _ = service()
    for k in range(ls.MAX_BATCH + 5):
        signals.heartbeat("CP1", T0 + timedelta(milliseconds=k))
    assert signals.dropped == 5
    assert len((await signals.signals("CP1", T0, T0 + timedelta(hours=1))).heartbeats) == ls.MAX_BATCH


async def test_retention_prunes_by_age_and_by_rows_per_charger() -> None:
    signals, store = service(days=1, rows_per_charger=2)
    for day in range(3):  # one flush per day... and three in the last one
        for _ in range(3 if day == 2 else 1):
            signals.heartbeat("CP1", T0 + timedelta(days=day))
            await signals.flush()
    now = T0 + timedelta(days=2, hours=1)
    assert await signals.prune(now) == 3  # days 0 and 1 are too old, and one of day 2's three rows is too many
    assert len(await store.rows("CP1", T0)) == 2


async def test_a_failed_flush_is_logged_and_drops_its_batches() -> None:
    class Broken(MemoryLinkSignalStore):
        async def append(self, rows: object) -> None:
            raise OSError("disk full")

    signals = LinkSignals(store=Broken())
    signals.heartbeat("CP1", T0)
    assert await signals.flush() == 0
    assert (await signals.signals("CP1", T0, T0 + timedelta(minutes=1))).heartbeats == ()


async def test_sessions_come_from_the_transactions_that_overlap_the_window() -> None:
    from chargewise.domain.model import Transaction

    signals, _ = service()

    def tx(n: int, start: float, stop: float | None, charger: str = "CP1") -> Transaction:
        return Transaction(id=n, charger_id=charger, evse_id=1, connector_id=1, id_tag="T", started_at=at(start),
                           meter_start_wh=0.0, stopped_at=None if stop is None else at(stop))  # fmt: skip

    got = await signals.signals("CP1", at(100), at(1000), transactions=[tx(3, 900, None), tx(1, 0, 50),
                                                                         tx(2, 60, 200), tx(4, 0, None, "CP2")])  # fmt: skip
    assert [(s.start, s.end) for s in got.sessions] == [(at(60), at(200)), (at(900), None)]


async def test_a_disconnect_keeps_the_longest_quiet_the_link_lived_through() -> None:
    signals, _ = service()
    signals.disconnected("CP1", T0, close_code=1006, closed_by=ClosedBy.TRANSPORT, longest_quiet_s=118.04)
    got = await signals.signals("CP1", T0, T0 + timedelta(minutes=1))
    assert got.links[0].longest_quiet_s == 118.0


def test_an_idle_charger_costs_a_few_hundred_bytes_between_flushes() -> None:
    import tracemalloc

    signals = LinkSignals()
    ids = [f"CP{i}" for i in range(2000)]
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        for k in range(5):  # a minute's ping each, for the five minutes between two flushes
            for cid in ids:
                signals.ping(cid, T0 + timedelta(seconds=60 * k), 0.0123)
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    per_charger = sum(stat.size_diff for stat in after.compare_to(before, "filename")) / len(ids)
    assert per_charger < 700, per_charger  # 1,100 bytes before the lists were made lazily and the pings flat
