"""Initial schema: chargers, connectors, tokens, transactions, their events and meter samples.

Revision ID: 0001
Revises:
Create Date: 2024-11-25
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc() -> sa.types.TypeEngine[datetime]:
    # Frozen copy of tables.UtcDateTime's storage: timestamptz, or fixed-width ISO-8601 text on SQLite.
    return sa.DateTime(timezone=True).with_variant(sa.String(32), "sqlite")


def upgrade() -> None:
    op.create_table(
        "chargers",
        sa.Column("id", sa.String, primary_key=True),
        sa.Column("registration", sa.String, nullable=False),
        sa.Column("ocpp_version", sa.String),
        sa.Column("password_hash", sa.Text),
        sa.Column("vendor", sa.String),
        sa.Column("model", sa.String),
        sa.Column("serial_number", sa.String),
        sa.Column("firmware_version", sa.String),
        sa.Column("boot_reason", sa.String),
        sa.Column("connected", sa.Boolean, nullable=False),
        sa.Column("last_seen", _utc()),
        sa.Column("offline_since", _utc()),
        sa.Column("quirks", sa.Text, nullable=False),
    )
    op.create_table(
        "connectors",
        sa.Column("charger_id", sa.String, sa.ForeignKey("chargers.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("evse_id", sa.Integer, primary_key=True),
        sa.Column("connector_id", sa.Integer, primary_key=True),
        sa.Column("status", sa.String, nullable=False),
        sa.Column("error_code", sa.String),
        sa.Column("updated_at", _utc(), nullable=False),
    )
    op.create_table(
        "id_tokens",
        sa.Column("id_tag", sa.String, primary_key=True),
        sa.Column("status", sa.String, nullable=False),
        sa.Column("expires_at", _utc()),
        sa.Column("parent_id_tag", sa.String),
    )
    op.create_table(
        "transactions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("charger_id", sa.String, nullable=False),
        sa.Column("evse_id", sa.Integer, nullable=False),
        sa.Column("connector_id", sa.Integer, nullable=False),
        sa.Column("id_tag", sa.String),
        sa.Column("remote_id", sa.String),
        sa.Column("dedupe_key", sa.String, nullable=False),
        sa.Column("started_at", _utc(), nullable=False),
        sa.Column("meter_start_wh", sa.Double),
        sa.Column("stopped_at", _utc()),
        sa.Column("meter_stop_wh", sa.Double),
        sa.Column("stop_reason", sa.String),
        sa.Column("last_meter_wh", sa.Double),
        sa.Column("last_seq_no", sa.Integer),
        sa.UniqueConstraint("charger_id", "dedupe_key", name="uq_transactions_charger_dedupe"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_transactions_charger_stopped", "transactions", ["charger_id", "stopped_at"])
    op.create_index("ix_transactions_charger_remote", "transactions", ["charger_id", "remote_id"])
    op.create_table(
        "transaction_events",
        sa.Column(
            "transaction_id",
            sa.Integer,
            sa.ForeignKey("transactions.id", ondelete="CASCADE"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("seq_no", sa.Integer, primary_key=True, autoincrement=False),
    )
    op.create_table(
        "meter_samples",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
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


def downgrade() -> None:
    op.drop_table("meter_samples")
    op.drop_table("transaction_events")
    op.drop_table("transactions")
    op.drop_table("id_tokens")
    op.drop_table("connectors")
    op.drop_table("chargers")
