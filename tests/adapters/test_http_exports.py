"""CSV over REST: id tokens exported and imported (every row checked first, a refusal naming row and column),
transactions filtered by charger, id tag, site and time, as JSON pages and as a billing CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from chargewise.domain.model import Registration
from chargewise.domain.ports import NewTransaction
from tests.adapters.test_http_access import send
from tests.adapters.test_http_sites import serve

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
CARDS = """id_tag,status,expires_at,parent_id_tag
CARD-1,Accepted,2027-01-01T00:00:00+01:00,
CARD-2,Blocked,,FLEET
"CARD,3",,,
"""


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Any]:
    app = await serve(tmp_path, with_site=True)  # site "home" with the charger "wallbox"
    try:
        yield app
    finally:
        await app.stop()


async def test_tokens_go_out_and_come_in_as_csv(running: Any) -> None:
    status, imported = await send(running, "POST", "/api/v1/tokens.csv", "t", data=CARDS)
    assert status == 200 and imported == {"imported": 3}
    status, text = await send(running, "GET", "/api/v1/tokens.csv", "t")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert status == 200 and [r["id_tag"] for r in rows] == ["CARD,3", "CARD-1", "CARD-2"]
    assert rows[1]["expires_at"] == "2026-12-31T23:00:00Z" and rows[2] == {
        "id_tag": "CARD-2",
        "status": "Blocked",
        "expires_at": "",
        "parent_id_tag": "FLEET",
    }
    status, again = await send(running, "POST", "/api/v1/tokens.csv", "t", data=text)  # what goes out comes back in
    assert status == 200 and again == {"imported": 3}
    for bad, where in (
        ("id_tag,status\nOK,Accepted\nBAD,Maybe\n", "row 3, column status"),
        ("id_tag,expires_at\nOK,tomorrow\n", "row 2, column expires_at"),
        ("id_tag\n" + "x" * 40 + "\n", "row 2, column id_tag"),
        ("name\nA\n", "unknown column 'name'"),
        ("status\nAccepted\n", "no id_tag column"),
    ):
        status, problem = await send(running, "POST", "/api/v1/tokens.csv", "t", data=bad)
        assert status == 422 and where in problem["message"], bad
    assert (await send(running, "GET", "/api/v1/tokens?limit=10", "t"))[1][0]["id_tag"] == "CARD,3"
    status, _ = await send(running, "POST", "/api/v1/tokens.csv", "t", data=b"id_tag\n\xff\n")
    assert status == 422


async def test_transactions_are_filtered_and_exported_for_billing(running: Any) -> None:
    store = running.store
    for charger in ("wallbox", "elsewhere"):
        await store.add_charger(charger, registration=Registration.ACCEPTED)
    for n in range(6):
        tx, _ = await store.start_transaction(NewTransaction(
            charger_id="wallbox" if n % 2 else "elsewhere", evse_id=1, connector_id=1, id_tag=f"T{n % 3}",
            started_at=T0 + timedelta(hours=n), meter_start_wh=1000.0, dedupe_key=str(n)))  # fmt: skip
        if n < 4:
            await store.stop_transaction(tx.id, stopped_at=T0 + timedelta(hours=n, minutes=30),
                                         meter_stop_wh=1000.0 + 1234.5 * (n + 1), reason="Local")  # fmt: skip
    status, home = await send(running, "GET", "/api/v1/transactions?site=home", "t")
    assert status == 200 and [t["charger_id"] for t in home] == ["wallbox"] * 3
    status, some = await send(running, "GET", "/api/v1/transactions?id_tag=T1&since=2026-12-01T09:00:00Z"
                                              "&until=2026-12-01T12:00:00%2B01:00", "t")  # fmt: skip
    assert [t["started_at"] for t in some] == ["2026-12-01T09:00:00Z"]
    for bad, what in (("site=away", "home"), ("since=yesterday", "ISO 8601"), ("until=2026-12-01T09:00:00", "zone"),
                      ("active=both", "true or false"), ("id_tag=a&id_tag=b", "twice")):  # fmt: skip
        status, problem = await send(running, "GET", f"/api/v1/transactions?{bad}", "t")
        assert status == 400 and what in problem["message"] + problem["fix"], bad
    status, text = await send(running, "GET", "/api/v1/transactions.csv?active=false", "t")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert status == 200 and [r["transaction_id"] for r in rows] == ["4", "3", "2", "1"]
    assert rows[0]["energy_kwh"] == "4.938" and rows[0]["stopped_at"] == "2026-12-01T11:30:00Z"
    assert rows[0]["charger_id"] == "wallbox" and rows[0]["id_tag"] == "T0" and rows[0]["provisional"] == "false"
    status, text = await send(running, "GET", "/api/v1/transactions.csv?site=home&active=true", "t")
    assert [r["transaction_id"] for r in csv.DictReader(io.StringIO(text))] == ["6"]
    assert (await send(running, "GET", "/api/v1/transactions.csv?since=soon", "t"))[0] == 400
