"""Statements the store builds once or in several places, kept apart from the code that runs them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Double, Table, bindparam, case, or_, select, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql import Select, Update
from sqlalchemy.sql.elements import BindParameter

from chargewise.adapters.sql.tables import connectors, directory, transactions
from chargewise.domain.ports import TransactionFacts

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


def amend_transaction(transaction_id: int, facts: TransactionFacts) -> Update:
    """Fill in what ``facts`` add and nothing else (``TransactionStore.amend_transaction``)."""
    t = transactions.c
    values: dict[str, Any] = {}
    if facts.evse_id:
        unset = t.evse_id == 0
        values["evse_id"] = case((unset, facts.evse_id), else_=t.evse_id)
        if facts.connector_id:
            values["connector_id"] = case((unset, facts.connector_id), else_=t.connector_id)
    if facts.meter_start_wh is not None:
        values["meter_start_wh"] = case((t.meter_start_wh.is_(None), facts.meter_start_wh), else_=t.meter_start_wh)
    if facts.id_tag:
        values["id_tag"] = case((or_(t.id_tag.is_(None), t.id_tag == ""), facts.id_tag), else_=t.id_tag)
    if facts.remote_start_id is not None:
        values["remote_start_id"] = case((t.remote_start_id.is_(None), facts.remote_start_id), else_=t.remote_start_id)
    if facts.ev_connected:
        values["ev_connected"] = true()
    if not values:
        values["id"] = t.id  # nothing to add: a no-op the caller need not special-case
    return update(transactions).where(t.id == transaction_id).values(**values)
