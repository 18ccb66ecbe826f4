"""Ports: the small role interfaces that services call and adapters implement.

Each port has a SQL implementation in ``chargewise.adapters.sql`` and an in-memory fake in
``chargewise.adapters.memory`` with the same behaviour (the store tests run one suite against all of them).
Every method that writes returns only after the write is durable (committed).
"""

from __future__ import annotations

from collections.abc import Collection, Container, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, Protocol, TypeVar

from chargewise.domain.model import (
    BootInfo,
    Charger,
    ConnectorStatus,
    Credentials,
    IdToken,
    MeterValue,
    OcppVersion,
    Registration,
    TokenStatus,
    Transaction,
)

T = TypeVar("T")
K = TypeVar("K", str, int)


@dataclass(frozen=True, kw_only=True, slots=True)
class Page(Generic[T, K]):
    """One page of a listing. ``items`` in the listing's order; ``total``: how many match the filters in all;
    ``next_key``: pass it back (``after`` / ``before``) for the next page, None on the last page."""

    items: list[T]
    total: int
    next_key: K | None


class StoreBusy(Exception):
    """The store could not take the operation in time (every database connection was busy for the store's
    queue wait, as in a reconnect storm of thousands of chargers). Nothing was written: answer "busy, retry
    later" (OCPP GenericError, HTTP 503); it is not a bug."""


class Clock(Protocol):
    def now(self) -> datetime:
        """Current time, timezone-aware UTC."""
        ...


@dataclass(frozen=True, kw_only=True, slots=True)
class NewTransaction:
    """What a charger reported when a transaction began.

    ``dedupe_key`` identifies the charger's message so that a retried StartTransaction (1.6) or a repeated
    TransactionEvent Started (2.0.1) maps to the same transaction: 1.6 uses
    ``"{connector}|{idTag}|{meterStart}|{timestamp}"``, 2.0.1 the charger's transactionId.
    """

    charger_id: str
    evse_id: int
    connector_id: int
    id_tag: str | None
    started_at: datetime
    meter_start_wh: float | None
    dedupe_key: str
    remote_id: str | None = None
    reservation_id: int | None = None  # the reservation the charger says it used (1.6 and 2.0.1 reservationId)


@dataclass(frozen=True, kw_only=True, slots=True)
class TransactionFacts:
    """What a message after the start tells about a transaction. Each field only fills in what is not known yet
    (``None`` / ``False``: nothing to add): a fact already stored is never overwritten, so replaying a message
    changes nothing."""

    evse_id: int | None = None  # stored, with connector_id, if the transaction's EVSE is 0 (not given at start)
    connector_id: int | None = None
    meter_start_wh: float | None = None  # stored if the start reading is unknown: the first register reading
    id_tag: str | None = None
    remote_start_id: int | None = None
    ev_connected: bool = False  # the cable was seen: set, never cleared


@dataclass(frozen=True, kw_only=True, slots=True)
class ConnectionChange:
    """A charger connected or went offline. ``register_as``: it is new (unknown-charger policy accept or
    pending): add it with that registration if it is not stored yet (without bumping the directory
    revision: the server that admitted it knows it already)."""

    charger_id: str
    connected: bool
    at: datetime
    register_as: Registration | None = None


class ChargerStore(Protocol):
    async def get_charger(self, charger_id: str) -> Charger | None: ...

    async def list_chargers(self) -> list[Charger]: ...

    async def page_chargers(self, *, limit: int, after: str | None = None) -> Page[Charger, str]:
        """Up to ``limit`` chargers with ids after ``after``, in code-point order of their ids."""
        ...

    async def add_charger(
        self,
        charger_id: str,
        *,
        registration: Registration,
        password_hash: str | None = None,
        security_profile: int | None = None,
    ) -> Charger:
        """Create a charger; raise ``KeyError`` if it exists already. ``security_profile`` (1-3): the one
        the charger must connect with (see ``Charger.security_profile``)."""
        ...

    async def set_registration(self, charger_id: str, registration: Registration) -> None:
        """Raise ``KeyError`` for an unknown charger."""
        ...

    async def set_password_hash(self, charger_id: str, password_hash: str | None) -> None: ...

    async def set_credentials(self, charger_id: str, credentials: Credentials) -> None:
        """Replace the password hashes and security profiles at once (a rotation or a profile raise); raise
        ``KeyError`` for an unknown charger."""
        ...

    async def remove_charger(self, charger_id: str) -> None: ...

    async def set_quirks(self, charger_id: str, quirks: tuple[str, ...]) -> None:
        """Raise ``KeyError`` for an unknown charger."""
        ...

    async def directory_revision(self) -> int:
        """A number that changes whenever a charger is added or removed or its registration, password or
        quirks change: a running server polls it to notice changes made by another process."""
        ...

    async def record_boot(self, charger_id: str, version: OcppVersion, boot: BootInfo, at: datetime) -> None: ...

    async def record_connection(self, charger_id: str, *, connected: bool, at: datetime) -> None:
        """Connected: clears ``offline_since``. Disconnected: sets it to ``at``."""
        ...

    async def record_connections(self, changes: Sequence[ConnectionChange]) -> None:
        """:meth:`record_connection` for many chargers in one database transaction, in order; unknown charger
        ids are skipped (removed while connected)."""
        ...

    async def touch(self, charger_id: str, at: datetime) -> None:
        """Update ``last_seen``. May be coalesced (written at most every few seconds)."""
        ...

    async def clear_silent_links(self, silent_since: datetime, *, spare: Container[str] = ()) -> list[str]:
        """Chargers still flagged connected but last heard from before ``silent_since`` (a server killed with
        their links open left the flag set, and they never came back): flag them offline, as of when they were
        last heard from, and return their ids. Chargers in ``spare`` (a live link in this process) are left
        as they are, and so is one that spoke again meanwhile."""
        ...

    async def set_connector_status(
        self,
        charger_id: str,
        evse_id: int,
        connector_id: int,
        status: ConnectorStatus,
        error_code: str | None,
        at: datetime,
    ) -> None:
        """Ignore a status older than the stored one (offline-queued notifications arrive late)."""
        ...


