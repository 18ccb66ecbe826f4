from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chargewise.domain.model import IdToken, OcppVersion, TokenStatus
from chargewise.fleet.local_list import Entry, Limits, UpdateType, applied, newly_refused, plan, wanted

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
OK = Entry(status="Accepted")
BLOCKED = Entry(status="Blocked")


def test_the_list_is_every_token_with_its_status_accepted_first_within_the_bound() -> None:
    tokens = [IdToken(id_tag="B"), IdToken(id_tag="A", status=TokenStatus.BLOCKED),
              IdToken(id_tag="C", expires_at=NOW - timedelta(days=1)), IdToken(id_tag="D" * 21)]  # fmt: skip
    want, left = wanted(tokens, NOW, OcppVersion.V16, Limits(max_length=2))
    assert want == {"B": OK, "A": BLOCKED}
    assert left == ("C", "D" * 21)  # over the bound; too long for a 1.6 idTag
    want, left = wanted(tokens, NOW, OcppVersion.V201, Limits())
    assert want["C"] == Entry(status="Expired", expires_at=NOW - timedelta(days=1)) and len(want) == 4 and not left


def test_unknown_or_mismatched_lists_get_a_full_update_split_by_items_per_message() -> None:
    want = {t: OK for t in "ABCDE"}
    p = plan(want, None, None, 0, Limits(per_message=2))
    assert [(u.kind, u.version, [t for t, _ in u.items]) for u in p.updates] == [
        (UpdateType.FULL, 1, ["A", "B"]), (UpdateType.DIFFERENTIAL, 2, ["C", "D"]),
        (UpdateType.DIFFERENTIAL, 3, ["E"])]  # fmt: skip
    held = applied(applied(applied(None, p.updates[0]), p.updates[1]), p.updates[2])
    assert held == want
    again = plan(want, held, 3, 7, Limits())  # the charger's version moved (it was reset, or another CSMS)
    assert again.full and again.updates[0].version == 8


def test_a_known_list_gets_only_what_changed_and_nothing_when_nothing_did() -> None:
    held = {"A": OK, "B": OK, "C": OK}
    assert plan(held, held, 4, 4, Limits()).updates == ()
    p = plan({"A": OK, "B": BLOCKED, "C": OK, "D": OK}, {**held, "X": OK}, 4, 4, Limits())
    [u] = p.updates
    assert u.kind is UpdateType.DIFFERENTIAL and u.version == 5
    assert u.items == (("B", BLOCKED), ("D", OK), ("X", None))
    assert applied({**held, "X": OK}, u) == {"A": OK, "B": BLOCKED, "C": OK, "D": OK}


def test_a_diff_longer_than_the_list_goes_full_and_an_empty_list_clears() -> None:
    held = {t: OK for t in "ABCDEF"}
    [u] = plan({"Z": OK}, held, 2, 2, Limits()).updates
    assert u.kind is UpdateType.FULL and u.items == (("Z", OK),)
    [cleared] = plan({}, None, None, 3, Limits()).updates
    assert cleared.kind is UpdateType.FULL and cleared.items == () and cleared.version == 4


def test_tokens_no_longer_accepted_are_named_for_the_cache() -> None:
    assert newly_refused({"A": OK, "B": OK, "C": BLOCKED}, {"A": BLOCKED, "C": BLOCKED}) == ["A", "B"]
    assert newly_refused(None, {"A": BLOCKED}) == []
