"""clearinghouse: the most claims one 837P file may carry (default 5,000); job runs per company or clearinghouse

Revision ID: c7e4a9b2d318
Revises: b5d8e2a4c917
Create Date: 2026-12-04 17:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c7e4a9b2d318'
down_revision = 'b5d8e2a4c917'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('clearinghouse', schema=None) as batch_op:
        batch_op.add_column(sa.Column('max_claims_per_file', sa.Integer(), server_default='5000', nullable=False))
        batch_op.create_check_constraint('max_claims_positive', 'max_claims_per_file >= 1')
    with op.batch_alter_table('job_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unit', sa.String(length=120), nullable=True))


def downgrade():
    with op.batch_alter_table('job_run', schema=None) as batch_op:
        batch_op.drop_column('unit')
    with op.batch_alter_table('clearinghouse', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_clearinghouse_max_claims_positive'), type_='check')
        batch_op.drop_column('max_claims_per_file')
