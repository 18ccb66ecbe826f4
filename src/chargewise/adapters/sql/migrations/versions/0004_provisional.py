"""Transactions: ``provisional`` (a reaper's stop, until now told by its "Orphaned: " reason prefix),
``ev_connected`` (the cable was seen) and ``remote_start_id`` (the 2.0.1 RequestStartTransaction behind it).

Existing stops whose reason starts with "Orphaned: " become provisional; their reason text stays as it was.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_REAPED = "Orphaned: "  # frozen copy of the prefix the reapers wrote
_transactions = sa.table(
    "transactions", sa.column("stopped_at"), sa.column("stop_reason"), sa.column("provisional", sa.Boolean)
)


def upgrade() -> None:
    with op.batch_alter_table("transactions") as batch:
        batch.add_column(sa.Column("provisional", sa.Boolean, nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("ev_connected", sa.Boolean, nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("remote_start_id", sa.Integer))
    reaped = sa.and_(
        _transactions.c.stopped_at.is_not(None), _transactions.c.stop_reason.startswith(_REAPED, autoescape=True)
    )
    op.execute(_transactions.update().where(reaped).values(provisional=True))


def downgrade() -> None:
    # the reason prefix still marks the reaper's stops, as before 0004
    with op.batch_alter_table("transactions") as batch:
        batch.drop_column("remote_start_id")
        batch.drop_column("ev_connected")
        batch.drop_column("provisional")
