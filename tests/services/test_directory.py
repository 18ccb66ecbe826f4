"""The handshake's in-memory directory: entries, and the password cache that spares scrypt on reconnects."""

from __future__ import annotations

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
def test_entry_without_password_opens_with_anything(scrypt_calls: list[str]) -> None:
    entry = Entry(charger_id="CP-1", registration=Registration.ACCEPTED)
    assert Directory().check_password(entry, None)
    assert Directory().check_password(entry, "whatever")
    assert scrypt_calls == []


def test_missing_password_does_not_open_a_secured_entry(hashes: dict[str, str], scrypt_calls: list[str]) -> None:
    assert not Directory().check_password(secured(hashes), None)
    assert scrypt_calls == []


def test_second_check_of_the_same_password_skips_scrypt(hashes: dict[str, str], scrypt_calls: list[str]) -> None:
    directory = Directory()
    entry = secured(hashes)
    directory.put(entry)
    assert directory.check_password(entry, PASSWORD)
    assert directory.check_password(entry, PASSWORD)
    assert directory.check_password(entry, PASSWORD)
    assert scrypt_calls == [PASSWORD]


def test_cache_never_opens_with_a_wrong_password(hashes: dict[str, str], scrypt_calls: list[str]) -> None:
    directory = Directory()
    entry = secured(hashes)
    directory.put(entry)
    assert not directory.check_password(entry, OTHER)  # wrong before anything is cached: scrypt says no
    assert directory.check_password(entry, PASSWORD)
    assert not directory.check_password(entry, OTHER)  # wrong after: the cached digest says no
    assert not directory.check_password(entry, PASSWORD + " ")
    assert scrypt_calls == [OTHER, PASSWORD]


def test_failed_checks_are_not_cached(hashes: dict[str, str], scrypt_calls: list[str]) -> None:
    directory = Directory()
    entry = secured(hashes)
    assert not directory.check_password(entry, OTHER)
    assert not directory.check_password(entry, OTHER)
    assert scrypt_calls == [OTHER, OTHER]


def test_cache_is_per_charger(hashes: dict[str, str], scrypt_calls: list[str]) -> None:
    directory = Directory()
    one, two = secured(hashes, charger_id="CP-1"), secured(hashes, charger_id="CP-2")
    assert directory.check_password(one, PASSWORD)
    assert directory.check_password(two, PASSWORD)
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
    assert directory.check_password(secured(hashes), PASSWORD)

    change(directory, hashes)
    entry = directory.get("CP-1")
    assert entry is not None
    assert not directory.check_password(entry, PASSWORD)  # the old password no longer opens it
    assert directory.check_password(entry, OTHER)
    assert directory.check_password(entry, OTHER)
    assert scrypt_calls == [PASSWORD, PASSWORD, OTHER]


def test_put_with_the_same_password_keeps_the_cache(hashes: dict[str, str], scrypt_calls: list[str]) -> None:
    directory = Directory()
    directory.put(Entry(charger_id="CP-1", registration=Registration.PENDING, password_hash=hashes[PASSWORD]))
    assert directory.check_password(secured(hashes), PASSWORD)
    directory.put(secured(hashes))  # approved: registration changed, password did not
    assert directory.check_password(secured(hashes), PASSWORD)
    assert scrypt_calls == [PASSWORD]


def test_load_clears_the_cache_even_for_an_unchanged_password(hashes: dict[str, str], scrypt_calls: list[str]) -> None:
    directory = Directory()
    directory.put(secured(hashes))
    assert directory.check_password(secured(hashes), PASSWORD)
    directory.load([Charger(id="CP-1", registration=Registration.ACCEPTED, password_hash=hashes[PASSWORD])])
    assert directory.check_password(secured(hashes), PASSWORD)
    assert scrypt_calls == [PASSWORD, PASSWORD]
