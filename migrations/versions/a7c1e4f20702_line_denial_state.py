"""line denial state: a denied service line is open until a biller decides, with the payer's denial date

Revision ID: a7c1e4f20702
Revises: f6b9d2e3a701
Create Date: 2026-12-04 02:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7c1e4f20702'
down_revision = 'f6b9d2e3a701'
branch_labels = None
depends_on = None

STATES = ('open', 'appealed', 'resubmitted', 'corrected', 'written_off', 'billed_to_patient', 'paid_later',
          'cleared')


def upgrade():
    # Lines denied before this revision have no state: the Denied work starts from the next posting.
    with op.batch_alter_table('claim_line', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'denial_state', sa.Enum(*STATES, name='linedenialstate', native_enum=False, create_constraint=True),
            nullable=True))
        batch_op.add_column(sa.Column('denied_on', sa.Date(), nullable=True))
        batch_op.create_index(batch_op.f('ix_claim_line_denial_state'), ['denial_state'], unique=False)


def downgrade():
    with op.batch_alter_table('claim_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_claim_line_denial_state'))
        batch_op.drop_column('denied_on')
        batch_op.drop_column('denial_state')
