"""Reservations and the central system's use of them, on in-memory stores and a fake charger link."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chargewise.adapters.memory import MemoryStore
from chargewise.adapters.memory_fleet import MemoryFleetStore
from chargewise.domain.model import IdToken, OcppVersion, Registration, TokenStatus
from chargewise.domain.ports import NewTransaction
from chargewise.fleet.reservations import ReservationStatus
from chargewise.services.admin_errors import InvalidRequest
from chargewise.services.central import CentralSystem, Policy
from chargewise.services.connections import CallOutcome, ChargerOffline
from chargewise.services.meter_writer import MeterWriter
from chargewise.services.reservations import Reservations, reserve_now

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


class Clock:
    def now(self) -> datetime:
        return NOW


class Link:
    def __init__(self, answer: str = "Accepted", *, online: bool = True) -> None:
        self.answer, self.online = answer, online
        self.sent: list[tuple[str, dict[str, Any]]] = []

    async def call(self, charger_id: str, action: str, payload: dict[str, Any]) -> CallOutcome:
        if not self.online:
            raise ChargerOffline(charger_id)
        self.sent.append((action, payload))
        return CallOutcome(action=action, payload={"status": self.answer})


def reservations(link: Link, version: OcppVersion | None = OcppVersion.V16) -> Reservations:
    return Reservations(store=MemoryFleetStore(), call=link.call, version_of=lambda _: version, clock=Clock())


async def test_reserve_now_in_both_versions_and_the_answer_recorded() -> None:
    link = Link()
    r = await reservations(link).reserve("C", evse_id=1, id_tag="MINE", expires_at=NOW + timedelta(hours=1),
                                         parent_id_tag="G")  # fmt: skip
    assert r.status is ReservationStatus.ACCEPTED
    assert link.sent == [("ReserveNow", {"connectorId": 1, "expiryDate": "2026-12-02T13:00:00.000Z", "idTag": "MINE",
                                         "reservationId": r.id, "parentIdTag": "G"})]  # fmt: skip
    assert reserve_now(OcppVersion.V201, r) == {
        "id": r.id, "expiryDateTime": "2026-12-02T13:00:00.000Z", "idToken": {"idToken": "MINE", "type": "ISO14443"},
        "evseId": 1, "groupIdToken": {"idToken": "G", "type": "Central"}}  # fmt: skip
    occupied = await reservations(Link("Occupied")).reserve("C", evse_id=1, id_tag="T",
                                                            expires_at=NOW + timedelta(minutes=5))  # fmt: skip
    assert occupied.status is ReservationStatus.OCCUPIED


async def test_offline_is_not_sent_bad_values_are_refused_and_cancel_needs_a_holding_one() -> None:
    link = Link(online=False)
    found = reservations(link)
    with pytest.raises(ChargerOffline):
        await found.reserve("C", evse_id=1, id_tag="T", expires_at=NOW + timedelta(minutes=5))
    assert [r.status for r in await found.list()] == [ReservationStatus.NOT_SENT]
    for kwargs, fragment in (({"evse_id": -1}, "evse"), ({"id_tag": "X" * 21}, "id_tag"),
                             ({"expires_at": NOW + timedelta(days=8)}, "7 days"),
                             ({"expires_at": datetime(2026, 12, 3)}, "offset")):  # fmt: skip
        args: dict[str, Any] = {"evse_id": 1, "id_tag": "T", "expires_at": NOW + timedelta(minutes=5)} | kwargs
        with pytest.raises(InvalidRequest, match=fragment):
            await found.reserve("C", **args)
    with pytest.raises(ChargerOffline):
        await reservations(Link(), None).reserve("C", evse_id=1, id_tag="T", expires_at=NOW + timedelta(minutes=5))
    link.online = True
    made = await found.reserve("C", evse_id=1, id_tag="T", expires_at=NOW + timedelta(minutes=5))
    assert (await found.cancel(made.id)).status is ReservationStatus.CANCELLED
    with pytest.raises(InvalidRequest, match="Cancelled"):
        await found.cancel(made.id)
    link.answer = "Accepted"
    gone = await found.reserve("C", evse_id=1, id_tag="T", expires_at=NOW + timedelta(minutes=5))
    link.answer = "Rejected"  # the charger no longer has it
    assert (await found.cancel(gone.id)).status is ReservationStatus.REMOVED


async def test_the_central_system_refuses_others_and_the_reserver_uses_it() -> None:
    store = MemoryStore()
    await store.add_charger("C", registration=Registration.ACCEPTED)
    for tag in ("MINE", "OTHER"):
        await store.put_token(IdToken(id_tag=tag))
    central = CentralSystem(store=store, clock=Clock(), policy=Policy(), meter_writer=MeterWriter(store))
    found = central.reservations = Reservations(store=MemoryFleetStore(), call=Link().call,
                                                version_of=lambda _: OcppVersion.V16, clock=Clock(),
                                                evses=lambda _: _evses())  # fmt: skip
    made = await found.reserve("C", evse_id=1, id_tag="MINE", expires_at=NOW + timedelta(hours=1))
    assert (await central.authorize_at("C", "OTHER")).status is TokenStatus.INVALID
    assert (await central.authorize_at("C", "MINE")).status is TokenStatus.ACCEPTED

    def new(tag: str) -> NewTransaction:
        return NewTransaction(charger_id="C", evse_id=1, connector_id=1, id_tag=tag, started_at=NOW,
                              meter_start_wh=0, dedupe_key=tag)  # fmt: skip

    _, refused = await central.start_transaction(new("OTHER"))
    assert refused.status is TokenStatus.INVALID
    tx, admitted = await central.start_transaction(new("MINE"))
    assert admitted.status is TokenStatus.ACCEPTED
    used = await found.get(made.id)
    assert used.status is ReservationStatus.USED and used.transaction_id == tx.id
    await found.ended("C", made.id, "Expired")  # a late report changes nothing that ended already
    assert (await found.get(made.id)).status is ReservationStatus.USED


async def _evses() -> list[int]:
    return [1]
