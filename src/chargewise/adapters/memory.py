"""``MemoryStore``: the ``Store`` port in dicts, for unit tests and demos. Nothing survives ``close``.

It behaves like ``chargewise.adapters.sql.SqlStore`` (one contract suite runs against both): it returns
copies, never its own objects; it normalises times to UTC and refuses naive ones with ``ValueError``;
``remove_charger`` and ``touch`` ignore an unknown charger and every other charger write raises ``KeyError``.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Container, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import msgspec

from chargewise.domain.model import (
    BootInfo,
    Charger,
    ConnectorState,
    ConnectorStatus,
    Credentials,
    IdToken,
    MeterValue,
    OcppVersion,
    Registration,
    TokenStatus,
    Transaction,
)
from chargewise.domain.ports import ConnectionChange, NewTransaction, Page, Store, TransactionFacts


class MemoryStore:
    """A fresh, empty store; share one instance between the services under test."""

    def __init__(self) -> None:
        self._chargers: dict[str, Charger] = {}  # connectors kept apart, in _connectors
        self._connectors: dict[str, dict[tuple[int, int], ConnectorState]] = {}
        self._transactions: dict[int, Transaction] = {}
        self._dedupe: dict[tuple[str, str], int] = {}
        self._events: set[tuple[int, int]] = set()
        self._values: list[tuple[int, MeterValue]] = []
        self._tokens: dict[str, IdToken] = {}
        self._ids = itertools.count(1)
        self._value_ids = itertools.count(1)
        self._revision = 0  # bumped by every change to the charger directory

    async def close(self) -> None:
        """Nothing to release; present for the ``Store`` port."""

    def _charger(self, charger_id: str) -> Charger:
        try:
            return self._chargers[charger_id]
        except KeyError:
            raise KeyError(charger_id) from None

    def _copy_charger(self, charger: Charger) -> Charger:
        states = self._connectors.get(charger.id, {})
        return replace(charger, connectors=[states[key] for key in sorted(states)])

    # --- chargers -------------------------------------------------------------------------------------------

    async def get_charger(self, charger_id: str) -> Charger | None:
        charger = self._chargers.get(charger_id)
        return None if charger is None else self._copy_charger(charger)

    async def list_chargers(self) -> list[Charger]:
        return [self._copy_charger(self._chargers[key]) for key in sorted(self._chargers)]

    async def page_chargers(self, *, limit: int, after: str | None = None) -> Page[Charger, str]:
        ids = sorted(self._chargers)
        page = [key for key in ids if after is None or key > after][: limit + 1]
        items = [self._copy_charger(self._chargers[key]) for key in page[:limit]]
        return Page(items=items, total=len(ids), next_key=items[-1].id if len(page) > limit else None)

    async def add_charger(
        self,
        charger_id: str,
        *,
        registration: Registration,
        password_hash: str | None = None,
        security_profile: int | None = None,
    ) -> Charger:
        if charger_id in self._chargers:
            raise KeyError(charger_id)
        charger = Charger(
            id=charger_id, registration=registration, password_hash=password_hash, security_profile=security_profile
        )
        self._chargers[charger_id] = charger
        self._revision += 1
        return self._copy_charger(charger)

    async def set_registration(self, charger_id: str, registration: Registration) -> None:
        self._charger(charger_id).registration = registration
        self._revision += 1

    async def set_password_hash(self, charger_id: str, password_hash: str | None) -> None:
        self._charger(charger_id).password_hash = password_hash
        self._revision += 1

    async def set_credentials(self, charger_id: str, credentials: Credentials) -> None:
        charger = self._charger(charger_id)
        charger.password_hash = credentials.password_hash
        charger.previous_password_hash = credentials.previous_password_hash
        charger.security_profile = credentials.security_profile
        charger.pending_security_profile = credentials.pending_security_profile
        self._revision += 1

    async def remove_charger(self, charger_id: str) -> None:
        self._connectors.pop(charger_id, None)
        if self._chargers.pop(charger_id, None) is not None:
            self._revision += 1

    async def set_quirks(self, charger_id: str, quirks: tuple[str, ...]) -> None:
        self._charger(charger_id).quirks = tuple(quirks)
        self._revision += 1

    async def directory_revision(self) -> int:
        """Poll it; when it differs from the last value seen, reload the chargers."""
        return self._revision

    async def record_boot(self, charger_id: str, version: OcppVersion, boot: BootInfo, at: datetime) -> None:
        charger = self._charger(charger_id)
        charger.ocpp_version, charger.boot, charger.last_seen = version, boot, _utc(at)

    async def record_connection(self, charger_id: str, *, connected: bool, at: datetime) -> None:
        charger = self._charger(charger_id)
        charger.connected = connected
        if connected:
            charger.offline_since, charger.last_seen = None, _utc(at)
        else:
            charger.offline_since = _utc(at)

    async def record_connections(self, changes: Sequence[ConnectionChange]) -> None:
        for change in changes:
            if change.register_as is not None and change.charger_id not in self._chargers:
                self._chargers[change.charger_id] = Charger(id=change.charger_id, registration=change.register_as)
            if change.charger_id in self._chargers:
                await self.record_connection(change.charger_id, connected=change.connected, at=change.at)

    async def touch(self, charger_id: str, at: datetime) -> None:
        charger = self._chargers.get(charger_id)
        if charger is not None:
            charger.last_seen = _utc(at)

    async def clear_silent_links(self, silent_since: datetime, *, spare: Container[str] = ()) -> list[str]:
        cleared = []
        for charger in self._chargers.values():
            heard = charger.last_seen
            if charger.connected and charger.id not in spare and (heard is None or heard < silent_since):
                charger.connected, charger.offline_since = False, heard or _utc(silent_since)
                cleared.append(charger.id)
        return sorted(cleared)

    async def set_connector_status(
        self,
        charger_id: str,
        evse_id: int,
        connector_id: int,
        status: ConnectorStatus,
        error_code: str | None,
        at: datetime,
    ) -> None:
        self._charger(charger_id)
        states = self._connectors.setdefault(charger_id, {})
        stored = states.get((evse_id, connector_id))
        if stored is not None and _utc(at) < stored.updated_at:
            return  # an offline-queued notification older than what we know
        states[(evse_id, connector_id)] = ConnectorState(
            evse_id=evse_id, connector_id=connector_id, status=status, error_code=error_code, updated_at=_utc(at)
        )

    # --- transactions ---------------------------------------------------------------------------------------

    async def start_transaction(self, new: NewTransaction) -> tuple[Transaction, bool]:
        existing = self._dedupe.get((new.charger_id, new.dedupe_key))
        if existing is not None:
            return replace(self._transactions[existing]), False
        transaction = Transaction(
            id=next(self._ids),
            charger_id=new.charger_id,
            evse_id=new.evse_id,
            connector_id=new.connector_id,
            id_tag=new.id_tag,
            started_at=_utc(new.started_at),
            meter_start_wh=_float(new.meter_start_wh),
            remote_id=new.remote_id,
        )
        self._transactions[transaction.id] = transaction
        self._dedupe[(new.charger_id, new.dedupe_key)] = transaction.id
        return replace(transaction), True

    async def stop_transaction(
        self,
        transaction_id: int,
        *,
        stopped_at: datetime,
        meter_stop_wh: float | None,
        reason: str | None,
        meter_values: Sequence[MeterValue] = (),
        provisional: bool = False,
    ) -> Transaction | None:
        transaction = self._transactions.get(transaction_id)
        if transaction is None:
            return None
        if transaction.active or (transaction.reaped and not provisional):
            await self.add_meter_values(meter_values)
            transaction.stopped_at = _utc(stopped_at)
            transaction.meter_stop_wh, transaction.stop_reason = _float(meter_stop_wh), reason
            transaction.provisional = provisional
        return replace(transaction)

    async def amend_transaction(self, transaction_id: int, facts: TransactionFacts) -> Transaction | None:
        t = self._transactions.get(transaction_id)
        if t is None:
            return None
        if t.evse_id == 0 and facts.evse_id:
            t.evse_id, t.connector_id = facts.evse_id, facts.connector_id or t.connector_id
        if t.meter_start_wh is None:
            t.meter_start_wh = _float(facts.meter_start_wh)
        if not t.id_tag and facts.id_tag:  # "" is no token (1.6 chargers, 2.0.1 NoAuthorization)
            t.id_tag = facts.id_tag
        if t.remote_start_id is None:
            t.remote_start_id = facts.remote_start_id
        t.ev_connected = t.ev_connected or facts.ev_connected
        return replace(t)

    async def get_transaction(self, transaction_id: int) -> Transaction | None:
        transaction = self._transactions.get(transaction_id)
        return None if transaction is None else replace(transaction)

    async def find_by_remote_id(self, charger_id: str, remote_id: str) -> Transaction | None:
        for transaction in sorted(self._transactions.values(), key=lambda t: -t.id):
            if transaction.charger_id == charger_id and transaction.remote_id == remote_id:
                return replace(transaction)
        return None

    async def list_transactions(
        self, *, charger_id: str | None = None, active: bool | None = None, limit: int = 500
    ) -> list[Transaction]:
        """Newest (highest id) first."""
        found = [
            replace(t)
            for t in sorted(self._transactions.values(), key=lambda t: -t.id)
            if (charger_id is None or t.charger_id == charger_id) and (active is None or t.active == active)
        ]
        return found[:limit]

    async def page_transactions(
        self,
        *,
        limit: int,
        before: int | None = None,
        charger_id: str | None = None,
        active: bool | None = None,
        chargers: Collection[str] | None = None,
        id_tag: str | None = None,
        started_from: datetime | None = None,
        started_before: datetime | None = None,
    ) -> Page[Transaction, int]:
        found = [
            t for t in await self.list_transactions(charger_id=charger_id, active=active, limit=len(self._transactions))
            if (chargers is None or t.charger_id in chargers) and (id_tag is None or t.id_tag == id_tag)
            and (started_from is None or t.started_at >= started_from)
            and (started_before is None or t.started_at < started_before)
        ]  # fmt: skip
        page = [t for t in found if before is None or t.id < before][: limit + 1]
        return Page(items=page[:limit], total=len(found), next_key=page[limit - 1].id if len(page) > limit else None)

    async def open_while_silent(self, silent_since: datetime) -> list[tuple[Transaction, datetime]]:
        found = []
        for t in sorted(self._transactions.values(), key=lambda t: t.id):
            charger = self._chargers.get(t.charger_id)
            if charger is None or not t.active:
                continue
            heard = [at for at in (charger.last_seen, charger.offline_since) if at is not None]
            if heard and max(heard) < silent_since:
                found.append((replace(t), max(heard)))
        return found

    async def active_transactions(self, charger_id: str) -> list[Transaction]:
        """Oldest (lowest id) first."""
        return [
            replace(t)
            for t in sorted(self._transactions.values(), key=lambda t: t.id)
            if t.charger_id == charger_id and t.active
        ]

    async def accept_event(self, transaction_id: int, seq_no: int, *, meter_values: Sequence[MeterValue] = ()) -> bool:
        """Also raise ``KeyError`` for an unknown transaction."""
        transaction = self._transactions.get(transaction_id)
        if transaction is None:
            raise KeyError(transaction_id)
        if (transaction_id, seq_no) in self._events:
            return False
        self._events.add((transaction_id, seq_no))
        if transaction.last_seq_no is None or transaction.last_seq_no < seq_no:
            transaction.last_seq_no = seq_no
        if meter_values:
            await self.add_meter_values(meter_values)
        return True

    async def has_event(self, transaction_id: int, seq_no: int) -> bool:
        return (transaction_id, seq_no) in self._events

    async def add_meter_values(self, values: Sequence[MeterValue]) -> None:
        """Store the batch, then raise each transaction's register to its highest total reading."""
        stored = [(next(self._value_ids), _stored(v)) for v in values]
        self._values.extend(stored)
        for _, v in stored:
            transaction = self._transactions.get(v.transaction_id) if v.transaction_id is not None else None
            register = v.register_wh()
            if transaction is None or register is None:
                continue
            if transaction.last_meter_wh is None or transaction.last_meter_wh < register:
                transaction.last_meter_wh = register

    async def meter_values(self, transaction_id: int) -> list[MeterValue]:
        found = [(v.timestamp, key, v) for key, v in self._values if v.transaction_id == transaction_id]
        return [v for _, _, v in sorted(found, key=lambda item: item[:2])]

    # --- tokens ---------------------------------------------------------------------------------------------

    async def get_token(self, id_tag: str) -> IdToken | None:
        return self._tokens.get(id_tag)

    async def put_token(self, token: IdToken) -> None:
        """Create or replace the token."""
        expires_at = None if token.expires_at is None else _utc(token.expires_at)
        self._tokens[token.id_tag] = replace(token, expires_at=expires_at)

    async def list_tokens(self) -> list[IdToken]:
        return [self._tokens[key] for key in sorted(self._tokens)]

    async def page_tokens(self, *, limit: int, after: str | None = None) -> Page[IdToken, str]:
        tags = sorted(self._tokens)
        page = [tag for tag in tags if after is None or tag > after][: limit + 1]
        items = [self._tokens[tag] for tag in page[:limit]]
        return Page(items=items, total=len(tags), next_key=items[-1].id_tag if len(page) > limit else None)

    async def set_token_status(self, id_tag: str, status: TokenStatus) -> None:
        if id_tag not in self._tokens:
            raise KeyError(id_tag)
        self._tokens[id_tag] = replace(self._tokens[id_tag], status=status)


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError(f"naive datetime {at!r}: pass a timezone-aware UTC datetime")
    return at.astimezone(UTC)


def _stored(value: MeterValue) -> MeterValue:
    """As a database gives it back: the time in UTC, numbers as floats."""
    sampled = tuple(msgspec.structs.replace(v, value=float(v.value)) for v in value.sampled)
    return msgspec.structs.replace(value, timestamp=_utc(value.timestamp), sampled=sampled)


def _float(value: float | None) -> float | None:
    return None if value is None else float(value)


if TYPE_CHECKING:  # mypy proves here that MemoryStore implements the whole port
    _implements: type[Store] = MemoryStore
