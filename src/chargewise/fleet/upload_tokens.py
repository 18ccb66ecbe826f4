"""Upload URL tokens: which upload a request to ``/uploads/{token}`` belongs to, and until when it may come.

A token is ``<upload id>.<expiry, unix seconds>.<signature>``, the signature an HMAC-SHA256 over the first two
parts with the server's upload key (base64url, no padding). Whoever holds the URL may upload until it expires,
as with a presigned object-store URL; nobody can forge one for another upload or stretch its expiry.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime

_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


class BadToken(Exception):
    """The token is malformed, forged or expired: answer 403 (the message says which, for the log)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class UploadGrant:
    upload_id: str
    expires_at: datetime


def sign(key: bytes, upload_id: str, expires_at: datetime) -> str:
    """The token for ``upload_id`` valid until ``expires_at``; put it in the URL given to the charger."""
    if not _ID.fullmatch(upload_id):
        raise ValueError(f"upload id {upload_id!r} is not 1-64 URL-safe characters")
    body = f"{upload_id}.{int(expires_at.timestamp())}"
    return f"{body}.{_mac(key, body)}"


def verify(key: bytes, token: str, now: datetime) -> UploadGrant:
    """The grant ``token`` carries; :class:`BadToken` if it is malformed, forged or expired at ``now``."""
    parts = token.split(".")
    if len(parts) != 3 or not _ID.fullmatch(parts[0]) or not parts[1].isdigit() or len(parts[1]) > 12:
        raise BadToken("malformed upload token")
    body = f"{parts[0]}.{parts[1]}"
    if not hmac.compare_digest(_mac(key, body), parts[2]):
        raise BadToken("upload token signature does not match")
    expires_at = datetime.fromtimestamp(int(parts[1]), UTC)
    if expires_at <= now:
        raise BadToken(f"upload token expired at {expires_at:%Y-%m-%d %H:%M:%S} UTC")
    return UploadGrant(upload_id=parts[0], expires_at=expires_at)


def _mac(key: bytes, body: str) -> str:
    digest = hmac.new(key, body.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
