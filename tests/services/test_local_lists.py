"""LocalLists against a fake charger that keeps a list as the spec says, on in-memory stores."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from chargewise.adapters.memory import MemoryStore
from chargewise.adapters.memory_fleet import MemoryFleetStore
from chargewise.domain.model import IdToken, OcppVersion, TokenStatus
from chargewise.fleet.local_list import CachePolicy, UpdateType
from chargewise.services import local_lists
from chargewise.services.connections import CallOutcome
from chargewise.services.local_lists import ListNotPushed, LocalLists

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
V16, V201 = OcppVersion.V16, OcppVersion.V201


class Clock:
    def now(self) -> datetime:
        return NOW


class FakeCharger:
    """Holds a list: Full replaces, Differential needs a higher version; answers its bounds."""

    def __init__(self, version: OcppVersion, *, max_length: int = 100, per_message: int = 100,
                 enabled: bool = True) -> None:  # fmt: skip
        self.version, self.max_length, self.per_message, self.enabled = version, max_length, per_message, enabled
        self.list_version = 0
        self.entries: dict[str, str] = {}
        self.calls: list[str] = []

    async def call(self, charger_id: str, action: str, p: dict[str, Any]) -> CallOutcome:
        self.calls.append(action)
        return CallOutcome(action=action, payload=getattr(self, action)(p))

    def GetConfiguration(self, p: dict[str, Any]) -> dict[str, Any]:
        values = {"LocalAuthListEnabled": str(self.enabled).lower(), "LocalAuthListMaxLength": str(self.max_length),
                  "SendLocalListMaxLength": str(self.per_message)}  # fmt: skip
        return {"configurationKey": [{"key": k, "readonly": True, "value": values[k]} for k in p["key"]]}

    def GetVariables(self, p: dict[str, Any]) -> dict[str, Any]:
        values = {"Enabled": str(self.enabled).lower(), "ItemsPerMessage": str(self.per_message)}
        return {"getVariableResult": [{**d, "attributeStatus": "Accepted",
                                       "attributeValue": values[d["variable"]["name"]]}
                                      for d in p["getVariableData"]]}  # fmt: skip

    def GetLocalListVersion(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"listVersion": self.list_version} if self.version is V16 else {"versionNumber": self.list_version}

    def SendLocalList(self, p: dict[str, Any]) -> dict[str, Any]:
        number = p["listVersion"] if self.version is V16 else p["versionNumber"]
        rows = p["localAuthorizationList"]
        if len(rows) > self.per_message:
            return {"status": "Failed"}
        if p["updateType"] == "Differential" and number <= self.list_version:
            return {"status": "VersionMismatch"}
        entries = {} if p["updateType"] == "Full" else dict(self.entries)
        for row in rows:
            tag = row["idTag"] if self.version is V16 else row["idToken"]["idToken"]
            info = row.get("idTagInfo") or row.get("idTokenInfo")
            if info is None:
                entries.pop(tag, None)
            else:
                entries[tag] = info["status"]
        self.entries, self.list_version = entries, number
        return {"status": "Accepted"}

    def ClearCache(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"status": "Accepted"}


async def setup(charger: FakeCharger, *tags: str) -> tuple[LocalLists, MemoryStore, MemoryFleetStore]:
    tokens, fleet = MemoryStore(), MemoryFleetStore()
    for tag in tags:
        await tokens.put_token(IdToken(id_tag=tag))
    lists = LocalLists(store=fleet, tokens=tokens, call=charger.call, connected=lambda: [("C1", charger.version)],
                       clock=Clock(), every=0.05)  # fmt: skip
    return lists, tokens, fleet


@pytest.mark.parametrize("version", [V16, V201])
async def test_full_in_chunks_then_nothing_then_only_the_change(version: OcppVersion) -> None:
    charger = FakeCharger(version, per_message=2)
    lists, tokens, fleet = await setup(charger, "A", "B", "C")
    first = await lists.push("C1", version)
    assert [(s.kind, s.version, s.entries, s.status) for s in first.sent] == [
        (UpdateType.FULL, 1, 2, "Accepted"), (UpdateType.DIFFERENTIAL, 2, 1, "Accepted")]  # fmt: skip
    assert charger.entries == {"A": "Accepted", "B": "Accepted", "C": "Accepted"} and first.version == 2
    assert (await lists.push("C1", version)).sent == ()
    await tokens.set_token_status("B", TokenStatus.BLOCKED)
    third = await lists.push("C1", version)
    assert [(s.kind, s.entries) for s in third.sent] == [(UpdateType.DIFFERENTIAL, 1)] and third.cache_cleared
    assert charger.entries["B"] == "Blocked" and (await fleet.held_list("C1")).version == 3
    # the bounds are read once (per boot), not on every push
    assert charger.calls.count("GetConfiguration" if version is V16 else "GetVariables") == 1


async def test_a_charger_that_lost_its_list_gets_it_whole_and_a_mismatch_starts_over() -> None:
    charger = FakeCharger(V16)
    lists, _, _ = await setup(charger, "A")
    await lists.push("C1", V16)
    charger.entries, charger.list_version = {}, 0  # reset to factory settings
    again = await lists.push("C1", V16)
    assert again.sent[0].kind is UpdateType.FULL and charger.entries == {"A": "Accepted"}
    charger.list_version = 99  # another CSMS, or a charger that numbers its own
    third = await lists.push("C1", V16)
    assert third.sent[0].kind is UpdateType.FULL and third.version == 100


async def test_the_bounds_leave_tokens_out_and_a_disabled_list_is_refused_with_the_fix() -> None:
    charger = FakeCharger(V16, max_length=2)
    lists, tokens, _ = await setup(charger, "A", "B", "C")
    await tokens.put_token(IdToken(id_tag="X", status=TokenStatus.BLOCKED))
    result = await lists.push("C1", V16)
    assert set(charger.entries) == {"A", "B"} and result.left_out == ("C", "X")
    off = FakeCharger(V201, enabled=False)
    lists, _, _ = await setup(off, "A")
    with pytest.raises(ListNotPushed, match=r"LocalAuthListCtrlr.Enabled false\); set it true"):
        await lists.push("C1", V201)


async def test_the_keep_policy_leaves_the_cache_alone() -> None:
    charger = FakeCharger(V201)
    lists, tokens, fleet = await setup(charger, "A")
    await fleet.set_cache_policy("C1", CachePolicy.KEEP)
    await lists.push("C1", V201)
    await tokens.set_token_status("A", TokenStatus.BLOCKED)
    assert not (await lists.push("C1", V201)).cache_cleared and "ClearCache" not in charger.calls


async def test_the_background_job_pushes_a_poked_charger_and_notices_token_changes(monkeypatch: Any) -> None:
    monkeypatch.setattr(local_lists, "POKE_DELAY", 0.0)
    charger = FakeCharger(V16)
    lists, tokens, _ = await setup(charger, "A")
    job = asyncio.ensure_future(lists.run())
    try:
        lists.poke("C1", booted=True)
        await asyncio.sleep(0.2)
        assert charger.calls == []  # not enrolled: nobody pushed it a list, so nothing is sent unasked
        await lists.push("C1", V16)  # the operator's first push enrols it
        charger.entries, charger.list_version = {}, 0  # it lost its list in a reboot
        lists.poke("C1", booted=True)
        for _ in range(100):
            if charger.entries:
                break
            await asyncio.sleep(0.01)
        assert charger.entries == {"A": "Accepted"}
        await tokens.put_token(IdToken(id_tag="NEW"))
        for _ in range(100):
            if "NEW" in charger.entries:
                break
            await asyncio.sleep(0.02)
        assert charger.entries == {"A": "Accepted", "NEW": "Accepted"}
    finally:
        job.cancel()


async def test_everyone_keeps_every_connected_charger_up_to_date(monkeypatch: Any) -> None:
    monkeypatch.setattr(local_lists, "POKE_DELAY", 0.0)
    charger = FakeCharger(V201)
    lists, _, _ = await setup(charger, "A")
    lists.everyone = True
    job = asyncio.ensure_future(lists.run())
    try:
        lists.poke("C1")
        for _ in range(100):
            if charger.entries:
                break
            await asyncio.sleep(0.01)
        assert charger.entries == {"A": "Accepted"}
    finally:
        job.cancel()
