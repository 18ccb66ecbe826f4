"""``SqlApiClientStore``: the ``ApiClientStore`` port on the database of a ``SqlStore`` (``tables.api_tokens``,
``tables.webhooks``).

Build it over the server's ``SqlStore`` (or the CLI's): it writes in that store's write turn (on SQLite, its
inline connection), and its operations finish, like the store's, even when their caller is cancelled.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

import msgspec
from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError

from chargewise.adapters.sql.store import SqlStore
from chargewise.adapters.sql.tables import api_tokens, webhooks
from chargewise.domain.api_clients import ApiClientStore, ApiToken, Role, Webhook

_R = TypeVar("_R")
_T = api_tokens.c


class SqlApiClientStore:
    """Tokens and webhooks on the database of ``store``; closing ``store`` closes it too."""

    def __init__(self, store: SqlStore) -> None:
        self._store = store  # its private parts, on purpose: same package, one writer per SQLite file

    def _run(self, operation: Coroutine[Any, Any, _R]) -> Coroutine[Any, Any, _R]:
        return self._store._shield.run(operation)

    # --- tokens -------------------------------------------------------------------------------------------
    async def add_api_token(self, token: ApiToken) -> None:
        await self._run(self._add_api_token(token))

    async def _add_api_token(self, token: ApiToken) -> None:
        row = {"id": token.id, "name": token.name, "role": token.role.value, "secret_hash": token.secret_hash,
               "created_at": token.created_at}  # fmt: skip
        try:
            async with self._store._write() as conn:
                await conn.execute(insert(api_tokens).values(**row))
        except IntegrityError:  # the name, id or (never in practice) the secret is taken
            raise KeyError(token.name) from None

    async def api_tokens(self) -> list[ApiToken]:
        return await self._run(self._tokens(select(api_tokens).order_by(_T.id)))

    async def api_token_by_hash(self, secret_hash: str) -> ApiToken | None:
        found = await self._run(self._tokens(select(api_tokens).where(_T.secret_hash == secret_hash)))
        return found[0] if found else None

    async def _tokens(self, query: Any) -> list[ApiToken]:
        async with self._store._engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [ApiToken(id=r["id"], name=r["name"], role=Role(r["role"]), secret_hash=r["secret_hash"],
                         created_at=r["created_at"]) for r in rows]  # fmt: skip

    async def remove_api_token(self, token_id: str) -> bool:
        return await self._run(self._remove(delete(api_tokens).where(_T.id == token_id)))

    async def _remove(self, statement: Any) -> bool:
        async with self._store._write() as conn:
            return int((await conn.execute(statement)).rowcount) > 0

    # --- webhooks -----------------------------------------------------------------------------------------
    async def add_webhook(self, webhook: Webhook) -> None:
        await self._run(self._add_webhook(webhook))

    async def _add_webhook(self, webhook: Webhook) -> None:
        body = msgspec.json.encode(webhook).decode()
        try:
            async with self._store._write() as conn:
                await conn.execute(insert(webhooks).values(id=webhook.id, created_at=webhook.created_at, body=body))
        except IntegrityError:
            raise KeyError(webhook.id) from None

    async def webhooks(self) -> list[Webhook]:
        return await self._run(self._webhooks())

    async def _webhooks(self) -> list[Webhook]:
        async with self._store._engine.connect() as conn:
            bodies = (await conn.execute(select(webhooks.c.body).order_by(webhooks.c.id))).scalars().all()
        return [msgspec.json.decode(body, type=Webhook) for body in bodies]

    async def remove_webhook(self, webhook_id: str) -> bool:
        return await self._run(self._remove(delete(webhooks).where(webhooks.c.id == webhook_id)))


if TYPE_CHECKING:  # mypy proves here that SqlApiClientStore implements the whole port
    _implements: type[ApiClientStore] = SqlApiClientStore
