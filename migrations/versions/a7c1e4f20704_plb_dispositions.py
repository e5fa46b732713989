"""provider-level adjustments (PLB) get a disposition: income, applied to a claim, open in A/R, or settled

Revision ID: a7c1e4f20704
Revises: a7c1e4f20703
Create Date: 2026-12-04 02:30:00

"""
from alembic import op
import sqlalchemy as sa

import billing.core.db


# revision identifiers, used by Alembic.
revision = 'a7c1e4f20704'
down_revision = 'a7c1e4f20703'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('provider_adjustment', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'disposition',
            sa.Enum('income', 'applied', 'open', 'settled', name='plbdisposition', native_enum=False,
                    create_constraint=True),
            server_default='open', nullable=False))
        batch_op.add_column(sa.Column('applied_amount', sa.Numeric(precision=12, scale=2), server_default='0',
                                      nullable=False))
        batch_op.add_column(sa.Column('claim_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('note', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('disposed_at', billing.core.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('disposed_by', sa.String(length=254), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_provider_adjustment_claim_id_claim'), 'claim', ['claim_id'],
                                    ['id'])
        batch_op.create_index(batch_op.f('ix_provider_adjustment_claim_id'), ['claim_id'], unique=False)
    # Interest, and money added with no claim named, was always income; every offset stays open in A/R
    # until a biller applies or settles it.
    op.execute("UPDATE provider_adjustment SET disposition = 'income' WHERE reason_code = 'L6' OR amount < 0")

    op.create_table('provider_adjustment_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider_adjustment_id', sa.Integer(), nullable=False),
    sa.Column('ledger_entry_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['ledger_entry_id'], ['ledger_entry.id'],
                            name=op.f('fk_provider_adjustment_entry_ledger_entry_id_ledger_entry')),
    sa.ForeignKeyConstraint(['provider_adjustment_id'], ['provider_adjustment.id'],
                            name=op.f('fk_provider_adjustment_entry_provider_adjustment_id_provider_adjustment')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_provider_adjustment_entry')),
    sa.UniqueConstraint('ledger_entry_id', name=op.f('uq_provider_adjustment_entry_ledger_entry_id'))
    )
    with op.batch_alter_table('provider_adjustment_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_provider_adjustment_entry_provider_adjustment_id'),
                              ['provider_adjustment_id'], unique=False)


def downgrade():
    with op.batch_alter_table('provider_adjustment_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_provider_adjustment_entry_provider_adjustment_id'))
    op.drop_table('provider_adjustment_entry')
    with op.batch_alter_table('provider_adjustment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_provider_adjustment_claim_id'))
        batch_op.drop_constraint(batch_op.f('fk_provider_adjustment_claim_id_claim'), type_='foreignkey')
        batch_op.drop_column('disposed_by')
        batch_op.drop_column('disposed_at')
        batch_op.drop_column('note')
        batch_op.drop_column('claim_id')
        batch_op.drop_column('applied_amount')
        batch_op.drop_column('disposition')
