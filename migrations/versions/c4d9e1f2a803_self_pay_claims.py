"""self-pay claims: a claim billed to the patient, never to a payer

Revision ID: c4d9e1f2a803
Revises: c9a4e1f7d302
Create Date: 2026-12-05 09:00:00

Existing unsent claims of a self-pay payer are marked self-pay here; `flask claims bill-self-pay` then moves the
Ready ones to the patient's balance (ledger entries and history rows are the application's to write).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4d9e1f2a803'
down_revision = 'c9a4e1f7d302'
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN on both: a batch rebuild of `claim` on SQLite trips its foreign keys (and cascades).
    op.add_column('claim', sa.Column('self_pay', sa.Boolean(), server_default=sa.false(), nullable=False))
    claim = sa.table('claim', sa.column('payer_id', sa.Integer), sa.column('status', sa.String),
                     sa.column('self_pay', sa.Boolean))
    payer = sa.table('payer', sa.column('id', sa.Integer), sa.column('payer_type', sa.String))
    op.execute(
        claim.update()
        .where(claim.c.status.in_(['ready', 'held']),
               claim.c.payer_id.in_(sa.select(payer.c.id).where(payer.c.payer_type == 'self_pay')))
        .values(self_pay=True)
    )


def downgrade():
    # A plain DROP COLUMN on both (SQLite 3.35+): a batch rebuild of `claim` would cascade-delete its lines.
    op.drop_column('claim', 'self_pay')
