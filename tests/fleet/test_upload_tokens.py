from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chargewise.fleet.upload_tokens import BadToken, sign, verify

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
KEY = b"k" * 32


def test_a_token_names_its_upload_until_it_expires() -> None:
    token = sign(KEY, "a1b2", NOW + timedelta(hours=1))
    grant = verify(KEY, token, NOW)
    assert grant.upload_id == "a1b2" and grant.expires_at == NOW + timedelta(hours=1)
    with pytest.raises(BadToken, match="expired"):
        verify(KEY, token, NOW + timedelta(hours=1))


@pytest.mark.parametrize(
    "tamper",
    [lambda t: t.replace("a1b2", "a1b3", 1), lambda t: t[:-2] + "AA", lambda t: "x" + t,
     lambda t: t.rsplit(".", 2)[0] + f".{int((NOW + timedelta(days=9)).timestamp())}." + t.rsplit(".", 1)[1]],
)  # fmt: skip
def test_another_id_or_a_stretched_expiry_breaks_the_signature(tamper: object) -> None:
    token = sign(KEY, "a1b2", NOW + timedelta(hours=1))
    with pytest.raises(BadToken):
        verify(KEY, tamper(token), NOW)  # type: ignore[operator]


@pytest.mark.parametrize("token", ["", "a.b", "a.1.x.y", "../x.1.abc", "a." + "9" * 13 + ".x"])
def test_malformed_tokens_are_refused(token: str) -> None:
    with pytest.raises(BadToken):
        verify(KEY, token, NOW)


def test_another_key_does_not_verify() -> None:
    with pytest.raises(BadToken, match="signature"):
        verify(b"other", sign(KEY, "id", NOW + timedelta(hours=1)), NOW)
