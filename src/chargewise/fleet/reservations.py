"""Reservations as rules: which reservation holds an EVSE at a time, whom it admits, and which one a starting
transaction uses.

Rules:

1. A reservation holds from the charger's Accepted answer until ``expires_at`` (or until it is cancelled,
   used, or the charger reports it Expired / Removed). Past its expiry it reads as Expired, whatever else.
2. A token matches a reservation if it is the reserving token, or its parent (group) is the reservation's.
3. At a start on an EVSE, a holding reservation of that EVSE, or of the whole charger (EVSE 0: 1.6 connector 0,
   2.0.1 no evseId), for another token refuses the token. At an Authorize (which names no EVSE) the token is
   refused when a reservation of the whole charger holds for another token, or one holds on every EVSE the
   charger has reported.
4. A start by a matching token uses the reservation: the one the charger names (1.6 and 2.0.1 carry a
   reservationId), else a holding one on that EVSE or the whole charger.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime


class ReservationStatus(enum.StrEnum):
    REQUESTED = "Requested"  # recorded, ReserveNow not answered yet
    ACCEPTED = "Accepted"
    FAULTED = "Faulted"
    OCCUPIED = "Occupied"
    REJECTED = "Rejected"
    UNAVAILABLE = "Unavailable"
    NOT_SENT = "NotSent"  # the charger was offline or did not answer
    CANCELLED = "Cancelled"
    USED = "Used"
    EXPIRED = "Expired"
    REMOVED = "Removed"  # the charger removed it (2.0.1 ReservationStatusUpdate)


@dataclass(frozen=True, kw_only=True, slots=True)
class Reservation:
    id: int  # the OCPP reservationId
    charger_id: str
    evse_id: int  # 1.6 connector, 2.0.1 EVSE; 0: any of the charger's
    id_tag: str
    parent_id_tag: str | None
    expires_at: datetime
    status: ReservationStatus
    created_at: datetime
    updated_at: datetime
    transaction_id: int | None = None  # the transaction that used it

    def holds(self, now: datetime) -> bool:
        """Rule 1."""
        return self.status is ReservationStatus.ACCEPTED and self.expires_at > now

    def status_at(self, now: datetime) -> ReservationStatus:
        if self.status is ReservationStatus.ACCEPTED and self.expires_at <= now:
            return ReservationStatus.EXPIRED
        return self.status

    def admits(self, id_tag: str, parent: str | None) -> bool:
        """Rule 2."""
        return id_tag == self.id_tag or (self.parent_id_tag is not None and parent == self.parent_id_tag)


def refusing(reservations: Sequence[Reservation], evse_id: int | None, id_tag: str, parent: str | None,
             now: datetime, evses: Collection[int] = ()) -> Reservation | None:  # fmt: skip
    """Rule 3: the reservation that refuses ``id_tag`` here (None: it may go ahead). ``evse_id`` None: an
    Authorize; ``evses`` the charger's known EVSEs."""
    holding = [r for r in reservations if r.holds(now)]
    others = [r for r in holding if not r.admits(id_tag, parent)]
    mine = [r for r in holding if r.admits(id_tag, parent)]
    whole = next((r for r in others if r.evse_id == 0), None)
    if evse_id is not None:
        return next((r for r in others if r.evse_id == evse_id), None) or (None if mine else whole)
    if whole is not None and not mine:
        return whole
    reserved = {r.evse_id for r in others}
    if evses and not mine and set(evses) <= reserved:
        return next(r for r in others if r.evse_id in set(evses))
    return None


def used(reservations: Sequence[Reservation], evse_id: int, id_tag: str, parent: str | None, now: datetime,
         reservation_id: int | None = None) -> Reservation | None:  # fmt: skip
    """Rule 4: the reservation a start by ``id_tag`` on ``evse_id`` uses, if any."""
    if reservation_id is not None:
        named = next((r for r in reservations if r.id == reservation_id), None)
        if named is not None and named.admits(id_tag, parent) and named.status is ReservationStatus.ACCEPTED:
            return named
    candidates = [r for r in reservations if r.holds(now) and r.admits(id_tag, parent) and r.evse_id in (0, evse_id)]
    return min(candidates, key=lambda r: (r.evse_id == 0, r.id), default=None)
