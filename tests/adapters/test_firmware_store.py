"""The ``FirmwareStore`` contract, run against the in-memory fake, SQLite and PostgreSQL; a campaign read back
after reopening the database is the one written (what a restart mid-campaign resumes from)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from chargewise.adapters.memory_firmware import MemoryFirmwareStore
from chargewise.adapters.sql import open_store
from chargewise.adapters.sql.firmware import SqlFirmwareStore
from chargewise.firmware.amounts import Amount
from chargewise.firmware.artifacts import new_artifact
from chargewise.firmware.campaign import Campaign, Stage, State, Target
from chargewise.firmware.store import DownloadRecord, FirmwareStore, Note
from chargewise.firmware.window import parse_window

T0 = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)
CAMPAIGN = Campaign(id="c1", version="2.0", selector="vendor=Acme", created_at=T0, canary=1,
                    batch=Amount(value=10, percent=True), max_failures=Amount(value=2),
                    window=parse_window("22:00-04:00", "Europe/Berlin"), groups=3)  # fmt: skip


@pytest.fixture
async def firmware(store_url: str | None) -> AsyncIterator[FirmwareStore]:
    if store_url is None:
        yield MemoryFirmwareStore()
        return
    store = await open_store(store_url)
    try:
        yield SqlFirmwareStore(store)
    finally:
        await store.close()


def target(charger_id: str, group: int, **changes: object) -> Target:
    return replace(Target(campaign_id="c1", charger_id=charger_id, group=group, artifact_id="a1"), **changes)  # type: ignore[arg-type]


async def test_artifacts(firmware: FirmwareStore) -> None:
    a = new_artifact(sha256="ab" * 32, size=3, version="2.0", filename="fw.bin", added_at=T0, vendor="Acme",
                     signature="AAAA", signing_certificate="-----BEGIN CERTIFICATE-----\nx\n")  # fmt: skip
    b = new_artifact(sha256="cd" * 32, size=5, version="2.1", filename="fw2.bin", added_at=T0 + timedelta(1))
    await firmware.put_artifact(b)
    await firmware.put_artifact(a)
    await firmware.put_artifact(a)  # the same image again: the same artifact
    assert await firmware.artifacts() == [a, b]
    assert await firmware.artifact(a.id) == a and await firmware.artifact("nope") is None
    assert await firmware.remove_artifact(a.id) and not await firmware.remove_artifact(a.id)
    assert await firmware.artifacts() == [b]


async def test_campaigns_targets_history_and_downloads(firmware: FirmwareStore) -> None:
    targets = [target("B", 1), target("A", 0), target("C", 1)]
    await firmware.put_campaign(CAMPAIGN, targets, [Note(campaign_id="c1", at=T0, charger_id=None, text="started")])
    other = replace(CAMPAIGN, id="c2", created_at=T0 + timedelta(1), state=State.COMPLETED)
    await firmware.put_campaign(other)
    assert await firmware.campaign("c1") == CAMPAIGN
    assert [c.id for c in await firmware.campaigns()] == ["c1", "c2"]
    assert [c.id for c in await firmware.campaigns(states=frozenset({State.RUNNING, State.PAUSED}))] == ["c1"]
    assert [t.charger_id for t in await firmware.targets("c1")] == ["A", "B", "C"]
    moved = target("A", 0, stage=Stage.INSTALLED, request_id=77, sent_at=T0, reported_installed=True)
    await firmware.put_targets([moved], [Note(campaign_id="c1", at=T0, charger_id="A", text="installed")])
    await firmware.put_campaign(replace(CAMPAIGN, state=State.HALTED, reason="why"))
    assert (await firmware.targets("c1"))[0] == moved
    assert [n.text for n in await firmware.history("c1")] == ["started", "installed"]
    assert [n.text for n in await firmware.history("c1", limit=1)] == ["installed"]
    assert [c.state for c in await firmware.campaigns()] == [State.HALTED, State.COMPLETED]
    for first in (0, 100):
        await firmware.record_download(DownloadRecord(artifact_id="a1", charger_id="A", at=T0, first_byte=first,
                                                      last_byte=first + 99, status=206))  # fmt: skip
    assert [(d.first_byte, d.last_byte) for d in await firmware.downloads("a1")] == [(0, 99), (100, 199)]
    assert await firmware.downloads("a2") == []


async def test_a_campaign_outlives_the_process(sql_url: str) -> None:
    store = await open_store(sql_url)
    await SqlFirmwareStore(store).put_campaign(CAMPAIGN, [target("A", 0, stage=Stage.DOWNLOADING)])
    await store.close()
    store = await open_store(sql_url)
    try:
        again = SqlFirmwareStore(store)
        assert await again.campaigns(states=frozenset({State.RUNNING})) == [CAMPAIGN]
        assert [t.stage for t in await again.targets("c1")] == [Stage.DOWNLOADING]
    finally:
        await store.close()
