"""The ``SiteSettingStore`` contract, run against the in-memory fake, SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from chargewise.adapters.memory_settings import MemorySiteSettingStore
from chargewise.adapters.sql import open_store
from chargewise.adapters.sql.site_settings import SqlSiteSettingStore
from chargewise.domain.site_settings import EvseSetting, SiteDocument, SiteSettingStore

T0 = datetime(2026, 12, 2, 18, 0, tzinfo=UTC)


@pytest.fixture
async def settings(store_url: str | None) -> AsyncIterator[SiteSettingStore]:
    if store_url is None:
        yield MemorySiteSettingStore()
        return
    store = await open_store(store_url)
    try:
        yield SqlSiteSettingStore(store)
    finally:
        await store.close()


async def test_site_documents_are_kept_replaced_and_removals_remembered(settings: SiteSettingStore) -> None:
    doc = {"site": {"name": "shop"}, "nodes": {"main": {"limit_a": 20}}, "chargers": {"S": {"parent": "main"}}}
    await settings.put_site_document(SiteDocument(name="shop", document=doc, at=T0))
    await settings.put_site_document(SiteDocument(name="home", document=None, at=T0))
    assert await settings.site_documents() == [SiteDocument(name="home", document=None, at=T0),
                                               SiteDocument(name="shop", document=doc, at=T0)]  # fmt: skip
    bigger = {**doc, "nodes": {"main": {"limit_a": 40}}}
    await settings.put_site_document(SiteDocument(name="shop", document=bigger, at=T0 + timedelta(hours=1)))
    kept = {s.name: s for s in await settings.site_documents()}
    assert kept["shop"].document == bigger and kept["shop"].at == T0 + timedelta(hours=1)


async def test_evse_settings_round_trip_and_an_empty_one_deletes(settings: SiteSettingStore) -> None:
    told = EvseSetting(evse_id="W/1", energy_kwh=12.5, departure=T0 + timedelta(hours=9), register_wh=1234.5,
                       source="rest", mode="plan", cap_a=16.0, in_session=True)  # fmt: skip
    other = EvseSetting(evse_id="A/2", mode="solar")
    await settings.put_evse_setting(told)
    await settings.put_evse_setting(other)
    assert await settings.evse_settings() == [other, told]
    await settings.put_evse_setting(EvseSetting(evse_id="W/1", cap_a=10.0))
    assert await settings.evse_settings() == [other, EvseSetting(evse_id="W/1", cap_a=10.0)]
    await settings.put_evse_setting(EvseSetting(evse_id="A/2"))  # nothing set any more: gone
    await settings.put_evse_setting(EvseSetting(evse_id="never/1"))  # deleting what is not there is fine
    assert [s.evse_id for s in await settings.evse_settings()] == ["W/1"]
