"""Who uses the REST API besides chargers: bearer tokens with a role, and webhooks that receive events.

A token is kept as the SHA-256 of its secret (``services.api_tokens``); a webhook keeps its signing secret in
clear, because every delivery is signed with it. Each record has a SQL implementation
(``adapters.sql.api_clients``) and an in-memory fake (``adapters.memory_api_clients``) behind the same port.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


class Role(enum.StrEnum):
    """What a token may do (``adapters.http_access`` holds the one table of which route needs which)."""

    VIEWER = "viewer"  # reads
    OPERATOR = "operator"  # reads, commands, sessions, modes, limits, approvals, resets
    ADMIN = "admin"  # everything: credentials, tokens, webhooks, removal

    def allows(self, needed: Role) -> bool:
        return RANK[self] >= RANK[needed]


RANK = {Role.VIEWER: 0, Role.OPERATOR: 1, Role.ADMIN: 2}


@dataclass(frozen=True, kw_only=True, slots=True)
class ApiToken:
    id: str  # public: shown in lists, used to revoke
    name: str  # unique among the tokens, chosen by whoever creates it
    role: Role
    secret_hash: str  # "sha256$<hex>" of the secret the holder sends
    created_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class Webhook:
    id: str
    url: str
    kinds: tuple[str, ...]  # event kinds (services.events.Kind values); () : all
    chargers: tuple[str, ...]  # () : every charger
    secret: str  # signs each delivery (HMAC-SHA256); shown once, at creation
    created_at: datetime


class ApiClientStore(Protocol):
    async def add_api_token(self, token: ApiToken) -> None:
        """Raises ``KeyError`` if a token with that name (or id) exists."""
        ...

    async def api_tokens(self) -> list[ApiToken]:
        """Every token, in id order."""
        ...

    async def api_token_by_hash(self, secret_hash: str) -> ApiToken | None: ...

    async def remove_api_token(self, token_id: str) -> bool:
        """False if there was none."""
        ...

    async def add_webhook(self, webhook: Webhook) -> None:
        """Raises ``KeyError`` if a webhook with that id exists."""
        ...

    async def webhooks(self) -> list[Webhook]:
        """Every webhook, in id order."""
        ...

    async def remove_webhook(self, webhook_id: str) -> bool: ...
