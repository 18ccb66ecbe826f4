"""When each charger was last heard from before its current connection: the time a transaction it lost (in a
reboot, a power cut) is stopped at when it reconnects and reports the connector free, rather than the
reconnect time. Pure: times are passed in; memory only, one entry per charger (bounded).

After a server restart the store's ``last_seen`` stands in (:meth:`Presence.recall`, at start-up): it is
written at most once a minute, so such a stop may lie up to a minute before the charger's last message.
"""

from __future__ import annotations

from datetime import datetime


class Presence:
    def __init__(self, *, max_chargers: int = 200_000) -> None:
        self._max = max_chargers
        self._heard: dict[str, datetime] = {}
        self._connections: dict[str, tuple[datetime, datetime | None]] = {}  # connected at, heard before it

    def heard(self, charger_id: str, at: datetime) -> None:
        """The charger spoke at ``at`` (every message)."""
        if charger_id not in self._heard and len(self._heard) >= self._max:
            self._heard.clear()  # rare: a fleet larger than the bound; only stop times fall back to now
        self._heard[charger_id] = at

    def recall(self, charger_id: str, at: datetime) -> None:
        """What the store says of a charger's last message before this process started (its ``last_seen``);
        anything heard here since counts over it."""
        if charger_id not in self._heard and len(self._heard) < self._max:
            self._heard[charger_id] = at

    def connected(self, charger_id: str, at: datetime) -> None:
        """A new connection of the charger began at ``at``."""
        if charger_id not in self._connections and len(self._connections) >= self._max:
            self._connections.clear()
        self._connections[charger_id] = (at, self._heard.get(charger_id))
        self._heard[charger_id] = at

    def stop_time(self, charger_id: str, started_at: datetime, now: datetime) -> datetime:
        """When to stop a transaction of the charger that began at ``started_at`` and that it lost: for one
        begun before the current connection, when the charger was last heard from before it (never before the
        start); otherwise, or when that is unknown, ``now``."""
        connection = self._connections.get(charger_id)
        if connection is None:
            return now
        connected_at, heard_before = connection
        if heard_before is None or started_at >= connected_at:
            return now
        return min(now, max(started_at, heard_before))
