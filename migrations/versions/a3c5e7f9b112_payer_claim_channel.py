"""payer claim channel: EDI (837P batches) or paper (printed CMS-1500)

Revision ID: a3c5e7f9b112
Revises: d3e8f1a4c702
Create Date: 2026-12-04 15:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a3c5e7f9b112'
down_revision = 'd3e8f1a4c702'
branch_labels = None
depends_on = None


def upgrade():
    # Every existing payer keeps receiving 837P files.
    with op.batch_alter_table('payer', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'claim_channel',
            sa.Enum('edi', 'paper', name='claimchannel', native_enum=False, create_constraint=True),
            server_default='edi',
            nullable=False,
        ))


def downgrade():
    with op.batch_alter_table('payer', schema=None) as batch_op:
        batch_op.drop_column('claim_channel')
