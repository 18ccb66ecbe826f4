"""The newcomer bounds: at most max_pending waiting, at most pending_per_minute added a minute (time as data)."""

from __future__ import annotations

from datetime import timedelta

from chargewise.domain.model import Charger, Registration
from chargewise.services.directory import Directory, Entry
from chargewise.services.newcomers import Newcomers
from tests.domain.clock import T0


def test_a_burst_of_per_minute_then_one_every_interval() -> None:
    newcomers = Newcomers(max_pending=100, per_minute=3)
    assert [newcomers.take(0, T0) for _ in range(3)] == [None, None, None]
    refused = newcomers.take(0, T0 + timedelta(seconds=19))
    assert refused is not None and "pending_per_minute" in refused
    assert newcomers.take(0, T0 + timedelta(seconds=20)) is None  # 60 / 3 s: one back
    assert newcomers.take(0, T0 + timedelta(seconds=20)) is not None


def test_refusal_counts_nothing_and_a_clock_stepping_back_gives_nothing() -> None:
    newcomers = Newcomers(max_pending=100, per_minute=1)
    assert newcomers.refusal(0, T0) is None and newcomers.refusal(0, T0) is None  # asking is free
    assert newcomers.take(0, T0) is None
    assert newcomers.take(0, T0 - timedelta(hours=1)) is not None


def test_at_most_max_pending_waiting() -> None:
    newcomers = Newcomers(max_pending=2, per_minute=60)
    assert newcomers.take(1, T0) is None
    refused = newcomers.take(2, T0)
    assert refused is not None and "max_pending = 2" in refused and "approve or remove" in refused
    assert Newcomers(max_pending=0, per_minute=60).refusal(0, T0) is not None  # 0: no Pending newcomers at all


def test_the_directory_counts_its_pending_entries() -> None:
    directory = Directory()
    directory.put(Entry(charger_id="A", registration=Registration.PENDING))
    directory.put(Entry(charger_id="B", registration=Registration.PENDING))
    directory.put(Entry(charger_id="A", registration=Registration.ACCEPTED))  # approved
    directory.put(Entry(charger_id="C", registration=Registration.REJECTED))
    assert directory.pending_count() == 1
    directory.remove("B")
    directory.remove("B")  # twice: still counted once
    assert directory.pending_count() == 0
    directory.load([Charger(id="P1", registration=Registration.PENDING), Charger(id="P2", registration=Registration.PENDING),
                    Charger(id="OK", registration=Registration.ACCEPTED)])  # fmt: skip
    assert directory.pending_count() == 2
