"""PHI access log: who viewed, exported or downloaded which record, append-only

Revision ID: e2b7c9d4a611
Revises: a9e3c5d7f112
Create Date: 2026-12-07 10:00:00

"""
from alembic import op
import sqlalchemy as sa

import billing.core.db


# revision identifiers, used by Alembic.
revision = 'e2b7c9d4a611'
down_revision = 'a9e3c5d7f112'
branch_labels = None
depends_on = None

TABLE = "access_log"


def _append_only_guard(create: bool) -> None:
    """As for the ledger (payments migration): the database refuses UPDATE and DELETE on the log, so no
    script or console session can erase who looked at what."""
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
    op.create_table(
        TABLE,
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', billing.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('actor', sa.String(length=254), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('kind', sa.Enum('viewed', 'listed', 'downloaded', 'exported', name='accesskind',
                                  native_enum=False, create_constraint=True, length=10), nullable=False),
        sa.Column('subject_type', sa.Enum(name='subject', native_enum=False, create_constraint=False, length=60),
                  nullable=False),
        sa.Column('subject_id', sa.Integer(), nullable=True),
        sa.Column('detail', sa.String(length=500), nullable=True),
        sa.Column('ip', sa.String(length=45), nullable=True),
        sa.Column('path', sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_access_log_user_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_access_log')),
    )
    op.create_index('ix_access_log_at', TABLE, ['at'], unique=False)
    op.create_index('ix_access_log_subject', TABLE, ['subject_type', 'subject_id', 'id'], unique=False)
    op.create_index('ix_access_log_user_at', TABLE, ['user_id', 'at'], unique=False)
    _append_only_guard(create=True)


def downgrade():
    _append_only_guard(create=False)
    op.drop_index('ix_access_log_user_at', table_name=TABLE)
    op.drop_index('ix_access_log_subject', table_name=TABLE)
    op.drop_index('ix_access_log_at', table_name=TABLE)
    op.drop_table(TABLE)
