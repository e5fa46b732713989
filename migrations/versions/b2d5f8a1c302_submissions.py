"""submissions: clearinghouses, batches, control numbers

Revision ID: b2d5f8a1c302
Revises: a1c4e7f0b201
Create Date: 2026-11-23 09:10:00

"""
from alembic import op
import sqlalchemy as sa

import billing.core.db


# revision identifiers, used by Alembic.
revision = 'b2d5f8a1c302'
down_revision = 'a1c4e7f0b201'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('clearinghouse',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('isa_sender_qualifier', sa.String(length=2), nullable=False),
    sa.Column('isa_sender_id', sa.String(length=15), nullable=False),
    sa.Column('isa_receiver_qualifier', sa.String(length=2), nullable=False),
    sa.Column('isa_receiver_id', sa.String(length=15), nullable=False),
    sa.Column('gs_sender_code', sa.String(length=15), nullable=False),
    sa.Column('gs_receiver_code', sa.String(length=15), nullable=False),
    sa.Column('submitter_name', sa.String(length=60), nullable=False),
    sa.Column('submitter_etin', sa.String(length=80), nullable=False),
    sa.Column('submitter_contact_name', sa.String(length=60), nullable=False),
    sa.Column('submitter_contact_phone', sa.String(length=10), nullable=True),
    sa.Column('submitter_contact_email', sa.String(length=80), nullable=True),
    sa.Column('receiver_name', sa.String(length=60), nullable=False),
    sa.Column('receiver_id', sa.String(length=80), nullable=False),
    sa.Column('usage_indicator', sa.String(length=1), nullable=False),
    sa.Column('sftp_host', sa.String(length=255), nullable=True),
    sa.Column('sftp_port', sa.Integer(), nullable=False),
    sa.Column('sftp_username', sa.String(length=80), nullable=True),
    sa.Column('sftp_password', sa.String(length=255), nullable=True),
    sa.Column('sftp_private_key', sa.Text(), nullable=True),
    sa.Column('sftp_host_key', sa.Text(), nullable=True),
    sa.Column('inbound_folder', sa.String(length=255), nullable=False),
    sa.Column('outbound_folder', sa.String(length=255), nullable=False),
    sa.Column('file_name_pattern', sa.String(length=120), nullable=False),
    sa.Column('last_control_number', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.CheckConstraint("usage_indicator IN ('T', 'P')", name=op.f('ck_clearinghouse_usage_t_or_p')),
    sa.CheckConstraint('last_control_number BETWEEN 0 AND 999999999', name=op.f('ck_clearinghouse_control_fits_isa13')),
    sa.CheckConstraint('sftp_port BETWEEN 1 AND 65535', name=op.f('ck_clearinghouse_port_range')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clearinghouse')),
    sa.UniqueConstraint('name', name=op.f('uq_clearinghouse_name'))
    )
    op.create_table('submission_batch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clearinghouse_id', sa.Integer(), nullable=False),
    sa.Column('payer_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('generated', 'sent', 'cancelled', name='batchstatus', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('control_number', sa.Integer(), nullable=False),
    sa.Column('transaction_count', sa.Integer(), nullable=False),
    sa.Column('usage_indicator', sa.String(length=1), nullable=False),
    sa.Column('claim_count', sa.Integer(), nullable=False),
    sa.Column('total_charge', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('created_at', billing.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=254), nullable=False),
    sa.Column('sent_at', billing.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('sent_by', sa.String(length=254), nullable=True),
    sa.Column('sent_how', sa.Enum('sftp', 'manual', name='sendmethod', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('ack_code', sa.String(length=1), nullable=True),
    sa.CheckConstraint("(status = 'sent') = (sent_at IS NOT NULL)", name=op.f('ck_submission_batch_sent_has_timestamp')),
    sa.CheckConstraint('claim_count >= 0', name=op.f('ck_submission_batch_claim_count_not_negative')),
    sa.ForeignKeyConstraint(['clearinghouse_id'], ['clearinghouse.id'], name=op.f('fk_submission_batch_clearinghouse_id_clearinghouse')),
    sa.ForeignKeyConstraint(['payer_id'], ['payer.id'], name=op.f('fk_submission_batch_payer_id_payer')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_submission_batch')),
    sa.UniqueConstraint('clearinghouse_id', 'control_number', name=op.f('uq_submission_batch_clearinghouse_id_control_number'))
    )
    with op.batch_alter_table('submission_batch', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_submission_batch_payer_id'), ['payer_id'], unique=False)
        batch_op.create_index('ix_submission_batch_status', ['status', 'id'], unique=False)

    op.create_table('clearinghouse_response',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clearinghouse_id', sa.Integer(), nullable=False),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('transaction_type', sa.String(length=3), nullable=True),
    sa.Column('batch_id', sa.Integer(), nullable=True),
    sa.Column('received_at', billing.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['submission_batch.id'], name=op.f('fk_clearinghouse_response_batch_id_submission_batch')),
    sa.ForeignKeyConstraint(['clearinghouse_id'], ['clearinghouse.id'], name=op.f('fk_clearinghouse_response_clearinghouse_id_clearinghouse')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clearinghouse_response')),
    sa.UniqueConstraint('clearinghouse_id', 'file_name', name=op.f('uq_clearinghouse_response_clearinghouse_id_file_name'))
    )
    with op.batch_alter_table('clearinghouse_response', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_clearinghouse_response_batch_id'), ['batch_id'], unique=False)

    op.create_table('batch_claim',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('frequency_code', sa.String(length=1), nullable=False),
    sa.Column('charge', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('claim_version', sa.Integer(), nullable=False),
    sa.Column('pending', sa.Boolean(), nullable=False),
    sa.CheckConstraint("frequency_code IN ('1', '7', '8')", name=op.f('ck_batch_claim_frequency_code_known')),
    sa.ForeignKeyConstraint(['batch_id'], ['submission_batch.id'], name=op.f('fk_batch_claim_batch_id_submission_batch'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['claim_id'], ['claim.id'], name=op.f('fk_batch_claim_claim_id_claim')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_batch_claim')),
    sa.UniqueConstraint('batch_id', 'claim_id', name=op.f('uq_batch_claim_batch_id_claim_id'))
    )
    with op.batch_alter_table('batch_claim', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_batch_claim_claim_id'), ['claim_id'], unique=False)
        # A claim waits in at most one unsent batch.
        batch_op.create_index('uq_batch_claim_pending_claim', ['claim_id'], unique=True, sqlite_where=sa.text('pending'), postgresql_where=sa.text('pending'))

    with op.batch_alter_table('payer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('clearinghouse_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('clearinghouse_payer_id', sa.String(length=80), nullable=True))
        batch_op.create_index(batch_op.f('ix_payer_clearinghouse_id'), ['clearinghouse_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_payer_clearinghouse_id_clearinghouse'), 'clearinghouse', ['clearinghouse_id'], ['id'])


def downgrade():
    with op.batch_alter_table('payer', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_payer_clearinghouse_id_clearinghouse'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_payer_clearinghouse_id'))
        batch_op.drop_column('clearinghouse_payer_id')
        batch_op.drop_column('clearinghouse_id')

    with op.batch_alter_table('batch_claim', schema=None) as batch_op:
        batch_op.drop_index('uq_batch_claim_pending_claim', sqlite_where=sa.text('pending'), postgresql_where=sa.text('pending'))
        batch_op.drop_index(batch_op.f('ix_batch_claim_claim_id'))

    op.drop_table('batch_claim')
    with op.batch_alter_table('clearinghouse_response', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_clearinghouse_response_batch_id'))

    op.drop_table('clearinghouse_response')
    with op.batch_alter_table('submission_batch', schema=None) as batch_op:
        batch_op.drop_index('ix_submission_batch_status')
        batch_op.drop_index(batch_op.f('ix_submission_batch_payer_id'))

    op.drop_table('submission_batch')
    op.drop_table('clearinghouse')
