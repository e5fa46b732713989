"""operation keys: a money form's one-time key, stored with what its first submit did

Revision ID: b8e2d4f60801
Revises: a7c1e4f20704
Create Date: 2026-12-04 11:50:00

"""
from alembic import op
import sqlalchemy as sa

import billing.core.db


# revision identifiers, used by Alembic.
revision = 'b8e2d4f60801'
down_revision = 'a7c1e4f20704'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('operation_key',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('operation', sa.String(length=60), nullable=False),
    sa.Column('subject', sa.String(length=60), nullable=False),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('used_at', billing.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('outcome', sa.Text(), nullable=False),
    sa.Column('target', sa.String(length=255), nullable=True),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_operation_key'))
    )


def downgrade():
    op.drop_table('operation_key')
