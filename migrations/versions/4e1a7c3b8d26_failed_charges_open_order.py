"""the Failed Charges list's order (open failures, oldest first) as a partial index, so its first page reads 20 rows

Revision ID: 4e1a7c3b8d26
Revises: 3d8f2a6c9e15
Create Date: 2026-12-05

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "4e1a7c3b8d26"
down_revision = "3d8f2a6c9e15"
branch_labels = None
depends_on = None

OPEN_ONLY = sa.text("resolved_at IS NULL")


def upgrade():
    op.create_index("ix_failed_charge_open_first", "failed_charge", ["first_failed_at", "id"],
                    postgresql_where=OPEN_ONLY, sqlite_where=OPEN_ONLY)


def downgrade():
    op.drop_index("ix_failed_charge_open_first", table_name="failed_charge")
