"""rules: an index on claim (client, service date) for the duplicate check, whose cost must not grow with the day's volume

Revision ID: 15b5677537d6
Revises: f6b45570d331
Create Date: 2026-12-04

"""

from alembic import op

revision = "15b5677537d6"
down_revision = "f6b45570d331"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("claim", schema=None) as batch_op:
        batch_op.create_index("ix_claim_client_date", ["client_id", "service_date"], unique=False)


def downgrade():
    with op.batch_alter_table("claim", schema=None) as batch_op:
        batch_op.drop_index("ix_claim_client_date")
