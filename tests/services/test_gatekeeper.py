"""The gatekeeper: security profiles, passwords checked through the offload, the failed-password throttle."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from chargewise.domain.model import Registration
from chargewise.services.directory import Directory, Entry
from chargewise.services.gatekeeper import AuthLimits, Deferred, Denial, Gatekeeper, Knock
from chargewise.services.passwords import hash_password

PASSWORD = "correct-horse-battery"


@pytest.fixture(scope="module")
def stored() -> str:
    return hash_password(PASSWORD)


class Keeper:
    """A gatekeeper over a directory, counting offloaded scrypt runs, with time as data."""

    def __init__(self, limits: AuthLimits | None = None) -> None:
        self.directory = Directory()
        self.offloaded = 0
        self.now = 0.0
        self.gatekeeper = Gatekeeper(directory=self.directory, offload=self._offload, monotonic=lambda: self.now,
                                     limits=limits or AuthLimits())  # fmt: skip

    async def _offload(self, check: Callable[[], bool]) -> bool:
        self.offloaded += 1
        return check()

    def add(self, charger_id: str, *, password_hash: str | None = None, profile: int | None = None) -> None:
        self.directory.put(Entry(charger_id=charger_id, registration=Registration.ACCEPTED,
                                 password_hash=password_hash, security_profile=profile))  # fmt: skip

    def check(self, charger_id: str, password: str | None = None, **knock: Any) -> int | None:
        """The denial's HTTP status, or None if admitted."""
        credentials = None if password is None else (knock.pop("user", charger_id), password)
        fields: dict[str, Any] = {"address": "10.0.0.1", "secure": False, **knock}
        denial = asyncio.run(self.gatekeeper.check(Knock(charger_id=charger_id, credentials=credentials, **fields)))
        assert denial is None or isinstance(denial, Denial)
        return None if denial is None else denial.status


# profile, password on record, what the charger brings -> the HTTP status (None: admitted)
PROFILES = [
    ("none-no-password", None, False, {}, None),
    ("none-password-right", None, True, {"password": PASSWORD}, None),
    ("none-password-missing", None, True, {}, 401),
    ("1-right", 1, True, {"password": PASSWORD}, None),
    ("1-wrong", 1, True, {"password": "nope-nope-nope-nope"}, 401),
    ("1-wrong-user", 1, True, {"password": PASSWORD, "user": "CP-OTHER"}, 401),
    ("1-no-password-on-record", 1, False, {}, 403),
    ("2-plain", 2, True, {"password": PASSWORD}, 403),
    ("2-tls-right", 2, True, {"password": PASSWORD, "secure": True}, None),
    ("2-tls-missing", 2, True, {"secure": True}, 401),
    ("3-no-certificate", 3, True, {"password": PASSWORD, "secure": True}, 403),
    ("3-certificate", 3, False, {"secure": True, "certificate_names": ("CP",)}, None),
    ("3-certificate-password-not-needed", 3, True, {"secure": True, "certificate_names": ("CP",)}, None),
    ("3-another-certificate", 3, False, {"secure": True, "certificate_names": ("CP-OTHER",)}, 403),
    ("2-another-certificate", 2, True, {"password": PASSWORD, "secure": True, "certificate_names": ("X",)}, 403),
    ("none-own-certificate", None, True, {"password": PASSWORD, "secure": True, "certificate_names": ("CP",)},
     None),
]  # fmt: skip


@pytest.mark.parametrize(("profile", "has_password", "knock", "status"),
                         [pytest.param(*row[1:], id=row[0]) for row in PROFILES])  # fmt: skip
def test_security_profiles(
    profile: int | None, has_password: bool, knock: dict[str, Any], status: int | None, stored: str
) -> None:
    keeper = Keeper()
    keeper.add("CP", password_hash=stored if has_password else None, profile=profile)
    assert keeper.check("CP", **knock) == status


def test_unknown_chargers_pass_to_the_handshake_but_a_wrong_certificate_does_not() -> None:
    keeper = Keeper()
    assert keeper.check("NEW", "whatever-password") is None
    assert keeper.check("NEW", secure=True, certificate_names=("OTHER",)) == 403


