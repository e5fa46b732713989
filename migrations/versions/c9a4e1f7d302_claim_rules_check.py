"""claim rules check: the last billing run that evaluated each claim, and the claim's version it saw

Revision ID: c9a4e1f7d302
Revises: c9a4e7b1d802
Create Date: 2026-12-05 09:00:00

"""
from alembic import op
import sqlalchemy as sa

import billing.core.db


# revision identifiers, used by Alembic.
revision = 'c9a4e1f7d302'
down_revision = 'c9a4e7b1d802'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('claim_rules_check',
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.Column('claim_version', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('checked_at', billing.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['claim_id'], ['claim.id'], name=op.f('fk_claim_rules_check_claim_id_claim'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['run_id'], ['billing_run.id'], name=op.f('fk_claim_rules_check_run_id_billing_run')),
    sa.PrimaryKeyConstraint('claim_id', name=op.f('pk_claim_rules_check'))
    )
    with op.batch_alter_table('claim_rules_check', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_claim_rules_check_run_id'), ['run_id'], unique=False)


def downgrade():
    with op.batch_alter_table('claim_rules_check', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_claim_rules_check_run_id'))
    op.drop_table('claim_rules_check')
