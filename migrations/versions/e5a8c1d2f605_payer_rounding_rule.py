"""payer rounding rule: per code, CMS 8-minute rule over the day's total, or whole units

Revision ID: e5a8c1d2f605
Revises: d4f7b0c3e504
Create Date: 2026-11-30 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e5a8c1d2f605'
down_revision = 'd4f7b0c3e504'
branch_labels = None
depends_on = None


def upgrade():
    # Existing payers keep today's behaviour: per session, each code by its own rule.
    with op.batch_alter_table('payer', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'rounding_rule',
            sa.Enum('per_code', 'cms_day_total', 'whole_units', name='payerroundingrule', native_enum=False,
                    create_constraint=True),
            server_default='per_code',
            nullable=False,
        ))


def downgrade():
    with op.batch_alter_table('payer', schema=None) as batch_op:
        batch_op.drop_column('rounding_rule')
