"""The admin service: one implementation of charger administration, on a memory store, without sockets."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from chargewise.adapters.memory import MemoryStore
from chargewise.domain.model import ConnectorStatus, OcppVersion, Registration
from chargewise.services.admin import OFFLINE, Admin
from chargewise.services.admin_errors import AlreadyExists, InvalidRequest, NotFound
from chargewise.services.directory import Directory
from chargewise.services.records import Ledger, Records

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@dataclass
class FakeLink:
    charger_id: str
    version: OcppVersion = OcppVersion.V16
    connected_at: datetime = T0
    last_seen: datetime = T0
    quirk_counts: dict[str, int] = field(default_factory=dict)
    closed: list[str] = field(default_factory=list)

    async def call(self, action: str, payload: dict[str, object]) -> object:
        raise AssertionError("not called")

    def close(self, reason: str) -> None:
        self.closed.append(reason)


class FakeLinks(dict[str, FakeLink]):
    def get(self, charger_id: str) -> FakeLink | None:  # type: ignore[override]
        return super().get(charger_id)


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def links() -> FakeLinks:
    return FakeLinks()


@pytest.fixture
def directory() -> Directory:
    return Directory()


@pytest.fixture
async def admin(store: MemoryStore, directory: Directory, links: FakeLinks) -> Admin:
    served = Admin(store=store, directory=directory, links=links)  # type: ignore[arg-type]
    await served.reload()
    return served


@pytest.mark.parametrize("bad", ["", ".", "..", "a b", "x" * 49, "CP:1", "CP/1"])
async def test_add_applies_the_handshake_id_rule(admin: Admin, bad: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        await admin.add(bad)
    assert "1-48 characters" in refused.value.message and refused.value.fix


async def test_add_with_password_and_quirks_updates_the_directory_at_once(admin: Admin, directory: Directory) -> None:
    added = await admin.add("CP-1", password="sixteen-chars-ok!", quirks=["long-strings"])

    assert added.password_set and added.quirks == ("long-strings",)
    entry = directory.get("CP-1")
    assert entry is not None and entry.quirks == {"long-strings"} and entry.password_hash is not None
    with pytest.raises(AlreadyExists):
        await admin.add("CP-1")
    with pytest.raises(InvalidRequest, match="16 to 40"):
        await admin.add("CP-2", password="short")
    with pytest.raises(InvalidRequest, match="unknown quirk"):
        await admin.add("CP-3", quirks=["be-nice"])
    assert directory.get("CP-2") is None and directory.get("CP-3") is None


async def test_pending_and_reject_close_a_connected_chargers_link_approve_does_not(
    admin: Admin, links: FakeLinks, directory: Directory
) -> None:
    await admin.add("CP-1")
    links["CP-1"] = link = FakeLink("CP-1")

    await admin.set_registration("CP-1", Registration.ACCEPTED)
    assert link.closed == []
    assert (await admin.set_registration("CP-1", Registration.PENDING)).registration is Registration.PENDING
    assert link.closed == ["registration changed to Pending: connect and boot again"]
    entry = directory.get("CP-1")
    assert entry is not None and entry.registration is Registration.PENDING
    await admin.set_registration("CP-1", Registration.PENDING)  # no change: left alone
    await admin.set_registration("CP-1", Registration.REJECTED)
    assert len(link.closed) == 2 and "Rejected" in link.closed[1]


async def test_unknown_chargers_are_not_found_with_the_fix(admin: Admin) -> None:
    for change in (
        admin.set_registration("NOPE", Registration.PENDING),
        admin.set_password("NOPE", None),
        admin.set_quirks("NOPE", []),
        admin.remove("NOPE"),
        admin.charger("NOPE"),
    ):
        with pytest.raises(NotFound) as refused:
            await change
        assert refused.value.message == "no charger 'NOPE'" and "list the chargers" in refused.value.fix


async def test_password_and_quirks_change_without_closing_the_link(admin: Admin, links: FakeLinks) -> None:
    await admin.add("CP-1", password="sixteen-chars-ok!")
    links["CP-1"] = link = FakeLink("CP-1")

    assert not (await admin.set_password("CP-1", None)).password_set
    assert (await admin.set_password("CP-1", "another-sixteen-chars")).password_set
    assert (await admin.set_quirks("CP-1", ["enum-case", "long-strings"])).quirks == ("enum-case", "long-strings")
    assert (await admin.set_quirks("CP-1", [])).quirks == ()
    assert link.closed == []


async def test_remove_closes_the_link_and_forgets_the_entry(
    admin: Admin, links: FakeLinks, directory: Directory
) -> None:
    await admin.add("CP-1")
    links["CP-1"] = link = FakeLink("CP-1")

    await admin.remove("CP-1")

    assert link.closed == ["charger removed"] and directory.get("CP-1") is None
    assert await admin.reload() == []  # the change was this process's own: nothing left to close


async def test_reload_applies_another_processes_changes_to_live_links(
    store: MemoryStore, admin: Admin, links: FakeLinks, directory: Directory
) -> None:
    for charger_id in ("KEEP", "DEMOTE", "GONE", "PENDING"):
        await admin.add(charger_id)
    await admin.set_registration("PENDING", Registration.PENDING)
    for charger_id in ("KEEP", "DEMOTE", "GONE", "PENDING"):
        links[charger_id] = FakeLink(charger_id)
    cli = Admin(store=store)  # what `chargewise chargers ...` does: the store only

    await cli.set_registration("DEMOTE", Registration.REJECTED)
    await cli.remove("GONE")
    await cli.set_registration("PENDING", Registration.ACCEPTED)

    assert await admin.reload() == ["DEMOTE", "GONE"]
    assert [links[c].closed for c in ("KEEP", "PENDING")] == [[], []]
    assert directory.get("GONE") is None
    demoted = directory.get("DEMOTE")
    approved = directory.get("PENDING")
    assert demoted is not None and demoted.registration is Registration.REJECTED
    assert approved is not None and approved.registration is Registration.ACCEPTED
    assert await admin.reload() == []


async def test_a_disconnected_chargers_connectors_read_offline_with_the_last_status(
    store: MemoryStore, admin: Admin, links: FakeLinks
) -> None:
    await admin.add("CP-1")
    await store.record_connection("CP-1", connected=True, at=T0)
    await store.set_connector_status("CP-1", 1, 1, ConnectorStatus.CHARGING, None, T0)
    links["CP-1"] = FakeLink("CP-1")

    [live] = (await admin.charger("CP-1")).connectors
    assert (live.status, live.last_status) == (ConnectorStatus.CHARGING, ConnectorStatus.CHARGING)

    del links["CP-1"]  # the link dropped; the store still says Charging
    [gone] = (await admin.charger("CP-1")).connectors
    assert (gone.status, gone.last_status) == (OFFLINE, ConnectorStatus.CHARGING)

    # the CLI has no links: it reads the stored connected flag
    [listed] = (await Admin(store=store).chargers()).items[0].connectors
    assert listed.status == ConnectorStatus.CHARGING
    await store.record_connection("CP-1", connected=False, at=T0)
    [listed] = (await Admin(store=store).chargers()).items[0].connectors
    assert (listed.status, listed.last_status) == (OFFLINE, ConnectorStatus.CHARGING)


async def test_listings_page_with_opaque_cursors_that_belong_to_their_listing(admin: Admin, store: MemoryStore) -> None:
    for n in range(5):
        await admin.add(f"CP-{n}")
    records = Records(store=store)
    await records.put_token("TAG")

    first = await admin.chargers(limit=2)
    second = await admin.chargers(limit=2, cursor=first.next_cursor)
    assert [c.id for c in first.items + second.items] == ["CP-0", "CP-1", "CP-2", "CP-3"]
    assert first.total == 5 and first.next_cursor is not None and "CP" not in first.next_cursor
    for bad in ("garbage", "", "x" * 500, (await records.tokens(limit=1)).next_cursor or "dG9rZW5zOlRBRw"):
        with pytest.raises(InvalidRequest, match="cursor"):
            await admin.chargers(cursor=bad)
    for limit in (0, -1, 1001, 10**30):
        with pytest.raises(InvalidRequest, match="limit"):
            await admin.chargers(limit=limit)


@pytest.mark.parametrize(
    ("expires", "fragment"),
    [
        (datetime(1, 1, 1, tzinfo=datetime.fromisoformat("2000-01-01T00:00+01:00").tzinfo), "out of range"),
        (datetime.fromisoformat("9999-12-31T23:59:59-01:00"), "out of range"),
        (datetime(2030, 1, 1), "no time zone"),
    ],
)
async def test_token_expiries_out_of_range_are_refused(store: MemoryStore, expires: datetime, fragment: str) -> None:
    with pytest.raises(InvalidRequest, match=fragment):
        await Records(store=store).put_token("TAG", expires_at=expires)
    assert await store.list_tokens() == []


async def test_transaction_ids_no_transaction_can_have_are_not_found(store: MemoryStore) -> None:
    for transaction_id in (0, -1, 2**31, 10**23):
        with pytest.raises(NotFound, match="no transaction"):
            await Ledger(store=store).transaction(transaction_id)


async def test_a_security_profile_is_stored_and_shown_and_1_or_2_need_a_password(admin: Admin) -> None:
    added = await admin.add("CP-3", security_profile=3)
    assert added.security_profile == 3
    assert (await admin.charger("CP-3")).security_profile == 3
    with pytest.raises(InvalidRequest, match="security profile 2 needs a password"):
        await admin.add("CP-2", security_profile=2)
    with pytest.raises(InvalidRequest, match="security profile 4 does not exist"):
        await admin.add("CP-4", security_profile=4)
    assert (await admin.add("CP-1", security_profile=1, password="a-16-to-40-char-secret")).security_profile == 1
