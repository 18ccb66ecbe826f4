"""Charger administration: the one implementation behind the REST API and the ``chargewise chargers`` commands.

An operator adds, removes, approves, puts back to Pending or rejects a charger, sets or clears its password and
its quirks, and lists chargers a page at a time. Every refusal is an ``AdminError`` (``admin_errors``).

What follows a change, in the process that made it (``directory`` and ``links`` given: the server): the
directory the handshake consults is updated at once, and a connected charger removed, or put back to Pending or
Rejected, has its link closed. Its next connection is admitted by the new entry, its messages other than
BootNotification are refused while it is not Accepted, and its next BootNotification learns the registration.
The CLI passes neither: a running server notices the store's directory revision within two seconds and does the
same (:meth:`Admin.reload`, called by ``bootstrap``). A new password or new quirks apply from the charger's
next connection; the live link, authenticated with the old password, is left open.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from chargewise.domain.ids import charger_id_problem
from chargewise.domain.model import BootInfo, Charger, ConnectorStatus, OcppVersion, Registration
from chargewise.domain.ports import ChargerStore
from chargewise.ocpp.leniency import UnknownQuirkError, check_quirks
from chargewise.services.admin_errors import AlreadyExists, InvalidRequest, NotFound, storable
from chargewise.services.connections import Link
from chargewise.services.directory import Directory, entry_for
from chargewise.services.paging import Listing, check_limit, make_cursor, read_cursor
from chargewise.services.passwords import check_new_password, hash_password

#: A connector's status while its charger has no live link: the last reported one is kept beside it.
OFFLINE = "Offline"
LIST_FIX = "list the chargers to see their ids"


class LiveLinks(Protocol):
    """The live connections of this process (``connections.Registry``)."""

    def get(self, charger_id: str) -> Link | None: ...


@dataclass(frozen=True, kw_only=True, slots=True)
class ConnectorReading:
    """``status`` is :data:`OFFLINE` while the charger is disconnected; ``last_status`` is what it last reported."""

    evse_id: int
    connector_id: int
    status: str
    last_status: ConnectorStatus
    error_code: str | None
    updated_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class ChargerOverview:
    """A charger as an operator sees it: the stored record, with what its live link (if any) adds."""

    id: str
    registration: Registration
    ocpp_version: OcppVersion | None
    boot: BootInfo | None
    connected: bool
    last_seen: datetime | None
    offline_since: datetime | None
    quirks: tuple[str, ...]
    password_set: bool
    connectors: tuple[ConnectorReading, ...]
    security_profile: int | None = None  # 1-3, or None: admitted by password alone when it has one
    quirk_counts: dict[str, int] = field(default_factory=dict)


def overview(charger: Charger, link: Link | None, *, live: bool) -> ChargerOverview:
    """``live``: ``link`` is authoritative (this process serves the chargers); else the stored flags are."""
    connected = link is not None if live else charger.connected
    readings = tuple(
        ConnectorReading(evse_id=s.evse_id, connector_id=s.connector_id, status=s.status if connected else OFFLINE,
                         last_status=s.status, error_code=s.error_code, updated_at=s.updated_at)
        for s in charger.connectors
    )  # fmt: skip
    return ChargerOverview(
        id=charger.id, registration=charger.registration, ocpp_version=charger.ocpp_version, boot=charger.boot,
        connected=connected, last_seen=link.last_seen if link is not None else charger.last_seen,
        offline_since=None if connected else charger.offline_since, quirks=charger.quirks,
        password_set=charger.password_hash is not None, connectors=readings, security_profile=charger.security_profile,
        quirk_counts=dict(link.quirk_counts) if link is not None else {},
    )  # fmt: skip


def parse_registration(text: str) -> Registration:
    try:
        return Registration(text)
    except ValueError:
        valid = ", ".join(r.value for r in Registration)
        raise InvalidRequest(f"registration {text[:40]!r} is not one of {valid}", fix=f"give one of {valid}") from None


def parse_quirks(names: Sequence[str]) -> tuple[str, ...]:
    try:
        return check_quirks(list(names))
    except UnknownQuirkError as exc:
        raise InvalidRequest(str(exc), fix="name only quirks the README lists, or none") from None


async def new_password_hash(password: str) -> str:
    """Check a new charger password (16-40 characters) and hash it, off the event loop (scrypt: ~40 ms)."""
    try:
        check_new_password(password)
    except ValueError as exc:
        raise InvalidRequest(str(exc), fix="choose a password of 16 to 40 characters") from None
    return await asyncio.to_thread(hash_password, password)


class Admin:
    """Charger administration on ``store``. In the server pass ``directory`` and ``links`` (see the module)."""

    def __init__(
        self, *, store: ChargerStore, directory: Directory | None = None, links: LiveLinks | None = None
    ) -> None:
        self._store = store
        self._directory = directory
        self._links = links
        self._known: dict[str, Registration] | None = None  # registrations as of the last reload

    # ------------------------------------------------------------------ reading
    async def charger(self, charger_id: str) -> ChargerOverview:
        charger = await self._store.get_charger(charger_id) if storable(charger_id) else None
        if charger is None:
            raise NotFound(f"no charger {charger_id[:60]!r}", fix=LIST_FIX)
        return self._overview(charger)

    async def chargers(self, *, limit: int | None = None, cursor: str | None = None) -> Listing[ChargerOverview]:
        """One page, in code-point order of the ids; pass ``next_cursor`` back for the next."""
        size = check_limit(limit)
        page = await self._store.page_chargers(limit=size, after=read_cursor("chargers", cursor))
        items = [self._overview(c) for c in page.items]
        return Listing(items=items, total=page.total, limit=size, next_cursor=make_cursor("chargers", page.next_key))

    # ------------------------------------------------------------------ changing
    async def add(
        self,
        charger_id: str,
        *,
        registration: Registration = Registration.ACCEPTED,
        password: str | None = None,
        quirks: Sequence[str] = (),
        security_profile: int | None = None,
    ) -> ChargerOverview:
        """Add a charger: the id follows the handshake's rule (``domain.ids``), a password has 16-40 characters;
        security profiles 1 and 2 need a password, 3 a client certificate (none: admitted as before)."""
        problem = charger_id_problem(charger_id)
        if problem is not None:
            raise InvalidRequest(problem, fix="choose an id that follows this rule")
        if security_profile not in (None, 1, 2, 3):
            raise InvalidRequest(f"security profile {security_profile} does not exist", fix="use 1, 2 or 3")
        if security_profile in (1, 2) and password is None:
            raise InvalidRequest(f"security profile {security_profile} needs a password", fix="give a password")
        checked = parse_quirks(quirks)
        password_hash = await new_password_hash(password) if password is not None else None
        try:
            await self._store.add_charger(
                charger_id, registration=registration, password_hash=password_hash, security_profile=security_profile
            )
        except KeyError:
            raise AlreadyExists(f"charger {charger_id!r} exists already", fix="choose another id") from None
        if checked:
            await self._store.set_quirks(charger_id, checked)
        return await self._changed(charger_id)

    async def remove(self, charger_id: str) -> None:
        """Forget the charger (its transactions stay) and close its link."""
        await self.charger(charger_id)
        await self._store.remove_charger(charger_id)
        if self._directory is not None:
            self._directory.remove(charger_id)
        if self._known is not None:
            self._known.pop(charger_id, None)
        self._close(charger_id, "charger removed")

    async def set_registration(self, charger_id: str, registration: Registration) -> ChargerOverview:
        """Approve (Accepted), put back to Pending, or reject; a connected charger no longer Accepted is closed."""
        before = (await self.charger(charger_id)).registration
        await self._write(self._store.set_registration(charger_id, registration), charger_id)
        if registration is not Registration.ACCEPTED and registration is not before:
            self._close(charger_id, f"registration changed to {registration.value}: connect and boot again")
        return await self._changed(charger_id)

    async def set_password(self, charger_id: str, password: str | None) -> ChargerOverview:
        """Set (16-40 characters) or, with None, clear the HTTP Basic password; applies from the next connection."""
        await self.charger(charger_id)
        password_hash = await new_password_hash(password) if password is not None else None
        await self._write(self._store.set_password_hash(charger_id, password_hash), charger_id)
        return await self._changed(charger_id)

    async def set_quirks(self, charger_id: str, quirks: Sequence[str]) -> ChargerOverview:
        """Replace the charger's accepted deviations (``()``: strict); applies from its next connection."""
        checked = parse_quirks(quirks)
        await self.charger(charger_id)
        await self._write(self._store.set_quirks(charger_id, checked), charger_id)
        return await self._changed(charger_id)

    # ------------------------------------------------------------------ another process's changes
    async def reload(self, *, found: list[Charger] | None = None) -> list[str]:
        """Reload the directory from the store (start-up, or the CLI changed chargers) and close the links of
        chargers removed or no longer Accepted since the last reload; return their ids. ``found``: the chargers
        the caller has just read from the store (start-up, which needs them for more than this)."""
        since = self._directory.reloading() if self._directory is not None else None
        if found is None:
            found = await self._store.list_chargers()
        if self._directory is not None:  # changes made here while the store was read stay
            self._directory.load(found, since=since)
        now = {c.id: c.registration for c in found}
        closed = []
        for charger_id, was in (self._known or {}).items():
            registration = now.get(charger_id)
            if registration is None or (registration is not Registration.ACCEPTED and registration is not was):
                reason = "charger removed" if registration is None else f"registration changed to {registration}"
                if self._close(charger_id, reason):
                    closed.append(charger_id)
        self._known = now
        return closed

    # ------------------------------------------------------------------ helpers
    def _overview(self, charger: Charger) -> ChargerOverview:
        link = self._links.get(charger.id) if self._links is not None else None
        return overview(charger, link, live=self._links is not None)

    async def _write(self, write: Awaitable[None], charger_id: str) -> None:
        try:
            await write
        except KeyError:
            raise NotFound(f"no charger {charger_id[:60]!r}", fix=LIST_FIX) from None

    async def _changed(self, charger_id: str) -> ChargerOverview:
        """Bring the directory (and the reload's view) up to date with the stored charger."""
        charger = await self._store.get_charger(charger_id)
        if charger is None:  # removed meanwhile by another process
            raise NotFound(f"no charger {charger_id[:60]!r}", fix=LIST_FIX)
        if self._directory is not None:
            self._directory.put(entry_for(charger))
        if self._known is not None:
            self._known[charger_id] = charger.registration
        return self._overview(charger)

    def _close(self, charger_id: str, reason: str) -> bool:
        link = self._links.get(charger_id) if self._links is not None else None
        if link is None:
            return False
        link.close(reason)
        return True
