"""Admission of WebSocket upgrades: the decision table lives in ``cases/handshake.json``."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from chargewise.adapters.handshake import Admission, Refusal, admit, basic_credentials, charger_id_from_path
from chargewise.domain.model import OcppVersion, Registration
from chargewise.services.central import UnknownChargerPolicy
from chargewise.services.directory import Directory, Entry
from chargewise.services.passwords import hash_password

TABLE = json.loads((Path(__file__).parent / "cases" / "handshake.json").read_text(encoding="utf-8"))
PASSWORDS = {"CP-SECURE": "correct-horse-battery", "CP-COLON": "pass:word:with:colons"}


@pytest.fixture(scope="module")
def hashes() -> dict[str, str]:
    return {charger_id: hash_password(password) for charger_id, password in PASSWORDS.items()}


@pytest.fixture
def directory(hashes: dict[str, str]) -> Directory:
    directory = Directory()
    directory.put(Entry(charger_id="CP-1", registration=Registration.ACCEPTED))
    directory.put(Entry(charger_id="CP-PENDING", registration=Registration.PENDING))
    for charger_id, password_hash in hashes.items():
        entry = Entry(charger_id=charger_id, registration=Registration.ACCEPTED, password_hash=password_hash)
        directory.put(entry)
        # the gatekeeper checked the right password off the loop before: admit() finds it in the cache
        assert asyncio.run(directory.verify(entry, PASSWORDS[charger_id], inline))
    return directory


async def inline(check: Callable[[], bool]) -> bool:
    return check()


def authorization(auth: dict[str, str] | None) -> str | None:
    if auth is None:
        return None
    if "header" in auth:
        return auth["header"]
    token = base64.b64encode(f"{auth['user']}:{auth['password']}".encode()).decode()
    return f"{auth.get('scheme', 'Basic')} {token}"


def decide(row: dict[str, Any], directory: Directory) -> Admission | Refusal:
    return admit(
        path=row.get("path", "/ocpp/CP-1"),
        protocols=row.get("protocols", "ocpp1.6"),
        authorization=authorization(row.get("auth")),
        directory=directory,
        policy=UnknownChargerPolicy(row.get("policy", "pending")),
        newcomer_refusal=lambda: "50 chargers are waiting for approval already" if row.get("newcomers_full") else None,
    )


@pytest.mark.parametrize("row", [pytest.param(r, id=r["id"]) for r in TABLE["cases"] if "admit" in r])
def test_admitted(row: dict[str, Any], directory: Directory) -> None:
    known = len(directory)
    expected = {"version": "1.6", "subprotocol": "ocpp1.6", "new": False, "registration": "Accepted", **row["admit"]}

    decision = decide(row, directory)

    assert isinstance(decision, Admission), decision
    assert decision.charger_id == expected["charger_id"]
    assert decision.version is OcppVersion(expected["version"])
    assert decision.subprotocol == expected["subprotocol"]
    assert decision.new is expected["new"]
    assert decision.entry.charger_id == expected["charger_id"]
    assert decision.entry.registration is Registration(expected["registration"])
    assert len(directory) == known  # a new charger is the caller's to record, not admit()'s


@pytest.mark.parametrize("row", [pytest.param(r, id=r["id"]) for r in TABLE["cases"] if "refuse" in r])
def test_refused(row: dict[str, Any], directory: Directory) -> None:
    expected = row["refuse"]

    decision = decide(row, directory)

    assert isinstance(decision, Refusal), decision
    assert decision.status == expected["status"]
    assert expected["reason"] in decision.reason
    challenge = (("WWW-Authenticate", 'Basic realm="ocpp"'),)
    retry = (("Retry-After", expected["retry_after"]),) if "retry_after" in expected else ()
    assert decision.headers == (challenge if expected.get("challenge") else retry)


def test_table_covers_both_outcomes_of_every_policy() -> None:
    rows = TABLE["cases"]
    assert len({r["id"] for r in rows}) == len(rows)
    for policy in ("accept", "pending", "reject"):
        assert any(r.get("policy") == policy and r.get("path") == "/ocpp/NEW-1" for r in rows), policy


# ---------------------------------------------------------------------------------------------- the parts
@pytest.mark.parametrize(
    ("path", "charger_id"),
    [
        ("/ocpp/CP-1", "CP-1"),
        ("/CP-1", "CP-1"),
        ("//ocpp//CP-1", "CP-1"),
        ("/ocpp/a%20b", "a b"),
        ("/x/y", None),
        ("/ocpp/", None),
        ("/ocpp", None),
        ("/ocpp/ocpp", "ocpp"),
        ("/ocpp/..", ".."),
    ],
)
def test_charger_id_from_path(path: str, charger_id: str | None) -> None:
    assert charger_id_from_path(path) == charger_id


@pytest.mark.parametrize(
    ("header", "credentials"),
    [
        ("Basic " + base64.b64encode(b"CP-1:s3cret:x").decode(), ("CP-1", "s3cret:x")),
        ("BASIC " + base64.b64encode(b"CP-1:pw").decode(), ("CP-1", "pw")),
        ("Basic " + base64.b64encode(b"CP-1").decode(), ("CP-1", "")),
        ("Basic " + base64.b64encode(b"\xff\xfe:pw").decode(), None),  # not UTF-8
        ("Basic ???", None),
        ("Digest abc", None),
        ("", None),
        (None, None),
    ],
)
def test_basic_credentials(header: str | None, credentials: tuple[str, str] | None) -> None:
    assert basic_credentials(header) == credentials


def test_admit_never_runs_scrypt(hashes: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """On the event loop only a cached password opens; an unchecked one waits for the gatekeeper (cleared)."""
    from chargewise.services import directory as directory_module

    monkeypatch.setattr(directory_module, "verify_password", lambda *_: pytest.fail("scrypt on the event loop"))
    directory = Directory()
    directory.put(Entry(charger_id="CP-SECURE", registration=Registration.ACCEPTED, password_hash=hashes["CP-SECURE"]))
    row = {"path": "/ocpp/CP-SECURE", "auth": {"user": "CP-SECURE", "password": PASSWORDS["CP-SECURE"]}}
    assert isinstance(decide(row, directory), Refusal)
    cleared = admit(path="/ocpp/CP-SECURE", protocols="ocpp1.6", authorization=None, directory=directory,
                    policy=UnknownChargerPolicy.PENDING, cleared=True)  # fmt: skip
    assert isinstance(cleared, Admission)
