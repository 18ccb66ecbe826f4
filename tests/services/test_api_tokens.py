"""Role tokens: made with a secret shown once and kept as its hash, checked per request (cached, bounded),
revoked at once here; the server's admin token is an admin beside them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chargewise.adapters.memory_api_clients import MemoryApiClientStore
from chargewise.domain.api_clients import Role
from chargewise.services.admin_errors import AlreadyExists, InvalidRequest, NotFound
from chargewise.services.api_tokens import ApiTokens, parse_role, secret_hash

T0 = datetime(2026, 12, 2, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def tokens(store: MemoryApiClientStore, clock: Clock | None = None) -> ApiTokens:
    return ApiTokens(store=store, now=lambda: T0, admin_token="the-admin-token", monotonic=clock or Clock())


async def test_a_token_is_kept_as_its_hash_and_has_its_role() -> None:
    store = MemoryApiClientStore()
    made, secret = await tokens(store).create("dashboard", Role.VIEWER)
    assert secret.startswith("cw_") and len(secret) > 40
    assert made.secret_hash == secret_hash(secret) != secret
    assert secret not in repr(await store.api_tokens())
    assert await tokens(store).role_of(secret) is Role.VIEWER
    assert await tokens(store).role_of("the-admin-token") is Role.ADMIN
    for wrong in ("", "the-admin-tokenx", secret + "x", secret[:-1], "cw_", "x" * 10_000):
        assert await tokens(store).role_of(wrong) is None


async def test_revoking_here_is_at_once_elsewhere_within_the_cache_time() -> None:
    store, clock = MemoryApiClientStore(), Clock()
    here, other = tokens(store, clock), tokens(store, clock)  # other: the server while the CLI revokes
    made, secret = await here.create("ops", Role.OPERATOR)
    assert await other.role_of(secret) is Role.OPERATOR
    await here.revoke("ops")
    assert await here.role_of(secret) is None
    assert await other.role_of(secret) is Role.OPERATOR  # cached for up to 2 s
    clock.t = 2.5
    assert await other.role_of(secret) is None
    with pytest.raises(NotFound):
        await here.revoke(made.id)


async def test_names_and_roles_are_checked() -> None:
    store = MemoryApiClientStore()
    await tokens(store).create("ops", Role.OPERATOR)
    with pytest.raises(AlreadyExists):
        await tokens(store).create("ops", Role.ADMIN)
    for bad in ("", " padded", "x" * 65, "tab\there"):
        with pytest.raises(InvalidRequest):
            await tokens(store).create(bad, Role.VIEWER)
    assert parse_role("admin") is Role.ADMIN
    with pytest.raises(InvalidRequest, match="viewer"):
        parse_role("root")


async def test_a_token_made_after_an_unknown_lookup_works_at_once() -> None:
    store = MemoryApiClientStore()
    service = tokens(store)
    made, secret = await service.create("a", Role.VIEWER)
    await service.revoke(made.id)
    assert await service.role_of(secret) is None  # cached as unknown
    assert await service.role_of("cw_unknown") is None
