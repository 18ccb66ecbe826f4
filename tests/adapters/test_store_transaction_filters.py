"""``page_transactions`` filtered by a set of chargers (a site's), an id tag and a start-time window, with
paging and the total, on every backend (memory, SQLite, PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chargewise.domain.model import Registration
from chargewise.domain.ports import NewTransaction, Store
from tests.adapters.test_store_paging import pages

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


async def sessions(store: Store) -> None:
    for charger_id in ("A", "B", "C"):
        await store.add_charger(charger_id, registration=Registration.ACCEPTED)
    for n in range(12):  # hourly, round robin over A, B, C; tags alternate
        charger, tag = "ABC"[n % 3], f"TAG{n % 2}"
        await store.start_transaction(NewTransaction(charger_id=charger, evse_id=1, connector_id=1, id_tag=tag,
                                                     started_at=T0 + timedelta(hours=n), meter_start_wh=0.0,
                                                     dedupe_key=f"{n}"))  # fmt: skip


async def test_filters_combine_and_page(store: Store) -> None:
    await sessions(store)
    found = await pages(store.page_transactions, "before", limit=2, chargers={"A", "B"}, id_tag="TAG0")
    items = [t for p in found for t in p.items]
    assert {p.total for p in found} == {4} and len(found) == 2
    assert [(t.charger_id, t.id_tag) for t in items] == [("B", "TAG0"), ("A", "TAG0"), ("B", "TAG0"), ("A", "TAG0")]
    assert [t.started_at for t in items] == sorted((t.started_at for t in items), reverse=True)
    window = await store.page_transactions(limit=100, started_from=T0 + timedelta(hours=3),
                                           started_before=T0 + timedelta(hours=6))  # fmt: skip
    assert window.total == 3 and [t.started_at.hour for t in window.items] == [13, 12, 11]
    assert (await store.page_transactions(limit=5, chargers=set())).total == 0
    assert (await store.page_transactions(limit=5, id_tag="NOBODY")).items == []
    assert (await store.page_transactions(limit=5, charger_id="C", chargers={"A"})).total == 0
