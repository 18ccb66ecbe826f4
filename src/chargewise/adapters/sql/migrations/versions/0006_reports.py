"""Reports: charging limits, EV charging needs and schedules, multi-part reports, firmware publications and
reservation updates (``tables``, "what chargers report besides transactions").

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table -> its key columns (String unless an id); every table adds a JSON text "body"
_TABLES = {
    "charging_limits": ("charger_id", "evse_id", "source"),
    "ev_charging_needs": ("charger_id", "evse_id"),
    "ev_charging_schedules": ("charger_id", "evse_id"),
    "report_parts": ("charger_id", "kind", "request_id", "seq_no"),
    "firmware_publications": ("charger_id",),
    "reservation_updates": ("charger_id", "reservation_id"),
}
_INTEGER_KEYS = {"evse_id", "request_id", "seq_no", "reservation_id"}


def _key(name: str) -> sa.Column[object]:
    if name in _INTEGER_KEYS:
        return sa.Column(name, sa.Integer, primary_key=True, autoincrement=False)
    return sa.Column(name, sa.String, primary_key=True)


def upgrade() -> None:
    for table, keys in _TABLES.items():
        op.create_table(table, *(_key(name) for name in keys), sa.Column("body", sa.Text, nullable=False))


def downgrade() -> None:
    for table in reversed(_TABLES):
        op.drop_table(table)
