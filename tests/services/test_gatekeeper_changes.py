"""Gatekeeper rule 6: during a credential change the old credentials keep working, and admissions that move
the change on are told to the directory (``Directory.seen``)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from chargewise.domain.model import Registration
from chargewise.services.directory import Directory, Entry
from chargewise.services.gatekeeper import AuthLimits, Denial, Gatekeeper, Knock
from chargewise.services.passwords import hash_password

OLD, NEW = "old-password-0123456", "new-password-6543210"


@pytest.fixture(scope="module")
def hashes() -> dict[str, str]:
    return {OLD: hash_password(OLD), NEW: hash_password(NEW)}


class Door:
    def __init__(self) -> None:
        self.directory = Directory()
        self.seen: list[tuple[str, str]] = []
        self.directory.credentials_seen = lambda cid, what: self.seen.append((cid, what))
        self.scrypt = 0
        self.gatekeeper = Gatekeeper(directory=self.directory, offload=self._offload, monotonic=lambda: 0.0,
                                     limits=AuthLimits())  # fmt: skip

    async def _offload(self, check: Callable[[], bool]) -> bool:
        self.scrypt += 1
        return check()

    def put(self, **entry: Any) -> None:
        self.directory.put(Entry(charger_id="CP", registration=Registration.ACCEPTED, **entry))

    def knock(self, password: str | None = None, **fields: Any) -> int | None:
        credentials = None if password is None else ("CP", password)
        knock = Knock(charger_id="CP", credentials=credentials, address="10.0.0.1", **{"secure": True, **fields})
        denial = asyncio.run(self.gatekeeper.check(knock))
        assert denial is None or isinstance(denial, Denial)
        return None if denial is None else denial.status


def test_both_passwords_open_the_link_during_a_rotation_and_the_new_one_is_reported(hashes: dict[str, str]) -> None:
    door = Door()
    door.put(password_hash=hashes[NEW], previous_password_hash=hashes[OLD], security_profile=1)
    assert door.knock(OLD) is None and door.seen == [("CP", "previous password")]  # the old one still works
    assert door.knock(NEW) is None and door.seen[-1] == ("CP", "password")
    assert door.knock("wrong-password-000000") == 401
    scrypt = door.scrypt
    assert door.knock(OLD) is None and door.knock(NEW) is None and door.scrypt == scrypt  # both cached now


def test_once_the_previous_password_is_dropped_only_the_new_one_opens(hashes: dict[str, str]) -> None:
    door = Door()
    door.put(password_hash=hashes[NEW], previous_password_hash=hashes[OLD], security_profile=1)
    assert door.knock(OLD) is None
    door.put(password_hash=hashes[NEW], security_profile=1)
    door.seen.clear()
    assert door.knock(OLD) == 401 and door.knock(NEW) is None
    assert door.seen == []  # nothing in flight any more


def test_a_charger_raised_to_3_is_admitted_with_its_certificate_or_its_password(hashes: dict[str, str]) -> None:
    door = Door()
    door.put(password_hash=hashes[OLD], security_profile=1, pending_security_profile=3)
    assert door.knock(certificate_names=("CP",)) is None and door.seen == [("CP", "profile 3")]
    assert door.knock(OLD) is None and door.seen == [("CP", "profile 3")]  # the fallback, not a completion
    assert door.knock(certificate_names=("CP",), secure=False) == 401  # a certificate needs TLS
    assert door.knock(certificate_names=("OTHER",)) == 403


def test_a_raise_to_2_completes_with_tls_and_the_password(hashes: dict[str, str]) -> None:
    door = Door()
    door.put(password_hash=hashes[OLD], security_profile=1, pending_security_profile=2)
    assert door.knock(OLD, secure=False) is None and door.seen == []  # still profile 1: the fallback
    assert door.knock(OLD) is None and door.seen == [("CP", "profile 2")]
    assert door.knock(None) == 401
