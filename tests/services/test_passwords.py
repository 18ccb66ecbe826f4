"""Charger passwords: scrypt hashes that verify, and the 16-40 character rule of OCPP 2.0.1."""

from __future__ import annotations

import base64

import pytest

from chargewise.services.passwords import check_new_password, hash_password, verify_password

PASSWORD = "correct-horse-battery"


@pytest.fixture(scope="module")
def stored() -> str:
    return hash_password(PASSWORD)


def test_hash_is_salted_scrypt_and_never_the_password(stored: str) -> None:
    scheme, n, r, p, salt, digest = stored.split("$")
    assert (scheme, n, r, p) == ("scrypt", "16384", "8", "1")
    assert (len(base64.b64decode(salt)), len(base64.b64decode(digest))) == (16, 32)
    assert PASSWORD not in stored
    assert hash_password(PASSWORD) != stored  # a fresh salt each time


def test_verify(stored: str) -> None:
    assert verify_password(PASSWORD, stored)
    assert not verify_password(PASSWORD + "x", stored)
    assert not verify_password("", stored)
    assert verify_password(PASSWORD, hash_password(PASSWORD))


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "plaintext",
        "bcrypt$16384$8$1$c2FsdA==$ZGlnZXN0",  # another scheme
        "scrypt$many$8$1$c2FsdA==$ZGlnZXN0",  # parameters that are not numbers
        "scrypt$16384$8$1$!!!$ZGlnZXN0",  # salt that is not base64
        "scrypt$16384$8$1",  # too few fields
    ],
)
def test_verify_refuses_malformed_hashes(bad: str) -> None:
    assert verify_password(PASSWORD, bad) is False


def test_verify_refuses_a_hash_with_a_corrupt_digest(stored: str) -> None:
    # a damaged row must not raise inside the WebSocket handshake: it just does not match
    corrupt = stored.rsplit("$", 1)[0] + "$abc"  # "abc" is not valid (unpadded) base64
    assert verify_password(PASSWORD, corrupt) is False


@pytest.mark.parametrize("length", [16, 17, 39, 40])
def test_new_password_within_bounds_is_returned(length: int) -> None:
    password = "p" * length
    assert check_new_password(password) == password


@pytest.mark.parametrize("length", [0, 1, 15, 41, 100])
def test_new_password_out_of_bounds_is_refused_with_the_rule(length: int) -> None:
    with pytest.raises(ValueError, match="16 to 40 characters"):
        check_new_password("p" * length)
