"""Reservations: ReserveNow and CancelReservation for an operator (REST, CLI), with expiry, the charger's
ReservationStatusUpdate, and the reserving token honoured at Authorize and at the start of a transaction (rules
in ``fleet.reservations``). ``CentralSystem`` asks :meth:`refuses` and :meth:`use` (``central.reservations``).

A reservation is recorded (status Requested, so that it has its id, the OCPP reservationId) before the command
goes out; the charger's answer sets its status. Only an Accepted one holds anything.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from chargewise.domain.fleet_ports import ReservationStore
from chargewise.domain.model import OcppVersion
from chargewise.domain.ports import Clock
from chargewise.fleet.reservations import Reservation, ReservationStatus, refusing, used
from chargewise.services.admin_errors import InvalidRequest, NotFound
from chargewise.services.connections import CallOutcome, ChargerOffline

Call = Callable[[str, str, dict[str, Any]], Awaitable[CallOutcome]]
MAX_AHEAD = timedelta(days=7)
ANSWERS = {s.value: s for s in (ReservationStatus.ACCEPTED, ReservationStatus.FAULTED, ReservationStatus.OCCUPIED,
                                ReservationStatus.REJECTED, ReservationStatus.UNAVAILABLE)}  # fmt: skip


def _utc(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def reserve_now(version: OcppVersion, r: Reservation) -> dict[str, Any]:
    """The ReserveNow payload of ``r`` in ``version``."""
    if version is OcppVersion.V16:
        payload: dict[str, Any] = {"connectorId": r.evse_id, "expiryDate": _utc(r.expires_at), "idTag": r.id_tag,
                                   "reservationId": r.id}  # fmt: skip
        if r.parent_id_tag:
            payload["parentIdTag"] = r.parent_id_tag
        return payload
    payload = {"id": r.id, "expiryDateTime": _utc(r.expires_at), "idToken": {"idToken": r.id_tag, "type": "ISO14443"}}
    if r.evse_id:
        payload["evseId"] = r.evse_id
    if r.parent_id_tag:
        payload["groupIdToken"] = {"idToken": r.parent_id_tag, "type": "Central"}
    return payload


class Reservations:
    """Build one per server in ``bootstrap``; ``evses`` gives the EVSE ids a charger has reported (for an
    Authorize, which names none)."""

    def __init__(self, *, store: ReservationStore, call: Call, version_of: Callable[[str], OcppVersion | None],
                 clock: Clock, evses: Callable[[str], Awaitable[list[int]]] | None = None) -> None:  # fmt: skip
        self.store = store
        self._call = call
        self._version_of = version_of
        self.clock = clock
        self._evses = evses

    # ------------------------------------------------------------------ operator
    async def reserve(self, charger_id: str, *, evse_id: int, id_tag: str, expires_at: datetime,
                      parent_id_tag: str | None = None) -> Reservation:  # fmt: skip
        """Reserve ``evse_id`` (0: the whole charger) for ``id_tag`` until ``expires_at``; the record says what
        the charger answered. Raises ``InvalidRequest`` (bad value) and ``ChargerOffline`` and the other
        ``Registry.call`` errors (the record then ends NotSent)."""
        now = self.clock.now()
        version = self._version_of(charger_id)
        check(evse_id, id_tag, expires_at, now, version or OcppVersion.V201)
        if version is None:
            raise ChargerOffline(f"charger {charger_id!r} is not connected")
        r = await self.store.add_reservation(charger_id=charger_id, evse_id=evse_id, id_tag=id_tag,
                                             parent_id_tag=parent_id_tag, expires_at=expires_at, at=now)  # fmt: skip
        try:
            outcome = await self._call(charger_id, "ReserveNow", reserve_now(version, r))
        except Exception:
            await self.store.set_reservation_status(r.id, ReservationStatus.NOT_SENT, self.clock.now())
            raise
        status = ANSWERS.get(str((outcome.payload or {}).get("status")), ReservationStatus.REJECTED)
        return await self._set(r.id, status)

    async def cancel(self, reservation_id: int) -> Reservation:
        """CancelReservation; a charger that no longer has it (used, expired) answers Rejected: Removed."""
        r = await self.get(reservation_id)
        if not r.holds(self.clock.now()):
            raise InvalidRequest(f"reservation {r.id} is {r.status_at(self.clock.now()).value}, not holding",
                                 fix="cancel only a reservation whose status is Accepted")  # fmt: skip
        outcome = await self._call(r.charger_id, "CancelReservation", {"reservationId": r.id})
        accepted = (outcome.payload or {}).get("status") == "Accepted"
        return await self._set(r.id, ReservationStatus.CANCELLED if accepted else ReservationStatus.REMOVED)

    async def get(self, reservation_id: int) -> Reservation:
        r = await self.store.get_reservation(reservation_id) if 0 < reservation_id < 2**31 else None
        if r is None:
            raise NotFound(f"no reservation {reservation_id}", fix="list the reservations to see their ids")
        return r

    async def list(self, charger_id: str | None = None) -> list[Reservation]:
        return await self.store.reservations(charger_id=charger_id)

    # ------------------------------------------------------------------ what chargers do
    async def refuses(self, charger_id: str, evse_id: int | None, id_tag: str, parent: str | None) -> bool:
        """Whether a reservation here refuses ``id_tag`` (``evse_id`` None: an Authorize)."""
        holding = await self.store.reservations(charger_id=charger_id, status=ReservationStatus.ACCEPTED)
        if not holding:
            return False
        evses = await self._evses(charger_id) if evse_id is None and self._evses is not None else []
        return refusing(holding, evse_id, id_tag, parent, self.clock.now(), evses) is not None

    async def use(self, charger_id: str, evse_id: int, id_tag: str, parent: str | None, reservation_id: int | None,
                  transaction_id: int) -> Reservation | None:  # fmt: skip
        """A transaction by ``id_tag`` started: the reservation it uses ends (Used)."""
        holding = await self.store.reservations(charger_id=charger_id, status=ReservationStatus.ACCEPTED)
        r = used(holding, evse_id, id_tag, parent, self.clock.now(), reservation_id)
        if r is None:
            return None
        return await self.store.set_reservation_status(r.id, ReservationStatus.USED, self.clock.now(),
                                                       transaction_id=transaction_id)  # fmt: skip

    async def ended(self, charger_id: str, reservation_id: int, status: str) -> None:
        """2.0.1 ReservationStatusUpdate: Expired or Removed (only the charger's own reservations change)."""
        r = await self.store.get_reservation(reservation_id)
        if r is not None and r.charger_id == charger_id and r.status is ReservationStatus.ACCEPTED:
            end = ReservationStatus.EXPIRED if status == "Expired" else ReservationStatus.REMOVED
            await self._set(r.id, end)

    async def _set(self, reservation_id: int, status: ReservationStatus) -> Reservation:
        r = await self.store.set_reservation_status(reservation_id, status, self.clock.now())
        assert r is not None
        return r


def check(evse_id: int, id_tag: str, expires_at: datetime, now: datetime, version: OcppVersion) -> None:
    """One ``InvalidRequest`` naming the field and the fix for a reservation that cannot be made."""
    if not 0 <= evse_id <= 1000:
        raise InvalidRequest(f"evse {evse_id} is out of range", fix="give 0 (any) or the EVSE / connector number")
    longest = 20 if version is OcppVersion.V16 else 36
    if not id_tag or len(id_tag) > longest:
        raise InvalidRequest(f"id_tag must be 1-{longest} characters", fix="give the token's id tag")
    if expires_at.tzinfo is None:
        raise InvalidRequest("expires_at has no offset", fix="write e.g. 2026-12-03T07:30:00+01:00 or ...Z")
    if not now < expires_at <= now + MAX_AHEAD:
        raise InvalidRequest("expires_at must lie in the next 7 days", fix="give a later time, or a sooner one")
