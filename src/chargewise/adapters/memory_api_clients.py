"""``MemoryApiClientStore``: the ``ApiClientStore`` port in dicts, for unit tests and demos. Nothing survives.
It behaves like ``chargewise.adapters.sql.api_clients.SqlApiClientStore`` (one contract suite runs against
both); the records are frozen, so handing out the stored objects is safe."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chargewise.domain.api_clients import ApiClientStore, ApiToken, Webhook


class MemoryApiClientStore:
    """A fresh, empty store."""

    def __init__(self) -> None:
        self._tokens: dict[str, ApiToken] = {}
        self._webhooks: dict[str, Webhook] = {}

    async def add_api_token(self, token: ApiToken) -> None:
        taken = any(t.name == token.name or t.secret_hash == token.secret_hash for t in self._tokens.values())
        if token.id in self._tokens or taken:
            raise KeyError(token.name)
        self._tokens[token.id] = token

    async def api_tokens(self) -> list[ApiToken]:
        return [self._tokens[k] for k in sorted(self._tokens)]

    async def api_token_by_hash(self, secret_hash: str) -> ApiToken | None:
        return next((t for t in self._tokens.values() if t.secret_hash == secret_hash), None)

    async def remove_api_token(self, token_id: str) -> bool:
        return self._tokens.pop(token_id, None) is not None

    async def add_webhook(self, webhook: Webhook) -> None:
        if webhook.id in self._webhooks:
            raise KeyError(webhook.id)
        self._webhooks[webhook.id] = webhook

    async def webhooks(self) -> list[Webhook]:
        return [self._webhooks[k] for k in sorted(self._webhooks)]

    async def remove_webhook(self, webhook_id: str) -> bool:
        return self._webhooks.pop(webhook_id, None) is not None


if TYPE_CHECKING:  # mypy proves here that MemoryApiClientStore implements the whole port
    _implements: type[ApiClientStore] = MemoryApiClientStore
