"""The live directory of chargers the WebSocket handshake consults.

The handshake cannot wait for the database (the transport's upgrade hook is synchronous), so the server keeps
every known charger's admission data in memory: loaded at start-up, updated by the server's own writes, and
reloaded when another process (the CLI) changes chargers in the store.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial

from chargewise.domain.model import Charger, Registration
from chargewise.services.passwords import verify_password


@dataclass(frozen=True, kw_only=True, slots=True)
class Entry:
    charger_id: str
    registration: Registration
    password_hash: str | None = None
    quirks: frozenset[str] = frozenset()
    security_profile: int | None = None  # see domain.model.Charger.security_profile
    previous_password_hash: str | None = None  # also admits, during a password rotation (services.credentials)
    pending_security_profile: int | None = None  # being raised to: a connection meeting it completes the raise


#: told when a charger connects during a credential change (``services.credentials``): ``(charger id, what)``,
#: ``what`` "password" (it used the password in force), "previous password" (the other one), or "profile N" (it met
#: the profile it is raised to)
CredentialsSeen = Callable[[str, str], None]


Offload = Callable[[Callable[[], bool]], Awaitable[bool]]  # runs a CPU-bound check off the event loop


class Directory:
    def __init__(self) -> None:
        self._entries: dict[str, Entry] = {}
        self._pending = 0  # entries with registration Pending (the newcomer bound asks on every handshake)
        # charger id -> (the password hash it was checked against, sha256 of the password that passed scrypt)
        self._verified: dict[str, tuple[str, bytes]] = {}
        self._changes = 0  # puts and removes so far
        self._changed_at: dict[str, int] = {}  # charger id -> self._changes at its last put or remove
        self._verified_previous: dict[str, tuple[str, bytes]] = {}  # the same for the previous password
        self.credentials_seen: CredentialsSeen | None = None  # ``bootstrap`` sets it (services.credentials)

    def reloading(self) -> int:
        """Call just before reading the chargers for a reload, and pass the number to :meth:`load`."""
        return self._changes

    def load(self, chargers: list[Charger], *, since: int | None = None) -> None:
        """Replace the whole directory (start-up, or after another process changed chargers). With ``since``
        (from :meth:`reloading`), chargers put or removed here while ``chargers`` was being read keep their
        newer state: a stale read never brings back an old password or hides a charger just added. Passwords
        that passed scrypt stay cached while the charger's password hash is unchanged, so a reload costs no
        scrypt."""
        entries = {c.id: entry_for(c) for c in chargers}
        for cid, change in self._changed_at.items():
            if since is not None and change > since:
                kept = self._entries.get(cid)
                if kept is None:
                    entries.pop(cid, None)
                else:
                    entries[cid] = kept
        self._changed_at = {cid: n for cid, n in self._changed_at.items() if since is not None and n > since}
        self._entries = entries
        self._verified = {
            cid: cached
            for cid, cached in self._verified.items()
            if (entry := self._entries.get(cid)) is not None and entry.password_hash == cached[0]
        }
        self._verified_previous = {
            cid: cached
            for cid, cached in self._verified_previous.items()
            if (entry := self._entries.get(cid)) is not None and entry.previous_password_hash == cached[0]
        }
        self._pending = sum(e.registration is Registration.PENDING for e in self._entries.values())

    def get(self, charger_id: str) -> Entry | None:
        return self._entries.get(charger_id)

    def put(self, entry: Entry) -> None:
        cached = self._verified.get(entry.charger_id)
        if cached is not None and cached[0] != entry.password_hash:
            del self._verified[entry.charger_id]
        cached = self._verified_previous.get(entry.charger_id)
        if cached is not None and cached[0] != entry.previous_password_hash:
            del self._verified_previous[entry.charger_id]
        old = self._entries.get(entry.charger_id)
        self._entries[entry.charger_id] = entry
        self._pending += _pending(entry) - _pending(old)
        self._changed(entry.charger_id)

    def remove(self, charger_id: str) -> None:
        self._pending -= _pending(self._entries.pop(charger_id, None))
        self._verified.pop(charger_id, None)
        self._verified_previous.pop(charger_id, None)
        self._changed(charger_id)

    def _changed(self, charger_id: str) -> None:
        self._changes += 1
        self._changed_at[charger_id] = self._changes

    def pending_count(self) -> int:
        """How many known chargers are Pending (waiting for an operator's approval)."""
        return self._pending

    def __len__(self) -> int:
        return len(self._entries)

    def known_password(self, entry: Entry, password: str | None) -> bool | None:
        """Whether ``password`` opens ``entry`` when that is known without scrypt: True (no password needed, or
        the password that last passed), False (none given, or another one than the password that passed),
        None (unknown: ``await verify(...)`` runs scrypt). Costs one SHA-256 at most."""
        if entry.password_hash is None:
            return True
        if password is None:
            return False
        current = _known(self._verified.get(entry.charger_id), entry.password_hash, password)
        if current or entry.previous_password_hash is None:
            return current
        previous = _known(self._verified_previous.get(entry.charger_id), entry.previous_password_hash, password)
        if previous:
            return True
        return None if current is None or previous is None else False

    def uses_current(self, entry: Entry, password: str | None) -> bool:
        """Whether ``password`` is the one in force (not the previous one), as far as checks so far show."""
        return password is not None and _known(self._verified.get(entry.charger_id), entry.password_hash or "",
                                               password) is True  # fmt: skip

    def seen(self, charger_id: str, what: str) -> None:
        """The gatekeeper admitted ``charger_id`` in a way that moves a credential change on (see
        :data:`CredentialsSeen`)."""
        if self.credentials_seen is not None:
            self.credentials_seen(charger_id, what)

    async def verify(self, entry: Entry, password: str | None, offload: Offload) -> bool:
        """True if ``password`` opens ``entry``. scrypt (~40 ms of CPU) runs through ``offload``, once per
        charger and password; reconnects (a storm after an outage) compare a cached SHA-256 instead."""
        known = self.known_password(entry, password)
        if known is not None:
            return known
        assert password is not None and entry.password_hash is not None
        stored = entry.password_hash
        if await offload(partial(verify_password, password, stored)):
            self._verified[entry.charger_id] = (stored, _digest(password))
            return True
        previous = entry.previous_password_hash  # during a rotation: the other password (a second scrypt)
        if previous is None or not await offload(partial(verify_password, password, previous)):
            return False
        self._verified_previous[entry.charger_id] = (previous, _digest(password))
        return True


def _known(cached: tuple[str, bytes] | None, stored: str, password: str) -> bool | None:
    """Whether ``password`` is the one cached for ``stored``; None when nothing is cached for that hash."""
    if cached is None or cached[0] != stored:
        return None
    return hmac.compare_digest(cached[1], _digest(password))


def _digest(password: str) -> bytes:
    return hashlib.sha256(password.encode()).digest()


def _pending(entry: Entry | None) -> int:
    return int(entry is not None and entry.registration is Registration.PENDING)


def entry_for(charger: Charger) -> Entry:
    return Entry(
        charger_id=charger.id,
        registration=charger.registration,
        password_hash=charger.password_hash,
        quirks=frozenset(charger.quirks),
        security_profile=charger.security_profile,
        previous_password_hash=charger.previous_password_hash,
        pending_security_profile=charger.pending_security_profile,
    )
