"""When a charger was last heard from before its current connection."""

from __future__ import annotations

from datetime import timedelta

from chargewise.services.presence import Presence
from tests.domain.clock import T0


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def test_a_transaction_from_before_the_connection_stops_when_last_heard() -> None:
    presence = Presence()
    presence.connected("CP-1", T0)
    presence.heard("CP-1", T0 + minutes(20))
    presence.connected("CP-1", T0 + minutes(120))
    presence.heard("CP-1", T0 + minutes(121))
    now = T0 + minutes(122)
    assert presence.stop_time("CP-1", T0 + minutes(5), now) == T0 + minutes(20)
    assert presence.stop_time("CP-1", T0 + minutes(30), now) == T0 + minutes(30)  # never before its start
    assert presence.stop_time("CP-1", T0 + minutes(120), now) == now  # begun on this connection


def test_unknown_times_give_now() -> None:
    presence, now = Presence(), T0 + minutes(60)
    assert presence.stop_time("CP-1", T0, now) == now  # never connected here (a restarted server)
    presence.connected("CP-1", T0 + minutes(50))
    assert presence.stop_time("CP-1", T0, now) == now  # never heard before this connection


def test_bounded() -> None:
    presence = Presence(max_chargers=2)
    for charger_id in ("A", "B", "C"):
        presence.heard(charger_id, T0)
        presence.connected(charger_id, T0 + minutes(1))
    assert presence.stop_time("C", T0 - minutes(1), T0 + minutes(5)) == T0
    assert presence.stop_time("A", T0 - minutes(1), T0 + minutes(5)) == T0 + minutes(5)  # forgotten: now


def test_after_a_restart_the_stored_last_seen_stands_in() -> None:
    presence = Presence()
    presence.recall("CP-1", T0 + minutes(20))  # start-up: last_seen from the store
    presence.connected("CP-1", T0 + minutes(120))  # it reconnects to the restarted server
    assert presence.stop_time("CP-1", T0 + minutes(5), T0 + minutes(121)) == T0 + minutes(20)
    presence.heard("CP-2", T0 + minutes(30))
    presence.recall("CP-2", T0 + minutes(10))  # older than what this process heard: ignored
    presence.connected("CP-2", T0 + minutes(40))
    assert presence.stop_time("CP-2", T0, T0 + minutes(41)) == T0 + minutes(30)
