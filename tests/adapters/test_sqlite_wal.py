"""SQLite under sustained writes: every write runs inline, and the write-ahead log stays bounded."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from chargewise.adapters.sql import inline, open_store
from chargewise.domain.model import MeterValue, Registration, SampledValue
from chargewise.domain.ports import NewTransaction

T0 = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)
FRAME = 4096 + 24  # a WAL frame: a 4 KiB page and its header


async def _write_meter_values(url: str, batches: int) -> int:
    """Keep writing meter values for 50 transactions, as chargers do, letting checkpoints run meanwhile; return
    the largest size the WAL file reached, in frames."""
    store = await open_store(url)
    wal = Path(url.removeprefix("sqlite+aiosqlite:///") + "-wal")
    largest = 0
    try:
        await store.add_charger("CP1", registration=Registration.ACCEPTED)
        txs = []
        for n in range(50):
            new = NewTransaction(
                charger_id="CP1", evse_id=1, connector_id=1, id_tag="TAG", started_at=T0, meter_start_wh=0.0,
                dedupe_key=f"tx{n}",
            )  # fmt: skip
            txs.append((await store.start_transaction(new))[0].id)
        for i in range(batches):
            sampled = (SampledValue(measurand="Energy.Active.Import.Register", value=float(i), unit="Wh"),)
            at = T0 + timedelta(seconds=i)
            values = [
                MeterValue(charger_id="CP1", evse_id=1, transaction_id=tx, timestamp=at, sampled=sampled) for tx in txs
            ]
            await store.add_meter_values(values)
            await asyncio.sleep(0.001)  # the loop turns: a checkpoint in its thread overlaps the next writes
            largest = max(largest, wal.stat().st_size // FRAME)  # noqa: ASYNC240 (a stat, no waiting)
        assert len(await store.meter_values(txs[0])) == batches  # nothing lost on the way
    finally:
        await store.close()
    return largest


async def test_the_wal_starts_over_under_sustained_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inline, "CHECKPOINT_EVERY", 100)
    monkeypatch.setattr(inline, "RESTART_FRAMES", 400)
    largest = await _write_meter_values(f"sqlite+aiosqlite:///{tmp_path}/cw.db", batches=200)
    # the WAL is reused from its start once a checkpoint caught up: it stays near RESTART_FRAMES (about 500
    # frames here). Without the catching-up step, checkpoints overlapping the writes seldom caught up and it
    # reached about 3,000 frames.
    assert largest < 2_000, f"the WAL reached {largest} frames"


async def test_a_catching_up_checkpoint_syncs_the_database_before_it_holds_the_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inline, "CHECKPOINT_EVERY", 100)
    # below the frames one batch writes (about 28), so that every checkpoint is a catching-up one, however fast
    # the machine: with 400, a machine on which the checkpoints kept up by themselves never needed one
    monkeypatch.setattr(inline, "RESTART_FRAMES", 20)
    calls: list[str] = []
    writer = inline.InlineSqliteWriter
    real_sync, real_checkpoint = writer.sync_database, writer.checkpoint

    def sync_database(self: inline.InlineSqliteWriter) -> None:
        calls.append("sync")
        real_sync(self)

    def checkpoint(self: inline.InlineSqliteWriter, *, caught_up: bool = False) -> None:
        calls.append("held round" if caught_up else "round")
        real_checkpoint(self, caught_up=caught_up)

    monkeypatch.setattr(writer, "sync_database", sync_database)
    monkeypatch.setattr(writer, "checkpoint", checkpoint)
    await _write_meter_values(f"sqlite+aiosqlite:///{tmp_path}/cw.db", batches=200)
    held = [i for i, call in enumerate(calls) if call == "held round"]
    assert held, f"no checkpoint caught up: {calls}"
    # SQLite syncs the database file only in a checkpoint that caught up: without the sync before it, the held
    # round flushed every page the earlier rounds had copied while the meter writes waited
    for i in held:
        assert calls[i - 2 : i] == ["sync", "round"], calls
