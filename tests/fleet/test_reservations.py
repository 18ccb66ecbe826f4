from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chargewise.fleet.reservations import Reservation, ReservationStatus, refusing, used

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def reservation(rid: int, evse: int, tag: str, *, parent: str | None = None, minutes: float = 30,
                status: ReservationStatus = ReservationStatus.ACCEPTED) -> Reservation:  # fmt: skip
    return Reservation(id=rid, charger_id="C", evse_id=evse, id_tag=tag, parent_id_tag=parent,
                       expires_at=NOW + timedelta(minutes=minutes), status=status, created_at=NOW,
                       updated_at=NOW)  # fmt: skip


def test_a_reserved_evse_refuses_other_tokens_but_not_the_reserver_or_its_group() -> None:
    rs = [reservation(1, 1, "MINE", parent="FAMILY")]
    assert refusing(rs, 1, "OTHER", None, NOW) == rs[0]
    assert refusing(rs, 1, "MINE", None, NOW) is None
    assert refusing(rs, 1, "KID", "FAMILY", NOW) is None
    assert refusing(rs, 2, "OTHER", None, NOW) is None  # another EVSE is free


def test_expired_and_ended_reservations_hold_nothing() -> None:
    expired = reservation(1, 1, "MINE", minutes=-1)
    assert expired.status_at(NOW) is ReservationStatus.EXPIRED and refusing([expired], 1, "OTHER", None, NOW) is None
    cancelled = reservation(2, 1, "MINE", status=ReservationStatus.CANCELLED)
    assert refusing([cancelled], 1, "OTHER", None, NOW) is None


def test_at_authorize_the_whole_charger_or_every_known_evse_must_be_reserved_for_others() -> None:
    one = [reservation(1, 1, "MINE")]
    assert refusing(one, None, "OTHER", None, NOW, evses=[1, 2]) is None
    assert refusing(one, None, "OTHER", None, NOW, evses=[1]) == one[0]
    whole = [reservation(2, 0, "MINE")]
    assert refusing(whole, None, "OTHER", None, NOW) == whole[0]
    assert refusing(whole, 2, "OTHER", None, NOW) == whole[0]  # a whole-charger reservation holds every EVSE
    assert refusing(whole, None, "MINE", None, NOW) is None


def test_a_start_uses_the_named_reservation_else_the_one_it_matches_here() -> None:
    rs = [reservation(1, 0, "MINE"), reservation(2, 1, "MINE"), reservation(3, 2, "OTHER")]
    assert used(rs, 1, "MINE", None, NOW) == rs[1]  # its own EVSE's before the whole charger's
    assert used(rs, 2, "MINE", None, NOW) == rs[0]
    assert used(rs, 2, "MINE", None, NOW, reservation_id=1) == rs[0]
    assert used(rs, 2, "OTHER", None, NOW, reservation_id=1) == rs[2]  # not its reservation to use
    assert used(rs, 2, "STRANGER", None, NOW) is None
