"""Id tokens and transactions as an operator reads and writes them, behind the REST API and the CLI.

Lists come a page at a time (``paging``); every refusal is an ``AdminError`` (``admin_errors``).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime

from chargewise.domain.model import IdToken, MeterValue, TokenStatus, Transaction
from chargewise.domain.ports import TokenStore, TransactionStore
from chargewise.services.admin_errors import InvalidRequest, NotFound, storable
from chargewise.services.paging import Listing, check_limit, make_cursor, read_cursor

MAX_TRANSACTION_ID = 2**31 - 1  # the id column is a 32-bit integer on PostgreSQL
MAX_ID_TAG = 36  # OCPP 2.0.1 IdToken.idToken (1.6 idTag: 20)
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 12, 31, tzinfo=UTC)  # a day short of the end: every zone can still show it
TRANSACTIONS_FIX = "list the transactions to see their ids"


@dataclass(frozen=True, kw_only=True, slots=True)
class TransactionRecord:
    transaction: Transaction
    meter_values: list[MeterValue]


def parse_status(text: str) -> TokenStatus:
    try:
        return TokenStatus(text)
    except ValueError:
        valid = ", ".join(s.value for s in TokenStatus)
        raise InvalidRequest(f"status {text[:40]!r} is not one of {valid}", fix=f"give one of {valid}") from None


def check_expiry(at: datetime) -> datetime:
    """``at`` in UTC, if it has a zone and lies between 1970 and 9999."""
    return check_time(at, "the expiry")


def check_time(at: datetime, what: str) -> datetime:
    """``at`` in UTC, if it has a zone and lies between 1970 and 9999."""
    if at.tzinfo is None:
        raise InvalidRequest(f"{what} has no time zone", fix="add one, e.g. 2027-01-01T00:00:00Z")
    try:
        utc = at.astimezone(UTC)
    except OverflowError:
        utc = None
    if utc is None or not EARLIEST <= utc <= LATEST:
        raise InvalidRequest(f"{what} {at.isoformat()} is out of range", fix="give a time between 1970 and 9999")
    return utc


def check_id_tag(id_tag: str, what: str = "id tag") -> str:
    if not 1 <= len(id_tag) <= MAX_ID_TAG or not id_tag.isprintable():
        fix = f"use 1 to {MAX_ID_TAG} printable characters"
        raise InvalidRequest(f"{what} {id_tag[:40]!r} is not allowed", fix=fix)
    return id_tag


class Records:
    """Tokens and transactions on ``store``."""

    def __init__(self, *, store: TokenStore) -> None:
        self._store = store

    # ------------------------------------------------------------------ tokens
    async def put_token(
        self,
        id_tag: str,
        *,
        status: TokenStatus = TokenStatus.ACCEPTED,
        expires_at: datetime | None = None,
        parent_id_tag: str | None = None,
    ) -> IdToken:
        """Create or replace a token."""
        token = IdToken(
            id_tag=check_id_tag(id_tag), status=status,
            expires_at=None if expires_at is None else check_expiry(expires_at),
            parent_id_tag=None if parent_id_tag is None else check_id_tag(parent_id_tag, "parent id tag"),
        )  # fmt: skip
        await self._store.put_token(token)
        return token

    async def block_token(self, id_tag: str) -> IdToken:
        try:
            if not storable(id_tag):
                raise KeyError(id_tag)
            await self._store.set_token_status(id_tag, TokenStatus.BLOCKED)
        except KeyError:
            raise NotFound(f"no token {id_tag[:40]!r}", fix="list the tokens to see their id tags") from None
        token = await self._store.get_token(id_tag)
        assert token is not None  # blocked just now; tokens are never deleted
        return token

    async def tokens(self, *, limit: int | None = None, cursor: str | None = None) -> Listing[IdToken]:
        """One page, in code-point order of the id tags."""
        size = check_limit(limit)
        page = await self._store.page_tokens(limit=size, after=read_cursor("tokens", cursor))
        return Listing(items=page.items, total=page.total, limit=size, next_cursor=make_cursor("tokens", page.next_key))


class Ledger:
    """Transactions on ``store``, read-only."""

    def __init__(self, *, store: TransactionStore) -> None:
        self._store = store

    async def transaction(self, transaction_id: int) -> TransactionRecord:
        """One transaction with its meter values; an id no transaction can have is simply not found."""
        found = await self._store.get_transaction(transaction_id) if 1 <= transaction_id <= MAX_TRANSACTION_ID else None
        if found is None:
            shown = transaction_id if abs(transaction_id) < 10**20 else "of this size"
            raise NotFound(f"no transaction {shown}", fix=TRANSACTIONS_FIX)
        return TransactionRecord(transaction=found, meter_values=await self._store.meter_values(transaction_id))

    async def transactions(
        self,
        *,
        limit: int | None = None,
        cursor: str | None = None,
        charger_id: str | None = None,
        active: bool | None = None,
        chargers: Collection[str] | None = None,
        id_tag: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Listing[Transaction]:
        """One page, newest first; ``charger_id``, ``active``, ``chargers`` (one of them: a site's), ``id_tag``
        and a start in [``since``, ``until``) filter (``total`` counts what matches)."""
        size = check_limit(limit)
        before = read_cursor("transactions", cursor)
        if before is not None and not (before.isdecimal() and 1 <= int(before) <= MAX_TRANSACTION_ID + 1):
            raise InvalidRequest("the cursor is not one this listing gave", fix="start again without cursor")
        unstorable = [c for c in (charger_id, id_tag, *(chargers or ())) if c is not None and not storable(c)]
        if unstorable:
            return Listing(items=[], total=0, limit=size, next_cursor=None)  # no charger or tag has such an id
        page = await self._store.page_transactions(
            limit=size, before=None if before is None else int(before), charger_id=charger_id, active=active,
            chargers=chargers, id_tag=id_tag, started_from=None if since is None else check_time(since, "since"),
            started_before=None if until is None else check_time(until, "until"),
        )  # fmt: skip
        cursor_next = make_cursor("transactions", page.next_key)
        return Listing(items=page.items, total=page.total, limit=size, next_cursor=cursor_next)
