"""Alembic environment for the chargewise schema.

At start-up ``chargewise.adapters.sql.engine.upgrade`` passes its open connection in
``config.attributes["connection"]`` and the migrations run inside that transaction. Without one (running
Alembic by hand with a config from ``engine.alembic_config(url)``) an engine is created from
``sqlalchemy.url``.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import Connection

from chargewise.adapters.sql.engine import WRITE, create_engine
from chargewise.adapters.sql.tables import metadata


def run_offline() -> None:
    """Emit the SQL to a script instead of running it."""
    url = context.config.get_main_option("sqlalchemy.url")
    context.configure(url=url, target_metadata=metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_on(connection: Connection) -> None:
    # render_as_batch: SQLite cannot ALTER most things; batch mode copies the table instead.
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


async def run_standalone(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.execution_options(**{WRITE: True}).begin() as connection:
            await connection.run_sync(run_on)
    finally:
        await engine.dispose()


def run_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        run_on(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("no connection in config.attributes and no sqlalchemy.url: nothing to migrate")
    asyncio.run(run_standalone(url))


if context.is_offline_mode():
    run_offline()
else:
    run_online()
