"""payer aliases: names a payer prints on its 835s that a biller taught us mean one of our payers

Revision ID: a7c1e4f20703
Revises: a7c1e4f20702
Create Date: 2026-12-04 02:30:00

"""
from alembic import op
import sqlalchemy as sa

import billing.core.db


# revision identifiers, used by Alembic.
revision = 'a7c1e4f20703'
down_revision = 'a7c1e4f20702'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('payer_alias',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('payer_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('created_by', sa.String(length=254), nullable=False),
    sa.Column('created_at', billing.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['payer_id'], ['payer.id'], name=op.f('fk_payer_alias_payer_id_payer')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payer_alias')),
    sa.UniqueConstraint('name', name=op.f('uq_payer_alias_name'))
    )
    with op.batch_alter_table('payer_alias', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payer_alias_payer_id'), ['payer_id'], unique=False)


def downgrade():
    with op.batch_alter_table('payer_alias', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payer_alias_payer_id'))
    op.drop_table('payer_alias')
