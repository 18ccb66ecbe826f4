"""Credential changes in flight: the other password that also admits a charger during a rotation, and the
security profile it is being raised to (``services.credentials``).

Existing chargers get NULL in both: nothing in flight.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("chargers") as batch:
        batch.add_column(sa.Column("previous_password_hash", sa.Text))
        batch.add_column(sa.Column("pending_security_profile", sa.SmallInteger))


def downgrade() -> None:
    with op.batch_alter_table("chargers") as batch:
        batch.drop_column("pending_security_profile")
        batch.drop_column("previous_password_hash")
