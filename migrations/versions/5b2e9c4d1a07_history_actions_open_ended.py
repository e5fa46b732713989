"""history actions open-ended: no CHECK on status_change.action, so new actions need no migration

Revision ID: 5b2e9c4d1a07
Revises: 4013d7c1b528
Create Date: 2026-11-23 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5b2e9c4d1a07'
down_revision = '4013d7c1b528'
branch_labels = None
depends_on = None


# SQLite rebuilds the table in batch mode, which drops its append-only triggers: they are made again.
SQLITE_TRIGGERS = [
    "CREATE TRIGGER status_change_no_update BEFORE UPDATE ON status_change "
    "BEGIN SELECT RAISE(ABORT, 'status_change is append-only'); END",
    "CREATE TRIGGER status_change_no_delete BEFORE DELETE ON status_change "
    "BEGIN SELECT RAISE(ABORT, 'status_change is append-only'); END",
]
ORIGINAL_ACTIONS = (
    'claim.created', 'claim.held', 'claim.released', 'claim.edited', 'claim.voided', 'claim.retracted',
    'claim.submitted', 'claim.paid', 'claim.denied', 'claim.resubmitted', 'claim.corrected',
    'session.finalized', 'session.cancelled', 'session.deleted',
)


def _restore_sqlite_triggers() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)


def upgrade():
    # The CHECK on status_change.action listed every action known at the time; each feature adds
    # actions, so the ORM's enum validation is the guard and the column is a plain VARCHAR(60).
    with op.batch_alter_table('status_change', schema=None) as batch_op:
        batch_op.drop_constraint('auditaction', type_='check')
        batch_op.alter_column('action', existing_type=sa.String(length=17), type_=sa.String(length=60),
                              existing_nullable=False)
    _restore_sqlite_triggers()


def downgrade():
    allowed = ", ".join(f"'{action}'" for action in ORIGINAL_ACTIONS)
    with op.batch_alter_table('status_change', schema=None) as batch_op:
        batch_op.alter_column('action', existing_type=sa.String(length=60), type_=sa.String(length=17),
                              existing_nullable=False)
        batch_op.create_check_constraint('auditaction', f"action IN ({allowed})")
    _restore_sqlite_triggers()
