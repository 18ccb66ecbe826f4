"""Who uses the REST API: role tokens (hashed secrets) and webhooks (``tables.api_tokens``, ``tables.webhooks``).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc() -> sa.types.TypeEngine[datetime]:
    # Frozen copy of tables.UtcDateTime's storage: timestamptz, or fixed-width ISO-8601 text on SQLite.
    return sa.DateTime(timezone=True).with_variant(sa.String(32), "sqlite")


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String, primary_key=True),
        sa.Column("name", sa.String, nullable=False, unique=True),
        sa.Column("role", sa.String, nullable=False),
        sa.Column("secret_hash", sa.String, nullable=False, unique=True),
        sa.Column("created_at", _utc(), nullable=False),
    )
    op.create_table(
        "webhooks",
        sa.Column("id", sa.String, primary_key=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("webhooks")
    op.drop_table("api_tokens")
