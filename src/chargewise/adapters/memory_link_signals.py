"""``MemoryLinkSignalStore``: the ``LinkSignalStore`` port in a list, for unit tests and demos. Nothing
survives. It behaves like ``chargewise.adapters.sql.link_signals.SqlLinkSignalStore`` (one contract suite runs
against both)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from chargewise.services.link_signals import LinkSignalStore
from chargewise.services.signal_batches import SignalRow


class MemoryLinkSignalStore:
    """A fresh, empty store."""

    def __init__(self) -> None:
        self._rows: list[SignalRow] = []  # in insertion order, as the SQL ids

    async def append(self, rows: Sequence[SignalRow]) -> None:
        self._rows.extend(rows)

    async def rows(self, charger_id: str, since: datetime) -> list[SignalRow]:
        return [r for r in self._rows if r.charger_id == charger_id and r.last_at >= since]

    async def first_at(self, charger_id: str) -> datetime | None:
        return min((r.first_at for r in self._rows if r.charger_id == charger_id), default=None)

    async def prune(self, before: datetime, keep: int) -> int:
        kept: list[SignalRow] = []
        counts: dict[str, int] = {}
        for row in reversed(self._rows):  # newest first
            if row.last_at >= before and counts.get(row.charger_id, 0) < keep:
                counts[row.charger_id] = counts.get(row.charger_id, 0) + 1
                kept.append(row)
        gone = len(self._rows) - len(kept)
        self._rows = kept[::-1]
        return gone


if TYPE_CHECKING:  # mypy proves here that MemoryLinkSignalStore implements the whole port
    _implements: type[LinkSignalStore] = MemoryLinkSignalStore
