"""REST bearer tokens with a role (admin, operator, viewer): created, listed and revoked by the CLI
(``chargewise api-tokens``) and by admins over REST; checked on every ``/api/v1`` request.

A secret is shown once, at creation, and stored as its SHA-256 (``sha256$<hex>``). Unlike a charger password
(scrypt, ``passwords``), a token is 32 random bytes, so a fast hash leaves nothing to guess, and checking it
costs microseconds instead of ~40 ms of CPU per request. The server's admin token (``$CHARGEWISE_ADMIN_TOKEN``
or ``DATA_DIR/admin-token``) keeps working as an admin token beside them.

Lookups are cached for ``cache_s`` seconds (bounded), so a busy dashboard does not read the store on every
request; a token revoked here is dropped from the cache at once, one revoked by the CLI within ``cache_s``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from datetime import datetime

from chargewise.domain.api_clients import ApiClientStore, ApiToken, Role
from chargewise.services.admin_errors import AlreadyExists, InvalidRequest, NotFound

PREFIX = "cw_"
MAX_NAME = 64
MAX_SECRET = 200  # characters: longer bearer values are refused without hashing
CACHE_SIZE = 1000


def secret_hash(secret: str) -> str:
    return "sha256$" + hashlib.sha256(secret.encode()).hexdigest()


def parse_role(text: str) -> Role:
    try:
        return Role(text)
    except ValueError:
        valid = ", ".join(r.value for r in Role)
        raise InvalidRequest(f"role {text[:40]!r} is not one of {valid}", fix=f"give one of {valid}") from None


def check_name(name: str) -> str:
    if not 1 <= len(name) <= MAX_NAME or not name.isprintable() or name != name.strip():
        raise InvalidRequest(f"name {name[:40]!r} is not allowed", fix=f"use 1 to {MAX_NAME} printable characters")
    return name


class ApiTokens:
    """Tokens on ``store``; ``admin_token`` (the server's own, or None in the CLI) is always an admin."""

    def __init__(
        self,
        *,
        store: ApiClientStore,
        now: Callable[[], datetime],
        admin_token: str | None = None,
        cache_s: float = 2.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._now = now
        self._admin = admin_token.encode() if admin_token else None
        self._cache_s = cache_s
        self._monotonic = monotonic
        self._cache: dict[str, tuple[float, Role | None]] = {}  # secret hash -> (until, role or None: unknown)

    async def create(self, name: str, role: Role) -> tuple[ApiToken, str]:
        """A new token and its secret (show it now: only its hash is kept)."""
        secret = PREFIX + secrets.token_urlsafe(32)
        token = ApiToken(id=secrets.token_hex(6), name=check_name(name), role=role, secret_hash=secret_hash(secret),
                         created_at=self._now())  # fmt: skip
        try:
            await self._store.add_api_token(token)
        except KeyError:
            raise AlreadyExists(f"a token named {name!r} exists already", fix="choose another name") from None
        self._cache.pop(token.secret_hash, None)  # a cached "unknown" for it would refuse it for cache_s
        return token, secret

    async def tokens(self) -> list[ApiToken]:
        return await self._store.api_tokens()

    async def revoke(self, id_or_name: str) -> ApiToken:
        """Revoke by id or by name; from this moment in this process."""
        found = next((t for t in await self._store.api_tokens() if id_or_name in (t.id, t.name)), None)
        if found is None or not await self._store.remove_api_token(found.id):
            raise NotFound(f"no token {id_or_name[:40]!r}", fix="list the tokens to see their ids and names")
        self._cache.pop(found.secret_hash, None)
        return found

    async def role_of(self, secret: str) -> Role | None:
        """The role of the bearer secret, None if it is no token (revoked, mistyped, missing)."""
        if not secret or len(secret) > MAX_SECRET:
            return None
        if self._admin is not None and hmac.compare_digest(secret.encode(), self._admin):
            return Role.ADMIN
        if not secret.startswith(PREFIX):
            return None  # not one we made: no need to ask the store
        key = secret_hash(secret)  # looked up by hash: the compare happens in the index, not on the secret
        now = self._monotonic()
        cached = self._cache.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        token = await self._store.api_token_by_hash(key)
        if len(self._cache) >= CACHE_SIZE:
            self._cache.clear()
        role = token.role if token is not None else None
        self._cache[key] = (now + self._cache_s, role)
        return role
