"""Charger passwords (security profiles 1 and 2): stored as scrypt hashes, never in clear."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

_N, _R, _P = 2**14, 8, 1


def hash_password(password: str) -> str:
    """Hash for storage: ``scrypt$N$r$p$salt$digest`` (base64)."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return "$".join(["scrypt", str(_N), str(_R), str(_P), _b64(salt), _b64(digest)])


def verify_password(password: str, stored: str) -> bool:
    """True if ``password`` matches ``stored`` (constant-time compare)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)  # a corrupt digest is a mismatch, not an error (binascii.Error)
        candidate = hashlib.scrypt(
            password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), dklen=32
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(candidate, expected)


def check_new_password(password: str) -> str:
    """OCPP 2.0.1 asks for 16 to 40 characters; raise ValueError saying so otherwise."""
    if not 16 <= len(password) <= 40:
        raise ValueError("a charger password must be 16 to 40 characters (OCPP security profile 1/2)")
    return password


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
