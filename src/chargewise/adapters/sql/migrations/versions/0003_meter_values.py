"""Meter values: one row per OCPP MeterValue (its sampled values as a JSON array) instead of one per value.

Existing samples are regrouped by (charger, EVSE, transaction, timestamp), in their insertion order.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import datetime
from itertools import groupby
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 10_000
_FIELDS = ("measurand", "value", "unit", "phase", "context")


def _utc() -> sa.types.TypeEngine[datetime]:
    # Frozen copy of tables.UtcDateTime's storage: timestamptz, or fixed-width ISO-8601 text on SQLite.
    return sa.DateTime(timezone=True).with_variant(sa.String(32), "sqlite")


def _id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


_KEY = ("charger_id", "evse_id", "transaction_id", "timestamp")
_samples = sa.table(
    "meter_samples", *(sa.column(name) for name in ("id", *_KEY, *_FIELDS))
)  # fmt: skip
_values = sa.table("meter_values", *(sa.column(name) for name in ("id", *_KEY, "sampled_values")))


def upgrade() -> None:
    op.create_table(
        "meter_values",
        sa.Column("id", _id(), primary_key=True, autoincrement=True),
        sa.Column("charger_id", sa.String, nullable=False),
        sa.Column("evse_id", sa.Integer, nullable=False),
        sa.Column("transaction_id", sa.Integer),
        sa.Column("timestamp", _utc(), nullable=False),
        sa.Column("sampled_values", sa.Text, nullable=False),
    )
    op.create_index("ix_meter_values_transaction", "meter_values", ["transaction_id"])
    bind = op.get_bind()
    rows = bind.execute(sa.select(_samples).order_by(*(_samples.c[k] for k in _KEY), _samples.c.id))
    for batch in _batches(_grouped(rows)):
        bind.execute(_values.insert(), batch)
    op.drop_table("meter_samples")


def _grouped(rows: Any) -> Iterator[dict[str, Any]]:
    for key, group in groupby(rows, key=lambda r: tuple(getattr(r, k) for k in _KEY)):
        sampled = [{f: getattr(r, f) for f in _FIELDS if getattr(r, f) is not None} for r in group]
        yield dict(zip(_KEY, key, strict=True)) | {"sampled_values": json.dumps(sampled)}


def _batches(items: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for item in items:
        batch.append(item)
        if len(batch) >= _BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def downgrade() -> None:
    op.create_table(
        "meter_samples",
        sa.Column("id", _id(), primary_key=True, autoincrement=True),
        sa.Column("charger_id", sa.String, nullable=False),
        sa.Column("evse_id", sa.Integer, nullable=False),
        sa.Column("transaction_id", sa.Integer),
        sa.Column("timestamp", _utc(), nullable=False),
        sa.Column("measurand", sa.String, nullable=False),
        sa.Column("value", sa.Double, nullable=False),
        sa.Column("unit", sa.String),
        sa.Column("phase", sa.String),
        sa.Column("context", sa.String),
    )
    op.create_index("ix_meter_samples_transaction_timestamp", "meter_samples", ["transaction_id", "timestamp"])
    bind = op.get_bind()
    rows = bind.execute(sa.select(_values).order_by(_values.c.id))
    expanded = (
        {k: getattr(row, k) for k in _KEY} | {f: sampled.get(f) for f in _FIELDS}
        for row in rows
        for sampled in json.loads(row.sampled_values)
    )
    for batch in _batches(expanded):
        bind.execute(_samples.insert(), batch)
    op.drop_table("meter_values")
