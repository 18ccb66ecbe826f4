"""CSV files an operator exchanges with other systems: id tokens (export, and import from a card list) and
transactions for billing.

Token files have the header ``id_tag,status,expires_at,parent_id_tag`` (only ``id_tag`` is required; status
defaults to Accepted; times are ISO 8601 with an offset, written back in UTC with ``Z``). An import checks
every row before it writes any, and a refusal names the row and the column. Billing rows carry the energy in
kWh and the times in UTC.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime

from chargewise.domain.model import IdToken, TokenStatus, Transaction
from chargewise.services.admin_errors import AdminError, InvalidRequest
from chargewise.services.records import Records, check_expiry, check_id_tag, parse_status

TOKEN_COLUMNS = ("id_tag", "status", "expires_at", "parent_id_tag")
BILLING_COLUMNS = ("transaction_id", "charger_id", "evse_id", "connector_id", "id_tag", "started_at", "stopped_at",
                   "meter_start_wh", "meter_stop_wh", "energy_kwh", "stop_reason", "provisional")  # fmt: skip
MAX_IMPORT_ROWS = 100_000


def utc(at: datetime | None) -> str:
    return "" if at is None else at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _row_text(values: Iterable[object]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(["" if v is None else v for v in values])
    return out.getvalue()


def token_header() -> str:
    return _row_text(TOKEN_COLUMNS)


def token_row(token: IdToken) -> str:
    return _row_text([token.id_tag, token.status.value, utc(token.expires_at), token.parent_id_tag])


def billing_header() -> str:
    return _row_text(BILLING_COLUMNS)


def billing_row(tx: Transaction) -> str:
    energy = None if tx.energy_wh is None else f"{tx.energy_wh / 1000:.3f}"
    return _row_text([tx.id, tx.charger_id, tx.evse_id, tx.connector_id, tx.id_tag, utc(tx.started_at),
                      utc(tx.stopped_at), tx.meter_start_wh, tx.meter_stop_wh, energy, tx.stop_reason,
                      "true" if tx.provisional else "false"])  # fmt: skip


def parse_tokens(text: str) -> list[IdToken]:
    """Every row of a token file, checked (an ``InvalidRequest`` names the first bad row and column)."""
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    unknown = [c for c in header if c not in TOKEN_COLUMNS]
    if "id_tag" not in header or unknown:
        what = f"unknown column {unknown[0][:30]!r}" if unknown else "no id_tag column"
        raise InvalidRequest(f"token file: {what}", fix=f"use the header {','.join(TOKEN_COLUMNS)}")
    tokens = []
    for number, row in enumerate(reader, start=2):
        if number - 1 > MAX_IMPORT_ROWS:
            raise InvalidRequest("token file: too many rows", fix=f"import at most {MAX_IMPORT_ROWS} at a time")
        if None in row:
            raise InvalidRequest(f"token file row {number}: more values than columns", fix="quote values with commas")
        tokens.append(_token(row, number))
    return tokens


def _token(row: dict[str, str], number: int) -> IdToken:
    column = "id_tag"
    try:
        id_tag = check_id_tag(row["id_tag"] or "")
        column = "status"
        status = parse_status(row.get("status") or TokenStatus.ACCEPTED.value)
        column = "expires_at"
        expires = row.get("expires_at") or None
        expires_at = None if expires is None else check_expiry(_time(expires))
        column = "parent_id_tag"
        parent = row.get("parent_id_tag") or None
        parent_id_tag = None if parent is None else check_id_tag(parent, "parent id tag")
    except AdminError as exc:
        raise InvalidRequest(f"token file row {number}, column {column}: {exc.message}", fix=exc.fix) from None
    return IdToken(id_tag=id_tag, status=status, expires_at=expires_at, parent_id_tag=parent_id_tag)


def _time(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise InvalidRequest(f"{text[:40]!r} is not an ISO 8601 time", fix="write e.g. 2027-01-01T00:00:00Z") from None


async def import_tokens(records: Records, text: str) -> int:
    """Check every row, then add or replace each token; the number written."""
    tokens = parse_tokens(text)
    for token in tokens:
        await records.put_token(token.id_tag, status=token.status, expires_at=token.expires_at,
                                parent_id_tag=token.parent_id_tag)  # fmt: skip
    return len(tokens)


async def all_tokens(records: Records) -> AsyncIterator[IdToken]:
    cursor: str | None = None
    while True:
        page = await records.tokens(limit=1000, cursor=cursor)
        for token in page.items:
            yield token
        if page.next_cursor is None:
            return
        cursor = page.next_cursor
