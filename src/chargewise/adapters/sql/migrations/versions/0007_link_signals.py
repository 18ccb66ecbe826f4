"""Link signals for the connectivity doctor: one row per charger per flush (``tables.link_signals``).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc() -> sa.types.TypeEngine[datetime]:
    # Frozen copy of tables.UtcDateTime's storage: timestamptz, or fixed-width ISO-8601 text on SQLite.
    return sa.DateTime(timezone=True).with_variant(sa.String(32), "sqlite")


def upgrade() -> None:
    op.create_table(
        "link_signals",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("charger_id", sa.String, nullable=False),
        sa.Column("first_at", _utc(), nullable=False),
        sa.Column("last_at", _utc(), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
    )
    op.create_index("ix_link_signals_charger_last", "link_signals", ["charger_id", "last_at"])


def downgrade() -> None:
    op.drop_index("ix_link_signals_charger_last", table_name="link_signals")
    op.drop_table("link_signals")
