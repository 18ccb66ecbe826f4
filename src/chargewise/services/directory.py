"""The live directory of chargers the WebSocket handshake consults.

The handshake cannot wait for the database (the transport's upgrade hook is synchronous), so the server keeps
every known charger's admission data in memory: loaded at start-up, updated by the server's own writes, and
reloaded when another process (the CLI) changes chargers in the store.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from chargewise.domain.model import Charger, Registration
from chargewise.services.passwords import verify_password


@dataclass(frozen=True, kw_only=True, slots=True)
class Entry:
    charger_id: str
    registration: Registration
    password_hash: str | None = None
    quirks: frozenset[str] = frozenset()


class Directory:
    def __init__(self) -> None:
        self._entries: dict[str, Entry] = {}
        self._verified: dict[str, bytes] = {}  # charger id -> sha256 of the last password that passed scrypt
        self._pending = 0  # entries with registration Pending (the newcomer bound asks on every handshake)

    def load(self, chargers: list[Charger]) -> None:
        """Replace the whole directory (start-up, or after another process changed chargers)."""
        self._entries = {c.id: entry_for(c) for c in chargers}
        self._verified.clear()
        self._pending = sum(e.registration is Registration.PENDING for e in self._entries.values())

    def get(self, charger_id: str) -> Entry | None:
        return self._entries.get(charger_id)

    def put(self, entry: Entry) -> None:
        old = self._entries.get(entry.charger_id)
        if old is not None and old.password_hash != entry.password_hash:
            self._verified.pop(entry.charger_id, None)
        self._entries[entry.charger_id] = entry
        self._pending += _pending(entry) - _pending(old)

    def remove(self, charger_id: str) -> None:
        self._pending -= _pending(self._entries.pop(charger_id, None))
        self._verified.pop(charger_id, None)

    def pending_count(self) -> int:
        """How many known chargers are Pending (waiting for an operator's approval)."""
        return self._pending

    def __len__(self) -> int:
        return len(self._entries)

    def check_password(self, entry: Entry, password: str | None) -> bool:
        """True if ``password`` opens ``entry``. scrypt runs once per charger and password; reconnects (a
        storm after an outage) compare a cached SHA-256 instead of paying ~40 ms of scrypt each."""
        if entry.password_hash is None:
            return True
        if password is None:
            return False
        quick = hashlib.sha256(password.encode()).digest()
        cached = self._verified.get(entry.charger_id)
        if cached is not None:
            return hmac.compare_digest(cached, quick)
        if verify_password(password, entry.password_hash):
            self._verified[entry.charger_id] = quick
            return True
        return False


def _pending(entry: Entry | None) -> int:
    return int(entry is not None and entry.registration is Registration.PENDING)


def entry_for(charger: Charger) -> Entry:
    return Entry(
        charger_id=charger.id,
        registration=charger.registration,
        password_hash=charger.password_hash,
        quirks=frozenset(charger.quirks),
    )
