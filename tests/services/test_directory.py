"""The handshake's in-memory directory: entries, and the password cache that spares scrypt on reconnects."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from chargewise.domain.model import Charger, Registration
from chargewise.services import directory as directory_module
from chargewise.services.directory import Directory, Entry, entry_for
from chargewise.services.passwords import hash_password, verify_password

PASSWORD = "correct-horse-battery"
OTHER = "another-long-password"


@pytest.fixture(scope="module")
def hashes() -> dict[str, str]:
    return {PASSWORD: hash_password(PASSWORD), OTHER: hash_password(OTHER)}


@pytest.fixture
def scrypt_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every real scrypt verification the directory runs, by password."""
    calls: list[str] = []

    def counting(password: str, stored: str) -> bool:
        calls.append(password)
        return verify_password(password, stored)

    monkeypatch.setattr(directory_module, "verify_password", counting)
    return calls


def secured(hashes: dict[str, str], password: str = PASSWORD, charger_id: str = "CP-1") -> Entry:
    return Entry(charger_id=charger_id, registration=Registration.ACCEPTED, password_hash=hashes[password])


# ---------------------------------------------------------------------------------------------- entries
def test_entries_from_chargers() -> None:
    charger = Charger(id="CP-1", registration=Registration.PENDING, password_hash="h", quirks=("a", "b"))
    assert entry_for(charger) == Entry(
        charger_id="CP-1", registration=Registration.PENDING, password_hash="h", quirks=frozenset({"a", "b"})
    )


def test_load_put_get_remove() -> None:
    directory = Directory()
    directory.load([Charger(id="CP-1"), Charger(id="CP-2", registration=Registration.ACCEPTED)])
    assert len(directory) == 2
    entry = directory.get("CP-2")
    assert entry is not None
    assert entry.registration is Registration.ACCEPTED

    directory.put(Entry(charger_id="CP-3", registration=Registration.ACCEPTED))
    directory.remove("CP-1")
    directory.remove("NEVER-THERE")  # no error
    assert (len(directory), directory.get("CP-1"), directory.get("CP-3") is not None) == (2, None, True)

    directory.load([Charger(id="CP-9")])  # load replaces everything
    assert (len(directory), directory.get("CP-2")) == (1, None)


# ---------------------------------------------------------------------------------------------- passwords
async def inline(check: Callable[[], bool]) -> bool:
    return check()


def opens(directory: Directory, entry: Entry, password: str | None) -> bool:
    """``directory.verify`` with scrypt run inline (the server runs it on a worker thread)."""
    return asyncio.run(directory.verify(entry, password, inline))


def test_entry_without_password_opens_with_anything(scrypt_calls: list[str]) -> None:
    entry = Entry(charger_id="CP-1", registration=Registration.ACCEPTED)
    assert opens(Directory(), entry, None)
    assert opens(Directory(), entry, "whatever")
    assert scrypt_calls == []


def test_missing_password_does_not_open_a_secured_entry(hashes: dict[str, str], scrypt_calls: list[str]) -> None:
    assert not opens(Directory(), secured(hashes), None)
    assert scrypt_calls == []


def test_known_password_never_runs_scrypt(hashes: dict[str, str], scrypt_calls: list[str]) -> None:
    directory = Directory()
    entry = secured(hashes)
    directory.put(entry)
    assert directory.known_password(entry, PASSWORD) is None  # unknown until verified
    assert directory.known_password(entry, None) is False
    assert directory.known_password(Entry(charger_id="CP-2", registration=Registration.ACCEPTED), None) is True
    assert opens(directory, entry, PASSWORD)
    assert (directory.known_password(entry, PASSWORD), directory.known_password(entry, OTHER)) == (True, False)
    assert scrypt_calls == [PASSWORD]


def test_verify_runs_scrypt_through_the_offload(hashes: dict[str, str]) -> None:
    offloaded: list[bool] = []

    async def offload(check: Callable[[], bool]) -> bool:
        offloaded.append(check())
        return offloaded[-1]

    directory = Directory()
    entry = secured(hashes)
    assert asyncio.run(directory.verify(entry, OTHER, offload)) is False
    assert asyncio.run(directory.verify(entry, PASSWORD, offload)) is True
    assert asyncio.run(directory.verify(entry, PASSWORD, offload)) is True  # cached: not offloaded again
    assert offloaded == [False, True]


def test_second_check_of_the_same_password_skips_scrypt(hashes: dict[str, str], scrypt_calls: list[str]) -> None:
    directory = Directory()
    entry = secured(hashes)
    directory.put(entry)
    assert opens(directory, entry, PASSWORD)
    assert opens(directory, entry, PASSWORD)
    assert opens(directory, entry, PASSWORD)
    assert scrypt_calls == [PASSWORD]


def test_cache_never_opens_with_a_wrong_password(hashes: dict[str, str], scrypt_calls: list[str]) -> None:
    directory = Directory()
    entry = secured(hashes)
    directory.put(entry)
    assert not opens(directory, entry, OTHER)  # wrong before anything is cached: scrypt says no
    assert opens(directory, entry, PASSWORD)
    assert not opens(directory, entry, OTHER)  # wrong after: the cached digest says no
    assert not opens(directory, entry, PASSWORD + " ")
    assert scrypt_calls == [OTHER, PASSWORD]


def test_failed_checks_are_not_cached(hashes: dict[str, str], scrypt_calls: list[str]) -> None:
    directory = Directory()
    entry = secured(hashes)
    assert not opens(directory, entry, OTHER)
    assert not opens(directory, entry, OTHER)
    assert scrypt_calls == [OTHER, OTHER]


