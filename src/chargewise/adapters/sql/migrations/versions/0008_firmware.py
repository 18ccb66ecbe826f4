"""Firmware artifacts and OTA campaigns: artifacts, campaigns, their targets and history, downloads
(``tables.firmware_*``).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc() -> sa.types.TypeEngine[datetime]:
    # Frozen copy of tables.UtcDateTime's storage: timestamptz, or fixed-width ISO-8601 text on SQLite.
    return sa.DateTime(timezone=True).with_variant(sa.String(32), "sqlite")


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True)


def upgrade() -> None:
    op.create_table("firmware_artifacts", sa.Column("id", sa.String, primary_key=True),
                    sa.Column("body", sa.Text, nullable=False))  # fmt: skip
    op.create_table(
        "firmware_campaigns",
        sa.Column("id", sa.String, primary_key=True),
        sa.Column("state", sa.String, nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
    )
    op.create_table(
        "firmware_targets",
        sa.Column("campaign_id", sa.String, primary_key=True),
        sa.Column("charger_id", sa.String, primary_key=True),
        sa.Column("grp", sa.Integer, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
    )
    op.create_table("firmware_history", _id(), sa.Column("campaign_id", sa.String, nullable=False),
                    sa.Column("body", sa.Text, nullable=False))  # fmt: skip
    op.create_index("ix_firmware_history_campaign", "firmware_history", ["campaign_id", "id"])
    op.create_table("firmware_downloads", _id(), sa.Column("artifact_id", sa.String, nullable=False),
                    sa.Column("body", sa.Text, nullable=False))  # fmt: skip
    op.create_index("ix_firmware_downloads_artifact", "firmware_downloads", ["artifact_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_firmware_downloads_artifact", table_name="firmware_downloads")
    op.drop_table("firmware_downloads")
    op.drop_index("ix_firmware_history_campaign", table_name="firmware_history")
    op.drop_table("firmware_history")
    op.drop_table("firmware_targets")
    op.drop_table("firmware_campaigns")
    op.drop_table("firmware_artifacts")
