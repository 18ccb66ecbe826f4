"""The ``ApiClientStore`` contract, run against the in-memory fake, SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from chargewise.adapters.memory_api_clients import MemoryApiClientStore
from chargewise.adapters.sql import open_store
from chargewise.adapters.sql.api_clients import SqlApiClientStore
from chargewise.domain.api_clients import ApiClientStore, ApiToken, Role, Webhook

T0 = datetime(2026, 12, 2, 9, 30, 0, 123456, tzinfo=UTC)


@pytest.fixture
async def clients(store_url: str | None) -> AsyncIterator[ApiClientStore]:
    if store_url is None:
        yield MemoryApiClientStore()
        return
    store = await open_store(store_url)
    try:
        yield SqlApiClientStore(store)
    finally:
        await store.close()


def token(id: str, name: str, role: Role = Role.VIEWER) -> ApiToken:  # noqa: A002 - the record's field
    return ApiToken(id=id, name=name, role=role, secret_hash=f"sha256${id}", created_at=T0)


async def test_tokens_are_added_found_by_hash_listed_and_removed(clients: ApiClientStore) -> None:
    await clients.add_api_token(token("b2", "dashboard"))
    await clients.add_api_token(token("a1", "ops", Role.OPERATOR))
    assert [t.id for t in await clients.api_tokens()] == ["a1", "b2"]
    assert await clients.api_token_by_hash("sha256$a1") == token("a1", "ops", Role.OPERATOR)  # times round-trip
    assert await clients.api_token_by_hash("sha256$zz") is None
    with pytest.raises(KeyError):
        await clients.add_api_token(token("c3", "ops"))  # the name is taken
    with pytest.raises(KeyError):
        await clients.add_api_token(token("a1", "other"))  # the id is taken
    assert await clients.remove_api_token("a1") is True
    assert await clients.remove_api_token("a1") is False
    assert await clients.api_token_by_hash("sha256$a1") is None
    await clients.add_api_token(token("c3", "ops"))  # a revoked token's name is free again


async def test_webhooks_keep_their_filters_and_secret(clients: ApiClientStore) -> None:
    hook = Webhook(id="w1", url="https://example.org/h?x=1", kinds=("status", "transaction"), chargers=("CP1",),
                   secret="s3cret", created_at=T0)  # fmt: skip
    await clients.add_webhook(hook)
    with pytest.raises(KeyError):
        await clients.add_webhook(hook)
    assert await clients.webhooks() == [hook]
    assert await clients.remove_webhook("w1") is True
    assert await clients.remove_webhook("w1") is False
    assert await clients.webhooks() == []
