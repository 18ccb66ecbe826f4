"""The simulated charger's local list, authorization cache and reservations, paired with a fake CSMS in
simulated time (both OCPP versions)."""

from __future__ import annotations

from typing import Any

import pytest

from chargewise.domain.model import OcppVersion
from chargewise.simulator.clock import iso
from chargewise.simulator.workload import Visit
from tests.simulator.pair import T0, Pair

V16, V201 = OcppVersion.V16, OcppVersion.V201
BOTH = pytest.mark.parametrize("version", [V16, V201])


def visit(at: float, tag: str, connector: int = 1) -> Visit:
    return Visit(charger=0, connector=connector, arrive_s=T0 + at, depart_s=T0 + at + 7200, energy_wh=20_000,
                 capacity_wh=60_000, soc=0.3, obc_max_a=16, phases=1, id_tag=tag)  # fmt: skip


def send_list(version: OcppVersion, kind: str, number: int, tags: dict[str, str | None]) -> tuple[str, dict[str, Any]]:
    if version is V16:
        rows = [{"idTag": t} | ({"idTagInfo": {"status": s}} if s else {}) for t, s in tags.items()]
        return "SendLocalList", {"listVersion": number, "updateType": kind, "localAuthorizationList": rows}
    items = [{"idToken": {"idToken": t, "type": "ISO14443"}} | ({"idTokenInfo": {"status": s}} if s else {})
             for t, s in tags.items()]  # fmt: skip
    return "SendLocalList", {"versionNumber": number, "updateType": kind, "localAuthorizationList": items}


def version_of(p: Pair) -> int:
    answer = p.call("GetLocalListVersion", {})
    return int(answer["listVersion"] if "listVersion" in answer else answer["versionNumber"])


@BOTH
def test_full_then_differential_and_the_refusals(version: OcppVersion) -> None:
    p = Pair(version)
    p.run(30)
    assert p.call(*send_list(version, "Full", 3, {"A": "Accepted", "B": "Blocked"})) == {"status": "Accepted"}
    assert version_of(p) == 3
    assert p.call(*send_list(version, "Differential", 3, {"C": "Accepted"})) == {"status": "VersionMismatch"}
    assert p.call(*send_list(version, "Differential", 4, {"C": "Accepted", "A": None})) == {"status": "Accepted"}
    assert set(p.fw.station.local_auth.entries) == {"B", "C"}
    p.fw.settings.set("local_list_per_message", "1")
    assert p.call(*send_list(version, "Full", 5, {"X": "Accepted", "Y": "Accepted"})) == {"status": "Failed"}
    assert version_of(p) == 4  # unchanged


@BOTH
def test_offline_a_listed_token_is_accepted_an_unknown_one_is_not_and_the_start_arrives_later(
    version: OcppVersion,
) -> None:
    p = Pair(version, "dual-ac-15118", visits=[visit(300, "LISTED"), visit(320, "STRANGER", connector=2)])
    p.fw.settings.set("offline_unknown", "false")
    p.run(60)
    assert p.call(*send_list(version, "Full", 1, {"LISTED": "Accepted"})) == {"status": "Accepted"}
    p.cut()
    p.run(600)
    c1, c2 = p.fw.connectors
    assert c1.tx is not None and c1.tx.id_tag == "LISTED" and c2.tx is None
    assert not p.sent("StartTransaction") and not [e for e in p.sent("TransactionEvent") if e["eventType"] == "Started"]
    p.restore()
    p.run(120)
    if version is V16:
        assert [s["idTag"] for s in p.sent("StartTransaction")] == ["LISTED"]
    else:
        [started] = [e for e in p.sent("TransactionEvent") if e["eventType"] == "Started"]
        assert started["idToken"]["idToken"] == "LISTED" and started["offline"] is True


@BOTH
def test_the_cache_answers_offline_until_cleared(version: OcppVersion) -> None:
    p = Pair(version)
    p.run(30)
    p.fw.settings.set("offline_unknown", "false")
    local = p.fw.station.local_auth
    local.remember("SEEN", True)
    assert local.offline("SEEN", T0)[0] and not local.offline("OTHER", T0)[0]
    assert p.call("ClearCache", {}) == {"status": "Accepted"}
    assert not local.offline("SEEN", T0)[0]


@BOTH
def test_a_reservation_refuses_other_tokens_and_ends_when_its_token_starts(version: OcppVersion) -> None:
    p = Pair(version, visits=[visit(200, "OTHER"), visit(9000, "MINE")])
    p.run(60)
    expiry = iso(T0 + 86_400)
    if version is V16:
        reserve = {"connectorId": 1, "expiryDate": expiry, "idTag": "MINE", "reservationId": 7}
    else:
        reserve = {"id": 7, "expiryDateTime": expiry, "idToken": {"idToken": "MINE", "type": "ISO14443"}, "evseId": 1}
    assert p.call("ReserveNow", reserve) == {"status": "Accepted"}
    statuses = [s.get("status", s.get("connectorStatus")) for s in p.sent("StatusNotification")]
    assert statuses[-1] == "Reserved"
    p.run(7000)  # OTHER arrived and was turned down; it leaves after two hours
    assert p.fw.connectors[0].tx is None and not p.sent("Authorize")
    p.run(3000)  # MINE arrives
    tx = p.fw.connectors[0].tx
    assert tx is not None and tx.id_tag == "MINE" and tx.reservation_id == 7
    if version is V16:
        assert p.sent("StartTransaction")[-1]["reservationId"] == 7
    else:
        assert [e for e in p.sent("TransactionEvent") if e["eventType"] == "Started"][-1]["reservationId"] == 7
    assert p.fw.station.local_auth.reservations == {}


@BOTH
def test_a_reservation_expires_and_can_be_cancelled(version: OcppVersion) -> None:
    p = Pair(version)
    p.run(60)
    soon = iso(p.now + 120)
    if version is V16:
        first = {"connectorId": 1, "expiryDate": soon, "idTag": "T", "reservationId": 1}
        second = {"connectorId": 0, "expiryDate": iso(p.now + 9999), "idTag": "T", "reservationId": 2}
    else:
        first = {"id": 1, "expiryDateTime": soon, "idToken": {"idToken": "T", "type": "ISO14443"}, "evseId": 1}
        second = {"id": 2, "expiryDateTime": iso(p.now + 9999), "idToken": {"idToken": "T", "type": "ISO14443"}}
    assert p.call("ReserveNow", first) == {"status": "Accepted"}
    p.run(300)
    if version is V201:
        assert p.sent("ReservationStatusUpdate") == [{"reservationId": 1, "reservationUpdateStatus": "Expired"}]
    assert p.fw.station.local_auth.reservations == {}
    assert p.call("ReserveNow", second) == {"status": "Accepted"}
    assert p.call("CancelReservation", {"reservationId": 2}) == {"status": "Accepted"}
    assert p.call("CancelReservation", {"reservationId": 2}) == {"status": "Rejected"}
