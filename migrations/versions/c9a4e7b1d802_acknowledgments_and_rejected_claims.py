"""acknowledgments and rejected claims: 999/277CA files and their claim outcomes, a segment map on each batch
claim, and the claim status Rejected

Revision ID: c9a4e7b1d802
Revises: c4a7e2f19d10
Create Date: 2026-12-04 14:19:15.024571

"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import billing.core.db


# revision identifiers, used by Alembic.
revision = 'c9a4e7b1d802'
down_revision = 'c4a7e2f19d10'
branch_labels = None
depends_on = None


def _status_check(values: tuple[str, ...]) -> str:
    return "status IN ({})".format(", ".join(f"'{v}'" for v in values))


CLAIM = ('ready', 'held', 'submitted', 'paid', 'denied', 'voided')


def upgrade():
    with op.batch_alter_table('claim', schema=None) as batch_op:
        batch_op.drop_constraint('claimstatus', type_='check')
        batch_op.create_check_constraint('claimstatus', _status_check((*CLAIM, 'rejected')))

    op.create_table('acknowledgment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('999', '277CA', name='ackkind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('received_at', billing.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('imported_by', sa.String(length=254), nullable=False),
    sa.Column('clearinghouse_id', sa.Integer(), nullable=True),
    sa.Column('batch_id', sa.Integer(), nullable=True),
    sa.Column('verdict', sa.String(length=1), nullable=True),
    sa.Column('matched', sa.Boolean(), nullable=False),
    sa.Column('unmatched_reason', sa.String(length=500), nullable=True),
    sa.Column('summary', sa.String(length=500), nullable=False),
    sa.CheckConstraint('matched OR unmatched_reason IS NOT NULL', name=op.f('ck_acknowledgment_unmatched_has_reason')),
    sa.ForeignKeyConstraint(['batch_id'], ['submission_batch.id'], name=op.f('fk_acknowledgment_batch_id_submission_batch')),
    sa.ForeignKeyConstraint(['clearinghouse_id'], ['clearinghouse.id'], name=op.f('fk_acknowledgment_clearinghouse_id_clearinghouse')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_acknowledgment')),
    sa.UniqueConstraint('sha256', name=op.f('uq_acknowledgment_sha256'))
    )
    with op.batch_alter_table('acknowledgment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_acknowledgment_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_acknowledgment_clearinghouse_id'), ['clearinghouse_id'], unique=False)

    op.create_table('claim_acknowledgment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('acknowledgment_id', sa.Integer(), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=True),
    sa.Column('claim_reference', sa.String(length=50), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=True),
    sa.Column('transaction_control', sa.String(length=9), nullable=True),
    sa.Column('outcome', sa.Enum('accepted', 'accepted_errors', 'rejected', 'information', name='ackoutcome', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('codes', sa.String(length=200), nullable=False),
    sa.Column('message', sa.String(length=2000), nullable=False),
    sa.Column('payer_claim_number', sa.String(length=50), nullable=True),
    sa.Column('effective_on', sa.Date(), nullable=True),
    sa.Column('recorded_at', billing.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('applied', sa.Boolean(), nullable=False),
    sa.Column('note', sa.String(length=300), nullable=True),
    sa.Column('errors', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['acknowledgment_id'], ['acknowledgment.id'], name=op.f('fk_claim_acknowledgment_acknowledgment_id_acknowledgment')),
    sa.ForeignKeyConstraint(['batch_id'], ['submission_batch.id'], name=op.f('fk_claim_acknowledgment_batch_id_submission_batch')),
    sa.ForeignKeyConstraint(['claim_id'], ['claim.id'], name=op.f('fk_claim_acknowledgment_claim_id_claim')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_claim_acknowledgment'))
    )
    with op.batch_alter_table('claim_acknowledgment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_claim_acknowledgment_acknowledgment_id'), ['acknowledgment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_claim_acknowledgment_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index('ix_claim_acknowledgment_claim', ['claim_id', 'id'], unique=False)

    with op.batch_alter_table('batch_claim', schema=None) as batch_op:
        batch_op.add_column(sa.Column('transaction_control', sa.String(length=9), nullable=True))
        batch_op.add_column(sa.Column('first_segment', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('last_segment', sa.Integer(), nullable=True))


def downgrade():
    # Without this code there is no Rejected: such a claim goes back to Submitted, where it was before its rejection.
    op.execute("UPDATE claim SET status = 'submitted' WHERE status = 'rejected'")
    with op.batch_alter_table('claim', schema=None) as batch_op:
        batch_op.drop_constraint('claimstatus', type_='check')
        batch_op.create_check_constraint('claimstatus', _status_check(CLAIM))

    with op.batch_alter_table('batch_claim', schema=None) as batch_op:
        batch_op.drop_column('last_segment')
        batch_op.drop_column('first_segment')
        batch_op.drop_column('transaction_control')

    with op.batch_alter_table('claim_acknowledgment', schema=None) as batch_op:
        batch_op.drop_index('ix_claim_acknowledgment_claim')
        batch_op.drop_index(batch_op.f('ix_claim_acknowledgment_batch_id'))
        batch_op.drop_index(batch_op.f('ix_claim_acknowledgment_acknowledgment_id'))

    op.drop_table('claim_acknowledgment')
    with op.batch_alter_table('acknowledgment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_acknowledgment_clearinghouse_id'))
        batch_op.drop_index(batch_op.f('ix_acknowledgment_batch_id'))

    op.drop_table('acknowledgment')
