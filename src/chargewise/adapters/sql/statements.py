"""Statements the store builds once or in several places, kept apart from the code that runs them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Double, Table, bindparam, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql import Select, Update
from sqlalchemy.sql.elements import BindParameter

from chargewise.adapters.sql.tables import connectors, directory, transactions

Upsert = sqlite.Insert | postgresql.Insert

#: Run in the same transaction as any change to the charger directory (see ``tables.directory``).
BUMP_DIRECTORY = update(directory).where(directory.c.id == 1).values(revision=directory.c.revision + 1)


def upsert(dialect_name: str, table: Table) -> Upsert:
    """``INSERT ... ON CONFLICT``: the same syntax and semantics on SQLite (3.24+) and PostgreSQL."""
    return postgresql.insert(table) if dialect_name == "postgresql" else sqlite.insert(table)


def connector_states() -> Select[Any]:
    """All connector rows sorted by charger, EVSE, connector; add a ``where`` for one charger."""
    return select(connectors).order_by(connectors.c.charger_id, connectors.c.evse_id, connectors.c.connector_id)


def advance_register() -> Update:
    """Execute with many ``{"tx": id, "wh": reading}``: registers count up, so it only ever raises the value."""
    wh: BindParameter[float] = bindparam("wh", type_=Double())
    last = transactions.c.last_meter_wh
    return (
        update(transactions)
        .where(transactions.c.id == bindparam("tx"), or_(last.is_(None), last < wh))
        .values(last_meter_wh=wh)
    )
