"""dashboard: a covering index on claim (service date, status, location, payer, billed) for the KPI figures

Revision ID: d7a1c3e5f902
Revises: c7e1a9f30b52
Create Date: 2026-12-04

"""

from alembic import op

revision = "d7a1c3e5f902"
down_revision = "c7e1a9f30b52"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("claim", schema=None) as batch_op:
        batch_op.create_index(
            "ix_claim_dashboard", ["service_date", "status", "location_id", "payer_id", "total_charge"], unique=False
        )


def downgrade():
    with op.batch_alter_table("claim", schema=None) as batch_op:
        batch_op.drop_index("ix_claim_dashboard")
