"""Directory revision: one counter row, bumped with every charger directory change, polled by servers.

Revision ID: 0002
Revises: 0001
Create Date: 2024-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    directory = op.create_table(
        "directory",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("revision", sa.BigInteger, nullable=False),
    )
    op.bulk_insert(directory, [{"id": 1, "revision": 0}])


def downgrade() -> None:
    op.drop_table("directory")