def test_scrypt_is_offloaded_once_per_right_password(stored: str) -> None:
    keeper = Keeper()
    keeper.add("CP", password_hash=stored)
    statuses = [keeper.check("CP", PASSWORD), keeper.check("CP", PASSWORD), keeper.check("CP", "x" * 20)]
    assert statuses == [None, None, 401]
    assert keeper.offloaded == 1  # the wrong one after a right one: the cached digest says no


def test_throttled_charger_id_gets_429_without_scrypt(stored: str) -> None:
    keeper = Keeper(AuthLimits(charger_failures=2, address_failures=100, window=60))
    keeper.add("CP", password_hash=stored)
    assert [keeper.check("CP", "wrong-one-wrong-one"), keeper.check("CP", "wrong-two-wrong-two")] == [401, 401]
    assert keeper.check("CP", PASSWORD, address="10.9.9.9") == 429  # per charger id, whatever the address
    assert keeper.offloaded == 2
    keeper.now = 60.0
    assert keeper.check("CP", PASSWORD) is None  # the window passed


def test_throttled_address_spares_known_good_passwords(stored: str) -> None:
    keeper = Keeper(AuthLimits(charger_failures=100, address_failures=2, window=60))
    keeper.add("CP-1", password_hash=stored)
    keeper.add("CP-2", password_hash=stored)
    assert keeper.check("CP-1", PASSWORD) is None
    assert [keeper.check("CP-2", "wrong-one-wrong-one"), keeper.check("CP-2", "wrong-two-wrong-two")] == [401, 401]
    assert keeper.check("CP-2", PASSWORD) == 429
    assert keeper.check("CP-1", PASSWORD) is None  # cached: one SHA-256, no scrypt
    assert keeper.check("CP-2", PASSWORD, address="10.0.0.2") is None
    assert keeper.offloaded == 4


def test_too_many_pending_checks_get_503(stored: str) -> None:
    async def scenario() -> list[Denial | None]:
        release = asyncio.Event()
        directory = Directory()
        directory.put(Entry(charger_id="CP", registration=Registration.ACCEPTED, password_hash=stored))

        async def slow(check: Callable[[], bool]) -> bool:
            await release.wait()
            return check()

        keeper = Gatekeeper(directory=directory, offload=slow, monotonic=lambda: 0.0, limits=AuthLimits(max_pending=2))
        knocks = [Knock(charger_id="CP", credentials=("CP", PASSWORD), address="a", secure=False)] * 3
        tasks = [asyncio.create_task(keeper.check(k)) for k in knocks]
        await asyncio.sleep(0)
        release.set()
        return await asyncio.gather(*tasks)

    results = asyncio.run(scenario())
    assert [None if r is None else r.status for r in results] == [None, None, 503]


def test_a_password_changed_while_scrypt_ran_is_judged_again(stored: str) -> None:
    async def scenario() -> Denial | None:
        directory = Directory()
        entry = Entry(charger_id="CP", registration=Registration.ACCEPTED, password_hash=stored)
        directory.put(entry)

        async def changing(check: Callable[[], bool]) -> bool:
            result = check()
            directory.put(Entry(charger_id="CP", registration=Registration.ACCEPTED, password_hash=other))
            return result

        keeper = Gatekeeper(directory=directory, offload=changing, monotonic=lambda: 0.0, limits=AuthLimits())
        return await keeper.check(Knock(charger_id="CP", credentials=("CP", PASSWORD), address="a", secure=False))

    other = hash_password("a-new-password-now-set")
    denial = asyncio.run(scenario())
    assert denial is not None and denial.status == 401


def test_judge_decides_at_once_unless_scrypt_is_needed(stored: str) -> None:
    keeper = Keeper()
    keeper.add("CP", password_hash=stored)
    judge = keeper.gatekeeper.judge

    def knock(charger_id: str, password: str | None) -> Knock:
        credentials = None if password is None else (charger_id, password)
        return Knock(charger_id=charger_id, credentials=credentials, address="a", secure=False)

    assert judge(knock("NEW", None)) is None
    denial = judge(knock("CP", None))
    assert isinstance(denial, Denial) and denial.status == 401
    assert judge(knock("CP", PASSWORD)) is Deferred.SCRYPT
    assert keeper.check("CP", PASSWORD) is None
    assert judge(knock("CP", PASSWORD)) is None  # known good now: no task, no thread
    assert keeper.offloaded == 1
