"""claim status inquiries (276) and responses (277); the answers are append-only

Revision ID: c0b68d9b0791
Revises: a7d2c4e6f813
Create Date: 2026-12-04 17:16:59.043541

"""
from alembic import op
import sqlalchemy as sa

import billing.core.db


# revision identifiers, used by Alembic.
revision = 'c0b68d9b0791'
down_revision = 'a7d2c4e6f813'
branch_labels = None
depends_on = None

TABLE = "claim_status_response"


def _append_only_guard(create: bool) -> None:
    """As for the access log: the database refuses UPDATE and DELETE on the payer's answers."""
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        statements = [
            f"CREATE TRIGGER {TABLE}_no_{verb.lower()} BEFORE {verb} ON {TABLE} "
            f"BEGIN SELECT RAISE(ABORT, '{TABLE} is append-only'); END"
            for verb in ("UPDATE", "DELETE")
        ] if create else [f"DROP TRIGGER {TABLE}_no_update", f"DROP TRIGGER {TABLE}_no_delete"]
    elif dialect == "postgresql":
        statements = [
            f"CREATE FUNCTION {TABLE}_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{TABLE} is append-only'; END $$",
            f"CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE} "
            f"FOR EACH ROW EXECUTE FUNCTION {TABLE}_append_only()",
        ] if create else [f"DROP TRIGGER {TABLE}_append_only ON {TABLE}", f"DROP FUNCTION {TABLE}_append_only()"]
    else:
        statements = []
    for statement in statements:
        op.execute(statement)


def upgrade():
    op.create_table('status_inquiry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clearinghouse_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('generated', 'sent', name='inquirystatus', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('control_number', sa.Integer(), nullable=False),
    sa.Column('claim_count', sa.Integer(), nullable=False),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('created_at', billing.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=254), nullable=False),
    sa.Column('sent_at', billing.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('sent_by', sa.String(length=254), nullable=True),
    sa.CheckConstraint("(status = 'sent') = (sent_at IS NOT NULL)", name=op.f('ck_status_inquiry_sent_has_timestamp')),
    sa.ForeignKeyConstraint(['clearinghouse_id'], ['clearinghouse.id'], name=op.f('fk_status_inquiry_clearinghouse_id_clearinghouse')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_status_inquiry')),
    sa.UniqueConstraint('clearinghouse_id', 'control_number', name=op.f('uq_status_inquiry_clearinghouse_id_control_number'))
    )
    op.create_table('status_response_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('received_at', billing.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('imported_by', sa.String(length=254), nullable=False),
    sa.Column('clearinghouse_id', sa.Integer(), nullable=True),
    sa.Column('summary', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['clearinghouse_id'], ['clearinghouse.id'], name=op.f('fk_status_response_file_clearinghouse_id_clearinghouse')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_status_response_file')),
    sa.UniqueConstraint('sha256', name=op.f('uq_status_response_file_sha256'))
    )
    with op.batch_alter_table('status_response_file', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_status_response_file_clearinghouse_id'), ['clearinghouse_id'], unique=False)

    op.create_table('claim_status_response',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('file_id', sa.Integer(), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=True),
    sa.Column('claim_reference', sa.String(length=50), nullable=False),
    sa.Column('inquiry_id', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.Enum('pending', 'paid', 'denied', 'finalized', 'not_found', 'returned', 'received', 'no_answer', 'information', name='statusoutcome', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('codes', sa.String(length=200), nullable=False),
    sa.Column('message', sa.String(length=2000), nullable=False),
    sa.Column('effective_on', sa.Date(), nullable=True),
    sa.Column('charge', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('paid', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('finalized_on', sa.Date(), nullable=True),
    sa.Column('check_issued_on', sa.Date(), nullable=True),
    sa.Column('check_number', sa.String(length=16), nullable=True),
    sa.Column('payer_claim_number', sa.String(length=50), nullable=True),
    sa.Column('heard_on', sa.Date(), nullable=False),
    sa.Column('next_follow_up_on', sa.Date(), nullable=True),
    sa.Column('recorded_at', billing.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('applied', sa.Boolean(), nullable=False),
    sa.Column('note', sa.String(length=300), nullable=True),
    sa.ForeignKeyConstraint(['claim_id'], ['claim.id'], name=op.f('fk_claim_status_response_claim_id_claim')),
    sa.ForeignKeyConstraint(['file_id'], ['status_response_file.id'], name=op.f('fk_claim_status_response_file_id_status_response_file')),
    sa.ForeignKeyConstraint(['inquiry_id'], ['status_inquiry.id'], name=op.f('fk_claim_status_response_inquiry_id_status_inquiry')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_claim_status_response'))
    )
    with op.batch_alter_table('claim_status_response', schema=None) as batch_op:
        batch_op.create_index('ix_claim_status_response_claim', ['claim_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_claim_status_response_file_id'), ['file_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_claim_status_response_inquiry_id'), ['inquiry_id'], unique=False)

    op.create_table('status_inquiry_claim',
    sa.Column('inquiry_id', sa.Integer(), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.Column('trace', sa.String(length=50), nullable=False),
    sa.ForeignKeyConstraint(['claim_id'], ['claim.id'], name=op.f('fk_status_inquiry_claim_claim_id_claim')),
    sa.ForeignKeyConstraint(['inquiry_id'], ['status_inquiry.id'], name=op.f('fk_status_inquiry_claim_inquiry_id_status_inquiry')),
    sa.PrimaryKeyConstraint('inquiry_id', 'claim_id', name=op.f('pk_status_inquiry_claim'))
    )
    with op.batch_alter_table('status_inquiry_claim', schema=None) as batch_op:
        batch_op.create_index('ix_status_inquiry_claim_claim', ['claim_id', 'inquiry_id'], unique=False)
    _append_only_guard(create=True)


def downgrade():
    _append_only_guard(create=False)
    with op.batch_alter_table('status_inquiry_claim', schema=None) as batch_op:
        batch_op.drop_index('ix_status_inquiry_claim_claim')

    op.drop_table('status_inquiry_claim')
    with op.batch_alter_table('claim_status_response', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_claim_status_response_inquiry_id'))
        batch_op.drop_index(batch_op.f('ix_claim_status_response_file_id'))
        batch_op.drop_index('ix_claim_status_response_claim')

    op.drop_table('claim_status_response')
    with op.batch_alter_table('status_response_file', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_status_response_file_clearinghouse_id'))

    op.drop_table('status_response_file')
    op.drop_table('status_inquiry')
