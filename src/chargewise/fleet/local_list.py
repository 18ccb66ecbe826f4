"""Local authorization lists as plans: what a charger's list should hold (from the id-token store) and the
SendLocalList messages that take it there from what it holds.

Rules:

1. The list is every token in the store, with its status at ``now`` (Blocked and Expired ones too, so an
   offline charger refuses them), its expiry and parent. Bounded by the charger's maximum length, Accepted
   tokens go first, then the rest, each group in code-point order; what does not fit is ``left_out``. Tags
   longer than the version allows (1.6 idTag 20, 2.0.1 idToken 36 characters) cannot be listed: left out too.
2. A charger whose list we do not know, or whose version differs from the one we last sent, gets the whole
   list: a Full update. Otherwise only what changed (added or changed entries, and deletions: an entry without
   info), as Differential updates; none at all if nothing changed. A diff longer than the list is sent Full.
3. At most ``per_message`` entries go in one message: a longer Full list is the first chunk as Full, the rest as
   Differential updates. Every message takes the next version number, above both the charger's and ours.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from chargewise.domain.model import IdToken, OcppVersion, TokenStatus

TAG_LENGTH = {OcppVersion.V16: 20, OcppVersion.V201: 36}


class UpdateType(enum.StrEnum):
    FULL = "Full"
    DIFFERENTIAL = "Differential"


@dataclass(frozen=True, kw_only=True, slots=True)
class Entry:
    """One token as the charger's list holds it."""

    status: str
    expires_at: datetime | None = None
    parent: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Limits:
    """What the charger said about its list (None: it did not say, no bound)."""

    max_length: int | None = None  # 1.6 LocalAuthListMaxLength
    per_message: int | None = None  # 1.6 SendLocalListMaxLength, 2.0.1 LocalAuthListCtrlr.ItemsPerMessage


@dataclass(frozen=True, kw_only=True, slots=True)
class Update:
    """One SendLocalList: ``items`` are (tag, entry), entry None deletes the tag (Differential only)."""

    kind: UpdateType
    version: int
    items: tuple[tuple[str, Entry | None], ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class Plan:
    updates: tuple[Update, ...]
    left_out: tuple[str, ...]  # tags that are not listed (over the maximum length, or too long for the version)

    @property
    def full(self) -> bool:
        return bool(self.updates) and self.updates[0].kind is UpdateType.FULL


def wanted(tokens: Sequence[IdToken], now: datetime, version: OcppVersion,
           limits: Limits) -> tuple[dict[str, Entry], tuple[str, ...]]:  # fmt: skip
    """Rule 1: the entries the charger should hold, and the tags left out."""
    fits = [t for t in tokens if len(t.id_tag) <= TAG_LENGTH[version]]
    too_long = [t.id_tag for t in tokens if len(t.id_tag) > TAG_LENGTH[version]]
    ranked = sorted(fits, key=lambda t: (t.status_at(now) is not TokenStatus.ACCEPTED, t.id_tag))
    bound = len(ranked) if limits.max_length is None else max(0, limits.max_length)
    kept = {t.id_tag: Entry(status=t.status_at(now).value, expires_at=t.expires_at, parent=t.parent_id_tag)
            for t in ranked[:bound]}  # fmt: skip
    return kept, tuple(sorted(too_long + [t.id_tag for t in ranked[bound:]]))


def plan(want: Mapping[str, Entry], held: Mapping[str, Entry] | None, held_version: int | None,
         charger_version: int, limits: Limits, left_out: tuple[str, ...] = ()) -> Plan:  # fmt: skip
    """Rules 2 and 3: the updates that take the charger from ``held`` (what we last sent it, as version
    ``held_version``; None: unknown) to ``want``; ``charger_version`` is what GetLocalListVersion answered."""
    version = max(charger_version, held_version or 0)
    items: list[tuple[str, Entry | None]]
    if held is None or held_version != charger_version:
        kind, items = UpdateType.FULL, sorted(want.items())
    else:
        items = [(tag, entry) for tag, entry in sorted(want.items()) if held.get(tag) != entry]
        items += [(tag, None) for tag in sorted(set(held) - set(want))]
        if not items:
            return Plan(updates=(), left_out=left_out)
        kind = UpdateType.FULL if len(items) > len(want) else UpdateType.DIFFERENTIAL
        if kind is UpdateType.FULL:
            items = sorted(want.items())
    size = limits.per_message if limits.per_message and limits.per_message > 0 else max(1, len(items))
    chunks = [items[i : i + size] for i in range(0, len(items), size)] or [[]]
    updates = tuple(
        Update(kind=kind if n == 0 else UpdateType.DIFFERENTIAL, version=version + n + 1, items=tuple(chunk))
        for n, chunk in enumerate(chunks)
    )
    return Plan(updates=updates, left_out=left_out)


def applied(held: Mapping[str, Entry] | None, update: Update) -> dict[str, Entry]:
    """What the charger holds after it accepted ``update``."""
    after: dict[str, Entry] = {} if update.kind is UpdateType.FULL or held is None else dict(held)
    for tag, entry in update.items:
        if entry is None:
            after.pop(tag, None)
        else:
            after[tag] = entry
    return after


def newly_refused(before: Mapping[str, Entry] | None, after: Mapping[str, Entry]) -> list[str]:
    """Tags Accepted in ``before`` that are no longer (blocked, expired, removed): a charger's authorization
    cache may still accept them (ClearCache)."""
    if before is None:
        return []
    return sorted(tag for tag, e in before.items() if e.status == "Accepted" and
                  (tag not in after or after[tag].status != "Accepted"))  # fmt: skip


class CachePolicy(enum.StrEnum):
    """What to do with a charger's authorization cache: clear it whenever a token stops being Accepted (the
    cache may still accept it while offline), or leave it to the charger."""

    CLEAR_ON_BLOCK = "clear-on-block"
    KEEP = "keep"


@dataclass(frozen=True, kw_only=True, slots=True)
class HeldList:
    """What a charger holds as far as we know: the last list version it accepted from us and its entries."""

    charger_id: str
    version: int | None = None  # None: nothing accepted yet (or forgotten: the next push is Full)
    entries: dict[str, Entry] | None = None
    cache_policy: CachePolicy = CachePolicy.CLEAR_ON_BLOCK
    updated_at: datetime | None = None
