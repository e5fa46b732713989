"""patient payments: one row per payment a receipt prints, and the ledger entries each made

Revision ID: d3e8f1a4c702
Revises: c1a7e4f2b910
Create Date: 2026-12-04 15:10:00

"""
from alembic import op
import sqlalchemy as sa

import billing.core.db


# revision identifiers, used by Alembic.
revision = 'd3e8f1a4c702'
down_revision = 'c1a7e4f2b910'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'patient_payment',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('client_id', sa.Integer(), nullable=False),
        sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column('received_on', sa.Date(), nullable=False),
        sa.Column('applied_by', sa.String(length=20), nullable=False),
        sa.Column('memo', sa.String(length=500), nullable=True),
        sa.Column('actor', sa.String(length=254), nullable=False),
        sa.Column('created_at', billing.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('operation_key', sa.String(length=64), nullable=False),
        sa.CheckConstraint('amount > 0', name=op.f('ck_patient_payment_amount_positive')),
        sa.ForeignKeyConstraint(['client_id'], ['client.id'], name=op.f('fk_patient_payment_client_id_client')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_patient_payment')),
        sa.UniqueConstraint('operation_key', name=op.f('uq_patient_payment_operation_key')),
    )
    op.create_index(op.f('ix_patient_payment_client_id'), 'patient_payment', ['client_id'], unique=False)
    op.create_table(
        'patient_payment_part',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('payment_id', sa.Integer(), nullable=False),
        sa.Column('ledger_entry_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['ledger_entry_id'], ['ledger_entry.id'],
                                name=op.f('fk_patient_payment_part_ledger_entry_id_ledger_entry')),
        sa.ForeignKeyConstraint(['payment_id'], ['patient_payment.id'],
                                name=op.f('fk_patient_payment_part_payment_id_patient_payment')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_patient_payment_part')),
        sa.UniqueConstraint('ledger_entry_id', name=op.f('uq_patient_payment_part_ledger_entry_id')),
    )
    op.create_index(op.f('ix_patient_payment_part_payment_id'), 'patient_payment_part', ['payment_id'],
                    unique=False)


def downgrade():
    op.drop_index(op.f('ix_patient_payment_part_payment_id'), table_name='patient_payment_part')
    op.drop_table('patient_payment_part')
    op.drop_index(op.f('ix_patient_payment_client_id'), table_name='patient_payment')
    op.drop_table('patient_payment')