def test_cache_is_per_charger(hashes: dict[str, str], scrypt_calls: list[str]) -> None:
    directory = Directory()
    one, two = secured(hashes, charger_id="CP-1"), secured(hashes, charger_id="CP-2")
    assert opens(directory, one, PASSWORD)
    assert opens(directory, two, PASSWORD)
    assert scrypt_calls == [PASSWORD, PASSWORD]


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda d, h: d.put(secured(h, OTHER)), id="put-new-password"),
        pytest.param(lambda d, h: d.load([Charger(id="CP-1", password_hash=h[OTHER])]), id="load"),
        pytest.param(lambda d, h: (d.remove("CP-1"), d.put(secured(h, OTHER))), id="remove-and-add-again"),
    ],
)
def test_password_change_invalidates_the_cache(
    change: Callable[[Directory, dict[str, str]], object], hashes: dict[str, str], scrypt_calls: list[str]
) -> None:
    directory = Directory()
    directory.put(secured(hashes))
    assert opens(directory, secured(hashes), PASSWORD)

    change(directory, hashes)
    entry = directory.get("CP-1")
    assert entry is not None
    assert not opens(directory, entry, PASSWORD)  # the old password no longer opens it
    assert opens(directory, entry, OTHER)
    assert opens(directory, entry, OTHER)
    assert scrypt_calls == [PASSWORD, PASSWORD, OTHER]


def test_a_stale_entry_never_uses_the_new_cache(hashes: dict[str, str], scrypt_calls: list[str]) -> None:
    """The cache remembers which hash a password passed against: an entry held from before a password
    change does not open with the new password's cached digest, nor the new one with the old password."""
    directory = Directory()
    old = secured(hashes)
    directory.put(old)
    directory.put(secured(hashes, OTHER))
    assert opens(directory, secured(hashes, OTHER), OTHER)
    assert directory.known_password(old, OTHER) is None
    assert not opens(directory, old, OTHER)  # scrypt against the old hash says no
    assert scrypt_calls == [OTHER, OTHER]


def test_put_with_the_same_password_keeps_the_cache(hashes: dict[str, str], scrypt_calls: list[str]) -> None:
    directory = Directory()
    directory.put(Entry(charger_id="CP-1", registration=Registration.PENDING, password_hash=hashes[PASSWORD]))
    assert opens(directory, secured(hashes), PASSWORD)
    directory.put(secured(hashes))  # approved: registration changed, password did not
    assert opens(directory, secured(hashes), PASSWORD)
    assert scrypt_calls == [PASSWORD]


def test_reload_keeps_the_cache_for_an_unchanged_password(hashes: dict[str, str], scrypt_calls: list[str]) -> None:
    """A reload (another process changed some charger) costs no scrypt for the chargers it did not change;
    it used to clear the whole cache, so a reconnect storm after any CLI edit paid scrypt for every charger."""
    directory = Directory()
    directory.put(secured(hashes))
    directory.put(secured(hashes, charger_id="CP-2"))
    assert opens(directory, secured(hashes), PASSWORD)
    assert opens(directory, secured(hashes, charger_id="CP-2"), PASSWORD)
    directory.load([Charger(id="CP-1", registration=Registration.ACCEPTED, password_hash=hashes[PASSWORD]),
                    Charger(id="CP-2", registration=Registration.ACCEPTED, password_hash=hashes[OTHER])])  # fmt: skip
    assert opens(directory, secured(hashes), PASSWORD)  # unchanged: cached
    assert not opens(directory, secured(hashes, OTHER, charger_id="CP-2"), PASSWORD)  # changed: scrypt again
    directory.load([])
    assert directory.known_password(secured(hashes), PASSWORD) is None  # removed chargers leave the cache
    assert scrypt_calls == [PASSWORD, PASSWORD, PASSWORD]


def test_a_stale_reload_keeps_what_was_put_or_removed_meanwhile(hashes: dict[str, str]) -> None:
    """The server reads the store for a reload while its own REST writes go on: a charger added (with its
    password) or removed after the read began keeps that state. It used to vanish (or come back) until the
    next reload, and a charger missing from the directory was admitted as unknown, without its password."""
    directory = Directory()
    directory.load([Charger(id="OLD", registration=Registration.ACCEPTED),
                    Charger(id="GONE", registration=Registration.ACCEPTED)])  # fmt: skip
    since = directory.reloading()
    snapshot = [Charger(id="OLD", registration=Registration.ACCEPTED),
                Charger(id="GONE", registration=Registration.ACCEPTED),
                Charger(id="OTHER", registration=Registration.ACCEPTED)]  # read before the writes below  # fmt: skip
    directory.put(secured(hashes, charger_id="NEW"))
    directory.remove("GONE")
    directory.put(secured(hashes, charger_id="OLD"))  # a password set meanwhile
    directory.load(snapshot, since=since)
    new, old = directory.get("NEW"), directory.get("OLD")
    assert new is not None and new.password_hash == hashes[PASSWORD]
    assert old is not None and old.password_hash == hashes[PASSWORD]
    assert (directory.get("GONE"), directory.get("OTHER") is not None) == (None, True)
    directory.load([Charger(id="OTHER", registration=Registration.ACCEPTED)], since=directory.reloading())
    assert (directory.get("NEW"), len(directory)) == (None, 1)  # a later reload is the store's word again
