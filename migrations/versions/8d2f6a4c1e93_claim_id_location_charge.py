"""the claim's id, location and billed total as one index, so rows naming claims (the open failed charges) read a
claim's scope and total by index-only probes (the Dashboard's failures by rule and the front page's counts)

Revision ID: 8d2f6a4c1e93
Revises: 7b3d9e1f4a20
Create Date: 2026-12-05

"""

from __future__ import annotations

from alembic import op

revision = "8d2f6a4c1e93"
down_revision = "7b3d9e1f4a20"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_claim_id_location_charge", "claim", ["id", "location_id", "total_charge"])


def downgrade():
    op.drop_index("ix_claim_id_location_charge", table_name="claim")
