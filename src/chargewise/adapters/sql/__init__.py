"""The ``Store`` port on SQLite (aiosqlite) or PostgreSQL (asyncpg).

``store = await open_store("sqlite+aiosqlite:///data/chargewise.db")`` (or a ``postgresql+asyncpg://`` URL)
creates or upgrades the schema and returns a ready store; ``await store.close()`` at shutdown.
"""

from __future__ import annotations

from chargewise.adapters.sql.engine import create_engine, inline_writer, upgrade
from chargewise.adapters.sql.store import SqlStore

__all__ = ["SqlStore", "open_store"]


async def open_store(url: str) -> SqlStore:
    """Connect, bring the schema up to date (idempotent, safe from several processes at once), return the store.

    Raises ``ValueError`` for a URL that is neither ``sqlite+aiosqlite://`` nor ``postgresql+asyncpg://``.
    """
    engine = create_engine(url)
    try:
        await upgrade(engine)
    except BaseException:
        await engine.dispose()
        raise
    return SqlStore(engine, inline=inline_writer(url))
