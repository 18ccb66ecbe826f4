"""``set_credentials``: the password hashes and security profiles of a credential change, written together, on
every backend (memory, SQLite, PostgreSQL), and they count as a directory change."""

from __future__ import annotations

import pytest

from chargewise.domain.model import Credentials, Registration
from chargewise.domain.ports import Store


async def test_credentials_are_written_together_and_read_back(store: Store) -> None:
    await store.add_charger("CP1", registration=Registration.ACCEPTED, password_hash="h-old", security_profile=1)
    before = await store.directory_revision()
    changed = Credentials(password_hash="h-new", previous_password_hash="h-old", security_profile=1,
                          pending_security_profile=3)  # fmt: skip
    await store.set_credentials("CP1", changed)
    charger = await store.get_charger("CP1")
    assert charger is not None and charger.credentials == changed
    assert [c.credentials for c in await store.list_chargers()] == [changed]
    assert await store.directory_revision() != before  # a running server reloads its directory
    done = Credentials(password_hash="h-new", security_profile=3)
    await store.set_credentials("CP1", done)
    charger = await store.get_charger("CP1")
    assert charger is not None and charger.credentials == done


async def test_an_unknown_charger_is_a_key_error(store: Store) -> None:
    with pytest.raises(KeyError):
        await store.set_credentials("NOPE", Credentials())


async def test_a_new_charger_has_no_change_in_flight(store: Store) -> None:
    added = await store.add_charger("CP2", registration=Registration.PENDING)
    stored = await store.get_charger("CP2")
    assert added.credentials == Credentials() and stored is not None and stored.credentials == Credentials()
