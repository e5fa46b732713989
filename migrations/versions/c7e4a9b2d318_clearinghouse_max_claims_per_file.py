"""clearinghouse: the most claims one 837P file may carry (default 5,000); job runs per company or clearinghouse;
batch builds: a generation too large for a web request, built by a job with progress

Revision ID: c7e4a9b2d318
Revises: c7e3a9f1d204
Create Date: 2026-12-04 17:45:00

"""
from alembic import op
import sqlalchemy as sa

import billing.core.db


# revision identifiers, used by Alembic.
revision = 'c7e4a9b2d318'
down_revision = 'c7e3a9f1d204'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('clearinghouse', schema=None) as batch_op:
        batch_op.add_column(sa.Column('max_claims_per_file', sa.Integer(), server_default='5000', nullable=False))
        batch_op.create_check_constraint('max_claims_positive', 'max_claims_per_file >= 1')
    with op.batch_alter_table('job_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unit', sa.String(length=120), nullable=True))
    op.create_table(
        'batch_build',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('status', sa.Enum('queued', 'running', 'finished', 'failed', name='buildstatus', native_enum=False,
                                    create_constraint=True, length=8), nullable=False),
        sa.Column('payer_id', sa.Integer(), nullable=True),
        sa.Column('claim_ids', sa.JSON(), nullable=False),
        sa.Column('total', sa.Integer(), nullable=True),
        sa.Column('done', sa.Integer(), nullable=False),
        sa.Column('batch_ids', sa.JSON(), nullable=False),
        sa.Column('summary', sa.String(length=2000), nullable=True),
        sa.Column('error', sa.String(length=2000), nullable=True),
        sa.Column('requested_by', sa.String(length=254), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('requested_at', billing.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('started_at', billing.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('finished_at', billing.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint('done >= 0 AND (total IS NULL OR done <= total)', name=op.f('ck_batch_build_done_within_total')),
        sa.ForeignKeyConstraint(['payer_id'], ['payer.id'], name=op.f('fk_batch_build_payer_id_payer')),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_batch_build_user_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_batch_build')),
    )
    op.create_index('ix_batch_build_status', 'batch_build', ['status', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_batch_build_status', table_name='batch_build')
    op.drop_table('batch_build')
    with op.batch_alter_table('job_run', schema=None) as batch_op:
        batch_op.drop_column('unit')
    with op.batch_alter_table('clearinghouse', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_clearinghouse_max_claims_positive'), type_='check')
        batch_op.drop_column('max_claims_per_file')
