"""Credential changes (rules 1-3 of ``services.credentials``) over the memory store and a scripted charger."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from chargewise.adapters.memory import MemoryStore
from chargewise.domain.model import OcppVersion, Registration
from chargewise.services.admin_errors import InvalidRequest
from chargewise.services.connections import CallOutcome, CallTimeout, Registry
from chargewise.services.credentials import Busy, CredentialChanges
from chargewise.services.directory import Directory, entry_for
from chargewise.services.passwords import hash_password, verify_password
from tests.simulator.ocpp_csms import until

OLD, NEW = "old-password-0123456", "new-password-6543210"
V16, V201 = OcppVersion.V16, OcppVersion.V201
Answer = Callable[[str, dict[str, Any]], dict[str, Any]]


class Charger:
    """A live link whose answers the test scripts; it records what it was sent."""

    def __init__(self, version: OcppVersion, answer: Answer, *, during: Callable[[], Any] | None = None) -> None:
        self.charger_id, self.version = "CP", version
        self.connected_at = self.last_seen = datetime.now(UTC)
        self.quirk_counts: dict[str, int] = {}
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self._answer, self._during = answer, during

    async def call(self, action: str, payload: dict[str, Any]) -> CallOutcome:
        self.sent.append((action, payload))
        if self._during is not None:
            await self._during()
        return CallOutcome(action=action, payload=self._answer(action, payload))

    def close(self, reason: str) -> None: ...


class World:
    def __init__(self, version: OcppVersion, answer: Answer, *, tls: bool = True, **kw: Any) -> None:
        self.store, self.directory, self.registry = MemoryStore(), Directory(), Registry()
        self.link = Charger(version, answer, **kw)
        self.registry.register(self.link)  # type: ignore[arg-type]
        self.changes = CredentialChanges(store=self.store, directory=self.directory, registry=self.registry,
                                         tls=tls, client_certificates=tls)  # fmt: skip
        self.directory.credentials_seen = self.changes.seen

    async def add(self, **fields: Any) -> None:
        charger = await self.store.add_charger("CP", registration=Registration.ACCEPTED, **fields)
        self.directory.put(entry_for(charger))

    async def creds(self) -> Any:
        charger = await self.store.get_charger("CP")
        assert charger is not None
        return charger.credentials


@pytest.fixture(scope="module")
def old_hash() -> str:
    return hash_password(OLD)


def taken(action: str, payload: dict[str, Any]) -> dict[str, Any]:
    if action == "SetVariables":
        return {"setVariableResult": [{"attributeStatus": "Accepted", "component": {"name": "x"},
                                       "variable": {"name": "y"}}]}  # fmt: skip
    if action == "GetVariables":
        return {"getVariableResult": [{"attributeStatus": "Accepted", "attributeValue": "0"}]}
    return {"status": "Accepted"}


@pytest.mark.parametrize("version", [V16, V201])
async def test_a_taken_password_is_in_force_and_the_old_one_stays_until_seen(
    old_hash: str, version: OcppVersion
) -> None:
    during: list[Any] = []
    world: World

    async def look() -> None:  # while the charger answers, both passwords open the link (rule 1)
        during.append(await world.creds())

    world = World(version, taken, during=look)
    await world.add(password_hash=old_hash, security_profile=1)
    result = await world.changes.rotate_password("CP", NEW)
    assert result.done and result.status == "Accepted"
    [(action, _)] = world.link.sent
    assert action == ("ChangeConfiguration" if version is V16 else "SetVariables")
    assert during[0].password_hash == old_hash and verify_password(NEW, during[0].previous_password_hash)
    now = await world.creds()
    assert verify_password(NEW, now.password_hash) and now.previous_password_hash == old_hash
    entry = world.directory.get("CP")
    assert entry is not None and entry.previous_password_hash == old_hash  # the door knows at once
    world.changes.seen("CP", "password")  # it connected with the new one
    await world.changes.drain()
    assert (await world.creds()).previous_password_hash is None


async def test_a_refused_password_puts_the_old_credentials_back(old_hash: str) -> None:
    world = World(V16, lambda action, p: {"status": "Rejected"})
    await world.add(password_hash=old_hash, security_profile=1)
    result = await world.changes.rotate_password("CP", NEW)
    assert not result.done and result.status == "Rejected" and "keeps its old password" in result.detail
    assert (await world.creds()).password_hash == old_hash and (await world.creds()).previous_password_hash is None


async def test_no_answer_keeps_both_passwords_valid(old_hash: str) -> None:
    async def slow() -> None:
        raise CallTimeout("no answer")

    world = World(V16, taken, during=slow)
    await world.add(password_hash=old_hash, security_profile=1)
    result = await world.changes.rotate_password("CP", NEW)
    assert not result.done and result.status == "Timeout"
    now = await world.creds()
    assert verify_password(NEW, now.password_hash) and now.previous_password_hash == old_hash


async def test_a_made_password_is_never_returned(old_hash: str) -> None:
    world = World(V201, taken)
    await world.add(password_hash=old_hash, security_profile=1)
    result = await world.changes.rotate_password("CP")
    sent = world.link.sent[0][1]["setVariableData"][0]["attributeValue"]
    assert (
        16 <= len(sent) <= 40
        and sent not in result.detail
        and verify_password(sent, (await world.creds()).password_hash)
    )


async def test_a_raise_completes_when_the_charger_is_back_with_the_profile(old_hash: str) -> None:
    world = World(V201, taken)
    await world.add(password_hash=old_hash, security_profile=1)
    raising = asyncio.create_task(world.changes.raise_profile("CP", 3, csms_url="wss://csms/ocpp", deadline=5))
    await until(lambda: len(world.link.sent) >= 4, 5)
    assert [a for a, _ in world.link.sent] == ["GetVariables", "SetNetworkProfile", "SetVariables", "Reset"]
    assert (await world.creds()).pending_security_profile == 3
    world.changes.seen("CP", "profile 3")
    result = await raising
    assert result.done and result.status == "Reconnected"
    now = await world.creds()
    assert (now.security_profile, now.pending_security_profile) == (3, None)


async def test_a_raise_not_met_by_the_deadline_is_called_off(old_hash: str) -> None:
    world = World(V16, taken)
    await world.add(password_hash=old_hash, security_profile=1)
    result = await world.changes.raise_profile("CP", 2, deadline=0.05)
    assert not result.done and result.status == "NotReconnected" and "keeps profile 1" in result.detail
    now = await world.creds()
    assert (now.security_profile, now.pending_security_profile, now.password_hash) == (1, None, old_hash)


async def test_a_refused_step_calls_the_raise_off(old_hash: str) -> None:
    world = World(V201, lambda a, p: {"status": "Rejected"} if a == "SetNetworkProfile" else taken(a, p))
    await world.add(password_hash=old_hash, security_profile=1)
    result = await world.changes.raise_profile("CP", 3, csms_url="wss://csms/ocpp", deadline=5)
    assert not result.done and result.status == "Rejected" and "SetNetworkProfile" in result.detail
    assert (await world.creds()).pending_security_profile is None
    assert [a for a, _ in world.link.sent] == ["GetVariables", "SetNetworkProfile"]  # no Reset


async def test_raises_refused_before_anything_is_sent(old_hash: str) -> None:
    world = World(V201, taken)
    await world.add(password_hash=old_hash, security_profile=2)
    cases = [({"profile": 2}, "profile 2 already"), ({"profile": 4}, "cannot be raised to"),
             ({"profile": 3}, "csms_url"), ({"profile": 3, "csms_url": "ws://plain"}, "csms_url"),
             ({"profile": 3, "csms_url": "wss://x", "deadline": 0}, "deadline")]  # fmt: skip
    for args, message in cases:
        with pytest.raises(InvalidRequest, match=message):
            await world.changes.raise_profile("CP", **args)
    plain = World(V16, taken, tls=False)
    await plain.add(password_hash=old_hash, security_profile=1)
    with pytest.raises(InvalidRequest, match="needs TLS"):
        await plain.changes.raise_profile("CP", 2)
    assert world.link.sent == [] and plain.link.sent == []


async def test_one_change_at_a_time(old_hash: str) -> None:
    gate = asyncio.Event()

    async def hold() -> None:
        await gate.wait()

    world = World(V16, taken, during=hold)
    await world.add(password_hash=old_hash, security_profile=1)
    first = asyncio.create_task(world.changes.rotate_password("CP", NEW))
    await until(lambda: world.link.sent, 5)
    with pytest.raises(Busy):
        await world.changes.rotate_password("CP", OLD)
    gate.set()
    assert (await first).done
