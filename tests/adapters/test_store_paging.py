"""The ``Store`` paging contract (``page_chargers``, ``page_transactions``, ``page_tokens``), on every backend."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chargewise.domain.model import ConnectorStatus, IdToken, Registration
from chargewise.domain.ports import NewTransaction, Page, Store

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


async def pages(fetch: Any, key_name: str = "after", **first: object) -> list[Page[Any, Any]]:
    """Every page, following ``next_key`` (passed back as ``key_name``) to the end."""
    found = [await fetch(**first)]
    while found[-1].next_key is not None:
        found.append(await fetch(**first, **{key_name: found[-1].next_key}))
    return found


async def test_chargers_page_in_code_point_order_with_the_total(store: Store) -> None:
    for charger_id in ["cp-b", "CP-a", "CP-B", "CP-1", "CP-10"]:
        await store.add_charger(charger_id, registration=Registration.ACCEPTED)
    await store.set_connector_status("CP-a", 1, 1, ConnectorStatus.CHARGING, None, T0)

    found = await pages(store.page_chargers, limit=2)

    assert [[c.id for c in p.items] for p in found] == [["CP-1", "CP-10"], ["CP-B", "CP-a"], ["cp-b"]]
    assert {p.total for p in found} == {5}
    assert [s.status for s in found[1].items[1].connectors] == [ConnectorStatus.CHARGING]
    assert found[-1].next_key is None


async def test_a_page_that_ends_exactly_at_the_last_charger_says_so(store: Store) -> None:
    for charger_id in ["A", "B"]:
        await store.add_charger(charger_id, registration=Registration.ACCEPTED)

    page = await store.page_chargers(limit=2)

    assert [c.id for c in page.items] == ["A", "B"] and page.next_key is None and page.total == 2
    empty = await store.page_chargers(limit=5, after="B")
    assert empty.items == [] and empty.total == 2 and empty.next_key is None


async def test_transactions_page_newest_first_with_filters_and_a_filtered_total(store: Store) -> None:
    ids = {}
    for n, charger_id in enumerate(["CP1", "CP2", "CP1", "CP1", "CP1"]):
        new = NewTransaction(charger_id=charger_id, evse_id=1, connector_id=1, id_tag=None, started_at=T0,
                             meter_start_wh=0.0, dedupe_key=str(n))  # fmt: skip
        ids[n] = (await store.start_transaction(new))[0].id
    await store.stop_transaction(ids[2], stopped_at=T0, meter_stop_wh=1.0, reason="Local")

    every = await pages(store.page_transactions, "before", limit=2)
    assert [[t.id for t in p.items] for p in every] == [[ids[4], ids[3]], [ids[2], ids[1]], [ids[0]]]
    assert {p.total for p in every} == {5}

    open_cp1 = await pages(store.page_transactions, "before", limit=2, charger_id="CP1", active=True)
    assert [[t.id for t in p.items] for p in open_cp1] == [[ids[4], ids[3]], [ids[0]]]
    assert {p.total for p in open_cp1} == {3}


async def test_tokens_page_in_code_point_order(store: Store) -> None:
    for tag in ["b", "A", "a", "B"]:
        await store.put_token(IdToken(id_tag=tag))

    found = await pages(store.page_tokens, limit=3)

    assert [[t.id_tag for t in p.items] for p in found] == [["A", "B", "a"], ["b"]]
    assert {p.total for p in found} == {4}
