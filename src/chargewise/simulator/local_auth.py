"""The charger's local authorization list, its authorization cache and its reservations: what it decides on its
own, offline or before asking the CSMS. Pure like the station that owns it (time is passed in).

Rules:

1. SendLocalList: a Full update replaces the list, a Differential one changes the entries it names (an entry
   without info is deleted) and must carry a version above the list's (else VersionMismatch). More entries than
   the per-message bound, or a list longer than the maximum length, fails and changes nothing. A disabled list
   answers NotSupported (and 1.6 GetLocalListVersion -1).
2. Offline (LocalAuthorizeOffline): a token on the list is accepted if its entry is Accepted and not expired;
   else one in the cache likewise; an unknown token only with AllowOfflineTxForUnknownId (2.0.1
   OfflineTxForUnknownIdEnabled). Without LocalAuthorizeOffline only unknown tokens may be allowed.
3. Every answer the CSMS gives to an Authorize is cached (AuthorizationCacheEnabled); ClearCache empties it.
4. A reservation holds its connector (0: every connector of the charger) until it expires, is cancelled, or
   its token starts a transaction there; another token is refused on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from chargewise.simulator.connector import Connector
from chargewise.simulator.settings import Settings


@dataclass(frozen=True, kw_only=True, slots=True)
class Listed:
    status: str
    expires: float | None = None  # simulated POSIX seconds
    parent: str | None = None

    def accepts(self, now: float) -> bool:
        return self.status == "Accepted" and (self.expires is None or self.expires > now)


@dataclass(frozen=True, kw_only=True, slots=True)
class Held:
    """A reservation as the charger keeps it."""

    id: int
    connector: int  # 0: any
    id_tag: str
    parent: str | None
    expires: float

    def admits(self, id_tag: str, parent: str | None) -> bool:
        return id_tag == self.id_tag or (self.parent is not None and parent == self.parent)


class LocalAuth:
    """One charger's list, cache and reservations (rules in the module docstring)."""

    __slots__ = ("cache", "entries", "reservations", "settings", "version")

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.version = 0
        self.entries: dict[str, Listed] = {}
        self.cache: dict[str, Listed] = {}
        self.reservations: dict[int, Held] = {}

    # ------------------------------------------------------------ the list (rule 1)
    @property
    def enabled(self) -> bool:
        return self.settings.flag("local_list_enabled")

    def update(self, kind: str, version: int, items: list[tuple[str, Listed | None]]) -> str:
        if not self.enabled:
            return "NotSupported"
        if len(items) > self.settings.int("local_list_per_message"):
            return "Failed"
        if kind == "Differential" and version <= self.version:
            return "VersionMismatch"
        entries = {} if kind == "Full" else dict(self.entries)
        for tag, entry in items:
            if entry is None:
                entries.pop(tag, None)
            else:
                entries[tag] = entry
        if len(entries) > self.settings.int("local_list_max"):
            return "Failed"
        self.entries, self.version = entries, version
        return "Accepted"

    # ------------------------------------------------------------ deciding (rules 2, 3)
    def offline(self, id_tag: str, now: float) -> tuple[bool, str]:
        """Whether ``id_tag`` is accepted while offline, and by what."""
        s = self.settings
        if s.flag("offline_authorize"):
            listed = self.entries.get(id_tag) if self.enabled else None
            if listed is not None:
                return listed.accepts(now), f"local list ({listed.status})"
            cached = self.cache.get(id_tag) if s.flag("cache_enabled") else None
            if cached is not None:
                return cached.accepts(now), f"authorization cache ({cached.status})"
        return s.flag("offline_unknown"), "unknown token (AllowOfflineTxForUnknownId)"

    def remember(self, id_tag: str, accepted: bool) -> None:
        if self.settings.flag("cache_enabled"):
            self.cache[id_tag] = Listed(status="Accepted" if accepted else "Invalid")

    def clear_cache(self) -> None:
        self.cache.clear()

    # ------------------------------------------------------------ reservations (rule 4)
    def reserve(self, held: Held) -> None:
        self.reservations[held.id] = held  # the same id again replaces it (1.6 and 2.0.1 alike)

    def cancel(self, reservation_id: int) -> bool:
        return self.reservations.pop(reservation_id, None) is not None

    def holding(self, connector: int, now: float) -> Held | None:
        """The reservation holding ``connector`` (its own, else one for any connector)."""
        live = [r for r in self.reservations.values() if r.expires > now]
        return next((r for r in live if r.connector == connector), None) or next(
            (r for r in live if r.connector == 0), None
        )

    def expired(self, now: float) -> list[Held]:
        """Remove and return the reservations past their expiry."""
        gone = [r for r in self.reservations.values() if r.expires <= now]
        for r in gone:
            del self.reservations[r.id]
        return gone

    def next_expiry(self) -> float | None:
        return min((r.expires for r in self.reservations.values()), default=None)


def reservable(connectors: Sequence[Connector], *, any_one: bool) -> str:
    """ReserveNow's answer for ``connectors``: Accepted if the one given (or, ``any_one``, some one) is free,
    else why not (Occupied, Faulted, Unavailable)."""
    states = ["Faulted" if c.fault else "Unavailable" if c.inoperative else "Occupied" if c.ev or c.tx else
              "Accepted" for c in connectors]  # fmt: skip
    if ("Accepted" in states) if any_one else states == ["Accepted"]:
        return "Accepted"
    return next((s for s in ("Occupied", "Faulted", "Unavailable") if s in states), "Rejected")
