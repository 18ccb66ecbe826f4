"""Remote starts wait, bounded, for the transaction they cause, and are claimed once."""

from __future__ import annotations

from datetime import timedelta

from chargewise.services.remote_starts import RemoteStart, RemoteStarts, StartReport
from tests.domain.clock import T0


def sent(starts: RemoteStarts, *, minutes: float = 0, **fields: object) -> RemoteStart:
    start = RemoteStart(sent_at=T0 + timedelta(minutes=minutes), **{"id_tag": "APP", **fields})  # type: ignore[arg-type]
    starts.sent("CP-1", start)
    return start


def test_claimed_by_remote_start_id_then_forgotten() -> None:
    starts = RemoteStarts()
    other, wanted = sent(starts, remote_start_id=1, evse_id=1), sent(starts, remote_start_id=2, evse_id=1)
    report = StartReport(evse_id=1, id_tag=None, remote_start_id=2)
    assert starts.claim("CP-1", report, since=T0) == wanted
    assert starts.claim("CP-1", report, since=T0) == other  # no id match left: the EVSE and no token match
    assert starts.claim("CP-1", report, since=T0) is None and len(starts) == 0


def test_claimed_by_the_transaction_id_answered() -> None:
    starts = RemoteStarts()
    wanted = sent(starts, remote_id="TX-9", evse_id=2)
    assert starts.claim("CP-1", StartReport(evse_id=1, id_tag="LOCAL", remote_id="TX-9"), since=T0) == wanted


def test_not_claimed_by_another_token_another_evse_another_charger_or_when_stale() -> None:
    starts = RemoteStarts()
    sent(starts, evse_id=1)
    assert starts.claim("CP-1", StartReport(evse_id=1, id_tag="SOMEONE-ELSE"), since=T0) is None
    assert starts.claim("CP-1", StartReport(evse_id=2, id_tag=None), since=T0) is None
    assert starts.claim("CP-2", StartReport(evse_id=1, id_tag=None), since=T0) is None
    assert starts.claim("CP-1", StartReport(evse_id=1, id_tag=None), since=T0 + timedelta(seconds=1)) is None
    assert len(starts) == 0  # the stale one was dropped


def test_a_remote_trigger_claims_whatever_token_it_reports() -> None:
    starts = RemoteStarts()
    wanted = sent(starts)
    assert starts.claim("CP-1", StartReport(evse_id=3, id_tag="X", remote_trigger=True), since=T0) == wanted


def test_bounded_per_charger_and_in_all() -> None:
    starts = RemoteStarts(per_charger=2, max_chargers=2)
    for minute in range(3):
        sent(starts, minutes=minute, remote_start_id=minute)
    assert len(starts) == 2
    starts.sent("CP-2", RemoteStart(id_tag="A", sent_at=T0))
    starts.sent("CP-3", RemoteStart(id_tag="A", sent_at=T0))
    assert len(starts) == 2  # CP-1, the oldest charger, went
    assert starts.claim("CP-1", StartReport(evse_id=None, id_tag=None, remote_start_id=2), since=T0) is None
