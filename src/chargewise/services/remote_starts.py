"""Remote starts the server sent, waiting for the transaction they cause. Pure: time is passed in.

A RequestStartTransaction (2.0.1) or RemoteStartTransaction (1.6) that the charger accepted is remembered
until the transaction it causes is reported, so that the transaction gets the remote start's id token (also
when the Started event carries none) and its remoteStartId. Memory only, bounded: the wait lasts at most the
charger's EV-connection timeout plus a minute, so a restart in between loses only the link (the transaction
itself is recorded as the charger reports it, as it would be without a remote start); a table for it would
cost a write per command for data that is stale within minutes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

#: a remote start waits this much longer than the charger's EV-connection timeout for its transaction
GRACE = timedelta(seconds=60)


@dataclass(frozen=True, kw_only=True, slots=True)
class RemoteStart:
    """A remote start the charger accepted. ``evse_id`` None: the charger picks the EVSE; ``remote_id``: the
    2.0.1 transactionId the charger answered with (a transaction it had begun already, say authorized)."""

    id_tag: str
    sent_at: datetime
    remote_start_id: int | None = None
    evse_id: int | None = None
    remote_id: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class StartReport:
    """What the charger says of a transaction that began: the facts a remote start is matched on."""

    evse_id: int | None
    id_tag: str | None
    remote_start_id: int | None = None
    remote_id: str | None = None
    remote_trigger: bool = False  # 2.0.1 triggerReason RemoteStart


class RemoteStarts:
    """Pending remote starts per charger: at most ``per_charger`` each (the oldest go), ``max_chargers`` in all."""

    def __init__(self, *, per_charger: int = 8, max_chargers: int = 100_000) -> None:
        self._per_charger = per_charger
        self._max_chargers = max_chargers
        self._pending: dict[str, list[RemoteStart]] = {}

    def sent(self, charger_id: str, start: RemoteStart) -> None:
        """Remember a remote start the charger accepted."""
        waiting = self._pending.pop(charger_id, [])
        if len(self._pending) >= self._max_chargers:
            del self._pending[next(iter(self._pending))]
        self._pending[charger_id] = [*waiting, start][-self._per_charger :]

    def claim(self, charger_id: str, report: StartReport, *, since: datetime) -> RemoteStart | None:
        """The remote start (sent at ``since`` or later) that caused the reported transaction, forgotten once
        claimed; None if none did. Matched on the remoteStartId, then the transactionId the charger answered
        with, then (for a start without its own token, or with the remote start's) the EVSE."""
        waiting = [s for s in self._pending.pop(charger_id, []) if s.sent_at >= since]
        found = _match(waiting, report)
        if found is not None:
            waiting.remove(found)
        if waiting:
            self._pending[charger_id] = waiting
        return found

    def __len__(self) -> int:
        return sum(len(waiting) for waiting in self._pending.values())


def _match(waiting: list[RemoteStart], report: StartReport) -> RemoteStart | None:
    if report.remote_start_id is not None:
        by_id = [s for s in waiting if s.remote_start_id == report.remote_start_id]
        if by_id:
            return by_id[0]
    if report.remote_id is not None:
        by_tx = [s for s in waiting if s.remote_id is not None and s.remote_id == report.remote_id]
        if by_tx:
            return by_tx[0]
    for start in waiting:  # oldest first
        same_token = not report.id_tag or report.id_tag == start.id_tag
        same_evse = start.evse_id is None or report.evse_id is None or start.evse_id == report.evse_id
        if same_evse and (same_token or report.remote_trigger):
            return start
    return None
