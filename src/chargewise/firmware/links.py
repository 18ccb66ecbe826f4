"""Download links that expire: one token per charger and artifact, signed with the server's key (HMAC-SHA256).

A token is ``<payload>.<signature>``, both base64url: the payload names the artifact, the charger and the
expiry (POSIX seconds). A link handed to one charger gives that artifact only, only until it expires; the key
stays in the data directory so links survive a restart.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class Grant:
    artifact_id: str
    charger_id: str
    expires_at: datetime


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, payload: str) -> str:
    return _b64(hmac.new(key, payload.encode(), hashlib.sha256).digest()[:18])


def sign(key: bytes, grant: Grant) -> str:
    payload = _b64(f"{grant.artifact_id}\n{grant.charger_id}\n{int(grant.expires_at.timestamp())}".encode())
    return f"{payload}.{_mac(key, payload)}"


def verify(key: bytes, token: str, now: datetime) -> tuple[Grant | None, str]:
    """The grant a token carries, or None and why (forged, malformed, expired)."""
    payload, dot, mac = token.partition(".")
    if not dot or not hmac.compare_digest(mac.encode(), _mac(key, payload).encode()):
        return None, "not a link this server signed"
    try:
        artifact, charger, expires = _unb64(payload).decode().split("\n")
        grant = Grant(artifact_id=artifact, charger_id=charger,
                      expires_at=datetime.fromtimestamp(int(expires), UTC))  # fmt: skip
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None, "malformed link"
    if grant.expires_at <= now:
        return None, f"link expired at {grant.expires_at:%Y-%m-%d %H:%M:%S} UTC"
    return grant, ""
