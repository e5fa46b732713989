"""patient statements: dunning levels, statement history, a no-statements flag per client

Revision ID: b5d8e2a4c917
Revises: e2b7c9d4a611
Create Date: 2026-12-04 15:30:00

"""
from alembic import op
import sqlalchemy as sa

import billing.core.db


# revision identifiers, used by Alembic.
revision = 'b5d8e2a4c917'
down_revision = 'e2b7c9d4a611'
branch_labels = None
depends_on = None

#: The levels a practice starts with; an admin edits them on the Dunning levels page.
DEFAULT_LEVELS = [
    (0, "Thank you for your prompt payment."),
    (31, "Your balance is past due. Please pay the amount due or call our office."),
    (61, "Second notice: your balance is more than 60 days past due. Please pay now or call to set up a plan."),
    (91, "Final notice: your balance is more than 90 days past due. Please call our office within 10 days."),
]


def upgrade():
    with op.batch_alter_table('client', schema=None) as batch_op:
        batch_op.add_column(sa.Column('no_statements', sa.Boolean(), server_default=sa.false(), nullable=False))
    levels = op.create_table(
        'dunning_level',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('min_days', sa.Integer(), nullable=False),
        sa.Column('message', sa.String(length=300), nullable=False),
        sa.CheckConstraint('min_days >= 0', name=op.f('ck_dunning_level_min_days_not_negative')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_dunning_level')),
        sa.UniqueConstraint('min_days', name=op.f('uq_dunning_level_min_days')),
    )
    op.bulk_insert(levels, [{'min_days': days, 'message': text} for days, text in DEFAULT_LEVELS])
    op.create_table(
        'statement_record',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('client_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.String(length=40), nullable=False),
        sa.Column('statement_on', sa.Date(), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=False),
        sa.Column('addressed_to', sa.String(length=120), nullable=False),
        sa.Column('client_balance', sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column('amount_due', sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column('dunning_days', sa.Integer(), nullable=True),
        sa.Column('actor', sa.String(length=254), nullable=False),
        sa.Column('created_at', billing.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['client_id'], ['client.id'], name=op.f('fk_statement_record_client_id_client')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_statement_record')),
        sa.UniqueConstraint('client_id', 'statement_on', name=op.f('uq_statement_record_client_id_statement_on')),
    )
    op.create_index(op.f('ix_statement_record_client_id'), 'statement_record', ['client_id'], unique=False)
    op.create_index(op.f('ix_statement_record_number'), 'statement_record', ['number'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_statement_record_number'), table_name='statement_record')
    op.drop_index(op.f('ix_statement_record_client_id'), table_name='statement_record')
    op.drop_table('statement_record')
    op.drop_table('dunning_level')
    with op.batch_alter_table('client', schema=None) as batch_op:
        batch_op.drop_column('no_statements')