class TransactionStore(Protocol):
    async def start_transaction(self, new: NewTransaction) -> tuple[Transaction, bool]:
        """Return ``(transaction, created)``; the same ``dedupe_key`` returns the existing one."""
        ...

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
        """Close it, storing ``meter_values`` (those the stop carried) in the same database transaction.
        Idempotent: a second stop returns the already-closed transaction unchanged and stores none of its
        meter values, which the first one stored. One exception: the charger's own stop replaces a
        ``provisional`` one (a reaper's), with its time, register reading, reason and meter values."""
        ...

    async def amend_transaction(self, transaction_id: int, facts: TransactionFacts) -> Transaction | None:
        """Fill in what ``facts`` add (see :class:`TransactionFacts`) and return the transaction; None if
        there is no such transaction."""
        ...

    async def get_transaction(self, transaction_id: int) -> Transaction | None: ...

    async def find_by_remote_id(self, charger_id: str, remote_id: str) -> Transaction | None: ...

    async def list_transactions(
        self, *, charger_id: str | None = None, active: bool | None = None, limit: int = 500
    ) -> list[Transaction]: ...

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
        """Up to ``limit`` transactions with ids below ``before``, newest (highest id) first; ``total`` counts
        every transaction that matches the filters: ``charger_id``, ``active``, ``chargers`` (one of them), ``id_tag``,
        and a start at or after ``started_from`` and before ``started_before``."""
        ...

    async def active_transactions(self, charger_id: str) -> list[Transaction]: ...

    async def open_while_silent(self, silent_since: datetime) -> list[tuple[Transaction, datetime]]:
        """The open transactions of chargers last heard from before ``silent_since`` (the later of their
        last_seen and offline_since), each with that time; oldest (lowest id) first. The connected flag is
        not asked: after a killed server it still says connected for chargers that never came back."""
        ...

    async def accept_event(self, transaction_id: int, seq_no: int, *, meter_values: Sequence[MeterValue] = ()) -> bool:
        """Record a 2.0.1 TransactionEvent seqNo; False if it was seen already (a duplicate). ``meter_values``
        (those the event carried) are stored with it, in one database transaction, and only if it is new: the
        event and its samples are stored together or not at all, and a retried event stores none again."""
        ...

    async def has_event(self, transaction_id: int, seq_no: int) -> bool:
        """True if :meth:`accept_event` recorded this seqNo already."""
        ...

    async def add_meter_values(self, values: Sequence[MeterValue]) -> None:
        """Store meter values and raise each transaction's last register value to its highest total reading."""
        ...

    async def meter_values(self, transaction_id: int) -> list[MeterValue]:
        """The transaction's meter values in timestamp order (ties: the order they were stored in)."""
        ...


class TokenStore(Protocol):
    async def get_token(self, id_tag: str) -> IdToken | None: ...

    async def put_token(self, token: IdToken) -> None: ...

    async def list_tokens(self) -> list[IdToken]: ...

    async def page_tokens(self, *, limit: int, after: str | None = None) -> Page[IdToken, str]:
        """Up to ``limit`` tokens with id tags after ``after``, in code-point order."""
        ...

    async def set_token_status(self, id_tag: str, status: TokenStatus) -> None:
        """Raise ``KeyError`` for an unknown token."""
        ...


class Store(ChargerStore, TransactionStore, TokenStore, Protocol):
    """Everything the central system persists; one object per database."""

    async def close(self) -> None: ...
