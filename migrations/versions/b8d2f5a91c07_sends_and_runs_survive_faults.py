"""sends and runs survive faults: a batch is Sending before its upload; dead runs and exports close as interrupted

Revision ID: b8d2f5a91c07
Revises: b8d2f5a61c01
Create Date: 2026-12-05 10:00:00

"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import billing.core.db

# revision identifiers, used by Alembic.
revision = 'b8d2f5a91c07'
down_revision = 'b8d2f5a61c01'
branch_labels = None
depends_on = None


def _status_check(values: tuple[str, ...]) -> str:
    return "status IN ({})".format(", ".join(f"'{v}'" for v in values))


BATCH = ('generated', 'sent', 'cancelled')
JOB_RUN = ('running', 'succeeded', 'failed', 'skipped')
EXPORT = ('queued', 'running', 'finished', 'failed')


def upgrade():
    with op.batch_alter_table('submission_batch', schema=None) as batch_op:
        batch_op.add_column(sa.Column('send_started_at', billing.core.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('send_started_by', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('send_attempts', sa.Integer(), server_default='0', nullable=False))
        batch_op.drop_constraint('batchstatus', type_='check')
        batch_op.create_check_constraint('batchstatus', _status_check(('generated', 'sending', *BATCH[1:])))
        batch_op.create_check_constraint('sending_has_timestamp',
                                         "status != 'sending' OR send_started_at IS NOT NULL")

    # 'interrupted' is longer than any earlier status: the columns widen with their CHECKs.
    with op.batch_alter_table('job_run', schema=None) as batch_op:
        batch_op.drop_constraint('jobrunstatus', type_='check')
        batch_op.alter_column('status', existing_type=sa.String(length=9), type_=sa.String(length=11),
                              existing_nullable=False)
        batch_op.create_check_constraint('jobrunstatus', _status_check((*JOB_RUN, 'interrupted')))

    with op.batch_alter_table('export_run', schema=None) as batch_op:
        batch_op.drop_constraint('exportstatus', type_='check')
        batch_op.alter_column('status', existing_type=sa.String(length=8), type_=sa.String(length=11),
                              existing_nullable=False)
        batch_op.create_check_constraint('exportstatus', _status_check((*EXPORT, 'interrupted')))
        batch_op.add_column(sa.Column('host', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('attempt', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('retry_of_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_export_run_retry_of_id_export_run'), 'export_run',
                                    ['retry_of_id'], ['id'])
        batch_op.create_check_constraint('attempt_positive', 'attempt >= 1')


def downgrade():
    # A downgrade finds no Sending batch and no interrupted run: those states exist only with this code.
    op.execute("UPDATE submission_batch SET status = 'generated' WHERE status = 'sending'")
    op.execute("UPDATE job_run SET status = 'failed' WHERE status = 'interrupted'")
    op.execute("UPDATE export_run SET status = 'failed' WHERE status = 'interrupted'")
    with op.batch_alter_table('export_run', schema=None) as batch_op:
        batch_op.drop_constraint('attempt_positive', type_='check')
        batch_op.drop_constraint(batch_op.f('fk_export_run_retry_of_id_export_run'), type_='foreignkey')
        batch_op.drop_column('retry_of_id')
        batch_op.drop_column('attempt')
        batch_op.drop_column('host')
        batch_op.drop_constraint('exportstatus', type_='check')
        batch_op.alter_column('status', existing_type=sa.String(length=11), type_=sa.String(length=8),
                              existing_nullable=False)
        batch_op.create_check_constraint('exportstatus', _status_check(EXPORT))

    with op.batch_alter_table('job_run', schema=None) as batch_op:
        batch_op.drop_constraint('jobrunstatus', type_='check')
        batch_op.alter_column('status', existing_type=sa.String(length=11), type_=sa.String(length=9),
                              existing_nullable=False)
        batch_op.create_check_constraint('jobrunstatus', _status_check(JOB_RUN))

    with op.batch_alter_table('submission_batch', schema=None) as batch_op:
        batch_op.drop_constraint('sending_has_timestamp', type_='check')
        batch_op.drop_constraint('batchstatus', type_='check')
        batch_op.create_check_constraint('batchstatus', _status_check(BATCH))
        batch_op.drop_column('send_attempts')
        batch_op.drop_column('send_started_by')
        batch_op.drop_column('send_started_at')
