"""claims near their filing deadline counted from indexes alone: the live corrections as a partial index, and the
claim id added to ix_claim_status_deadline (the live-claim test joins on it)

Revision ID: 5a2c8e4f1b37
Revises: 4e1a7c3b8d26
Create Date: 2026-12-05

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "5a2c8e4f1b37"
down_revision = "4e1a7c3b8d26"
branch_labels = None
depends_on = None

LIVE_CORRECTION = sa.text("frequency_code = '7' AND status <> 'voided'")
DEADLINE = ["status", "filing_deadline", "location_id", "total_charge"]


def upgrade():
    op.create_index("ix_claim_live_corrections", "claim", ["original_claim_id"], postgresql_where=LIVE_CORRECTION,
                    sqlite_where=LIVE_CORRECTION)
    op.drop_index("ix_claim_status_deadline", table_name="claim")
    op.create_index("ix_claim_status_deadline", "claim", [*DEADLINE, "id"])


def downgrade():
    op.drop_index("ix_claim_status_deadline", table_name="claim")
    op.create_index("ix_claim_status_deadline", "claim", DEADLINE)
    op.drop_index("ix_claim_live_corrections", table_name="claim")
