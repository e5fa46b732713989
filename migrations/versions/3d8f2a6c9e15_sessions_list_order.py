"""the Sessions list's order (service date, start time) as one index, so its first page reads 20 rows at any size

Revision ID: 3d8f2a6c9e15
Revises: 9c3e5a7b2d41
Create Date: 2026-12-05

"""

from __future__ import annotations

from alembic import op

revision = "3d8f2a6c9e15"
down_revision = "9c3e5a7b2d41"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_therapy_session_date_start", "therapy_session", ["service_date", "start_time"])


def downgrade():
    op.drop_index("ix_therapy_session_date_start", table_name="therapy_session")
