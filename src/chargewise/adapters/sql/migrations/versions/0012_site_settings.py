"""What people set on sites through REST and MQTT: sites put or removed, and per EVSE the told needs, the
live mode and a person's cap (``tables.site_documents``, ``tables.evse_settings``).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "site_documents",
        sa.Column("name", sa.String, primary_key=True),
        sa.Column("body", sa.Text, nullable=False),
    )
    op.create_table(
        "evse_settings",
        sa.Column("evse_id", sa.String, primary_key=True),
        sa.Column("body", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("evse_settings")
    op.drop_table("site_documents")
