"""The registry of live connections: the newest link speaks for a charger; calls need a live one."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from chargewise.domain.model import OcppVersion
from chargewise.services.connections import CallOutcome, CallTimeout, ChargerOffline, Link, Registry
from tests.domain.clock import T0


class FakeLink:
    """A live connection that answers every call with an empty CallResult and remembers what it was sent."""

    def __init__(self, charger_id: str) -> None:
        self.charger_id = charger_id
        self.version = OcppVersion.V16
        self.connected_at: datetime = T0
        self.last_seen: datetime = T0
        self.quirk_counts: dict[str, int] = {}
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.closed: str | None = None

    async def call(self, action: str, payload: dict[str, Any]) -> CallOutcome:
        self.sent.append((action, payload))
        return CallOutcome(action=action, payload={"status": "Accepted"})

    def close(self, reason: str) -> None:
        self.closed = reason


def link(charger_id: str = "CP-1") -> Link:
    return FakeLink(charger_id)


def test_first_register_replaces_nothing() -> None:
    registry = Registry()
    one = link()
    assert registry.register(one) is None
    assert (registry.get("CP-1"), len(registry), registry.links()) == (one, 1, [one])


def test_newer_link_replaces_the_older_one() -> None:
    registry = Registry()
    old, new = link(), link()
    registry.register(old)
    assert registry.register(new) is old
    assert registry.get("CP-1") is new
    assert len(registry) == 1


def test_registering_the_same_link_twice_replaces_nothing() -> None:
    registry = Registry()
    one = link()
    registry.register(one)
    assert registry.register(one) is None


def test_unregister_only_forgets_the_current_link() -> None:
    registry = Registry()
    old, new = link(), link()
    registry.register(old)
    registry.register(new)
    assert registry.unregister(old) is False  # the replaced link closing must not evict its successor
    assert registry.get("CP-1") is new
    assert registry.unregister(new) is True
    assert (registry.get("CP-1"), len(registry)) == (None, 0)
    assert registry.unregister(new) is False


def test_links_of_several_chargers() -> None:
    registry = Registry()
    links = [link("CP-1"), link("CP-2"), link("CP-3")]
    for each in links:
        registry.register(each)
    assert registry.links() == links
    assert len(registry) == 3


async def test_call_goes_to_the_current_link() -> None:
    registry = Registry()
    old, new = FakeLink("CP-1"), FakeLink("CP-1")
    registry.register(old)
    registry.register(new)
    outcome = await registry.call("CP-1", "Reset", {"type": "Soft"})
    assert (outcome.ok, outcome.payload) == (True, {"status": "Accepted"})
    assert (old.sent, new.sent) == ([], [("Reset", {"type": "Soft"})])


async def test_call_to_an_unknown_charger_raises_offline() -> None:
    with pytest.raises(ChargerOffline, match="'CP-404' is not connected"):
        await Registry().call("CP-404", "Reset", {"type": "Soft"})


async def test_call_after_unregister_raises_offline() -> None:
    registry = Registry()
    one = link()
    registry.register(one)
    registry.unregister(one)
    with pytest.raises(ChargerOffline):
        await registry.call("CP-1", "Reset", {"type": "Hard"})


def test_outcome_ok_means_no_error_code() -> None:
    assert CallOutcome(action="Reset", payload={}).ok
    assert not CallOutcome(action="Reset", error_code="NotSupported", error_description="no").ok


async def test_the_observer_hears_every_answered_call_and_its_failure_costs_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    heard: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = []

    async def observe(charger_id: str, action: str, payload: dict[str, Any], answer: dict[str, Any]) -> None:
        heard.append((charger_id, action, payload, answer))
        if action == "Reset":
            raise RuntimeError("observer bug")

    registry = Registry(observer=observe)
    registry.register(link())
    start = {"idTag": "T", "connectorId": 1}
    assert (await registry.call("CP-1", "RemoteStartTransaction", start)).ok
    assert (await registry.call("CP-1", "Reset", {"type": "Soft"})).payload == {"status": "Accepted"}
    assert heard == [("CP-1", "RemoteStartTransaction", start, {"status": "Accepted"}),
                     ("CP-1", "Reset", {"type": "Soft"}, {"status": "Accepted"})]  # fmt: skip
    assert "the answer to Reset was not taken note of" in caplog.text


async def test_every_command_outcome_is_told_with_its_duration() -> None:
    told: list[tuple[str, str, str, float | None]] = []
    ticks = iter([10.0, 10.25])
    registry = Registry(outcomes=lambda *args: told.append(args), monotonic=lambda: next(ticks))

    class Slow(FakeLink):
        async def call(self, action: str, payload: dict[str, Any]) -> CallOutcome:
            if action == "Reset":
                raise CallTimeout("no answer")
            return CallOutcome(action=action, error_code="NotSupported")

    registry.register(Slow("CP-1"))
    assert not (await registry.call("CP-1", "GetVariables", {})).ok
    with pytest.raises(ChargerOffline):
        await registry.call("CP-9", "Reset", {})
    ticks = iter([20.0, 50.0])
    with pytest.raises(CallTimeout):
        await registry.call("CP-1", "Reset", {})
    assert told == [("CP-1", "GetVariables", "call_error", 0.25), ("CP-9", "Reset", "offline", None),
                    ("CP-1", "Reset", "timeout", 30.0)]  # fmt: skip
