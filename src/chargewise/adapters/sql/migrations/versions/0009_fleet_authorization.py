"""Local authorization lists held per charger, and reservations (``tables.local_lists``, ``tables.reservations``).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc() -> sa.types.TypeEngine[datetime]:
    # Frozen copy of tables.UtcDateTime's storage: timestamptz, or fixed-width ISO-8601 text on SQLite.
    return sa.DateTime(timezone=True).with_variant(sa.String(32), "sqlite")


def upgrade() -> None:
    op.create_table(
        "local_lists",
        sa.Column("charger_id", sa.String, primary_key=True),
        sa.Column("version", sa.Integer),
        sa.Column("entries", sa.Text),
        sa.Column("cache_policy", sa.String, nullable=False),
        sa.Column("updated_at", _utc()),
    )
    op.create_table(
        "reservations",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("charger_id", sa.String, nullable=False),
        sa.Column("evse_id", sa.Integer, nullable=False),
        sa.Column("id_tag", sa.String, nullable=False),
        sa.Column("parent_id_tag", sa.String),
        sa.Column("expires_at", _utc(), nullable=False),
        sa.Column("status", sa.String, nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.Column("transaction_id", sa.Integer),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_reservations_charger_status", "reservations", ["charger_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_reservations_charger_status", table_name="reservations")
    op.drop_table("reservations")
    op.drop_table("local_lists")
