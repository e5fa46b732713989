"""saved list filters per user (the claims queue's "Save filter"); the claims queue's index (needs review: f1c3a5e7b920's partial index)

Revision ID: c7e3a9f1d204
Revises: d7a1c3e5f902
Create Date: 2026-12-04 17:40:00

"""
from alembic import op
import sqlalchemy as sa

import billing.core.db


# revision identifiers, used by Alembic.
revision = 'c7e3a9f1d204'
down_revision = 'd7a1c3e5f902'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'saved_filter',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('view', sa.String(length=40), nullable=False),
        sa.Column('name', sa.String(length=60), nullable=False),
        sa.Column('query', sa.String(length=2000), nullable=False),
        sa.Column('created_at', billing.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_saved_filter_user_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_filter')),
        sa.UniqueConstraint('user_id', 'view', 'name', name=op.f('uq_saved_filter_user_id_view_name')),
    )
    op.create_index(op.f('ix_saved_filter_user_id'), 'saved_filter', ['user_id'], unique=False)
    op.create_index('ix_claim_status_self_pay', 'claim', ['status', 'self_pay', 'id', 'total_charge'], unique=False)


def downgrade():
    op.drop_index('ix_claim_status_self_pay', table_name='claim')
    op.drop_index(op.f('ix_saved_filter_user_id'), table_name='saved_filter')
    op.drop_table('saved_filter')
