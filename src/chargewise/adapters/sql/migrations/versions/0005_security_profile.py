"""Security profile per charger: the OCPP security profile (1-3) a charger must connect with.

Existing chargers get NULL: admitted as before (a password if one is set).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("chargers") as batch:
        batch.add_column(sa.Column("security_profile", sa.SmallInteger))


def downgrade() -> None:
    with op.batch_alter_table("chargers") as batch:
        batch.drop_column("security_profile")
