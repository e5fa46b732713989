"""eligibility checks (270/271): append-only history per policy, with benefits per service type

Revision ID: c7e1a9f30b52
Revises: f5607885a749
Create Date: 2026-12-04 17:50:00

"""
from alembic import op
import sqlalchemy as sa

import billing.core.db


# revision identifiers, used by Alembic.
revision = 'c7e1a9f30b52'
down_revision = 'f5607885a749'
branch_labels = None
depends_on = None

STATUSES = ('pending', 'active', 'inactive', 'unknown', 'failed')
TABLES = ('eligibility_check', 'eligibility_benefit')


def _append_only_guard(table: str, create: bool) -> None:
    """As for the ledger and the access log: the database refuses UPDATE and DELETE on the checks' history."""
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        statements = [
            f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            for verb in ("UPDATE", "DELETE")
        ] if create else [f"DROP TRIGGER {table}_no_update", f"DROP TRIGGER {table}_no_delete"]
    elif dialect == "postgresql":
        statements = [
            f"CREATE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{table} is append-only'; END $$",
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()",
        ] if create else [f"DROP TRIGGER {table}_append_only ON {table}", f"DROP FUNCTION {table}_append_only()"]
    else:
        statements = []
    for statement in statements:
        op.execute(statement)


def upgrade():
    op.create_table(
        'eligibility_check',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('policy_id', sa.Integer(), nullable=False),
        sa.Column('requested_at', billing.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('service_date', sa.Date(), nullable=False),
        sa.Column('status', sa.Enum(*STATUSES, name='eligibilitystatus', native_enum=False, create_constraint=True,
                                    length=8), nullable=False),
        sa.Column('trace_number', sa.String(length=30), nullable=False),
        sa.Column('answers_id', sa.Integer(), nullable=True),
        sa.Column('inquiry_file', sa.String(length=255), nullable=True),
        sa.Column('response_file', sa.String(length=255), nullable=True),
        sa.Column('plan_name', sa.String(length=80), nullable=True),
        sa.Column('group_number', sa.String(length=50), nullable=True),
        sa.Column('plan_begin', sa.Date(), nullable=True),
        sa.Column('plan_end', sa.Date(), nullable=True),
        sa.Column('rejection_reasons', sa.JSON(), nullable=True),
        sa.Column('raw_271', sa.Text(), nullable=True),
        sa.Column('requested_by', sa.String(length=254), nullable=False),
        sa.ForeignKeyConstraint(['policy_id'], ['insurance_policy.id'],
                                name=op.f('fk_eligibility_check_policy_id_insurance_policy')),
        sa.ForeignKeyConstraint(['answers_id'], ['eligibility_check.id'],
                                name=op.f('fk_eligibility_check_answers_id_eligibility_check')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_eligibility_check')),
        sa.UniqueConstraint('answers_id', name=op.f('uq_eligibility_check_answers_id')),
    )
    op.create_index('ix_eligibility_check_policy_latest', 'eligibility_check', ['policy_id', 'id'])
    op.create_index(op.f('ix_eligibility_check_trace_number'), 'eligibility_check', ['trace_number'])
    op.create_table(
        'eligibility_benefit',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('check_id', sa.Integer(), nullable=False),
        sa.Column('service_type', sa.String(length=2), nullable=False),
        sa.Column('service_type_name', sa.String(length=60), nullable=False),
        sa.Column('copay', sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column('coinsurance_percent', sa.Numeric(precision=5, scale=2), nullable=True),
        sa.Column('deductible_remaining', sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column('out_of_pocket_remaining', sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column('visits_limit', sa.Integer(), nullable=True),
        sa.Column('visits_used', sa.Integer(), nullable=True),
        sa.Column('visits_remaining', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['check_id'], ['eligibility_check.id'],
                                name=op.f('fk_eligibility_benefit_check_id_eligibility_check')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_eligibility_benefit')),
    )
    op.create_index(op.f('ix_eligibility_benefit_check_id'), 'eligibility_benefit', ['check_id'])
    for table in TABLES:
        _append_only_guard(table, create=True)


def downgrade():
    for table in TABLES:
        _append_only_guard(table, create=False)
    op.drop_index(op.f('ix_eligibility_benefit_check_id'), table_name='eligibility_benefit')
    op.drop_table('eligibility_benefit')
    op.drop_index(op.f('ix_eligibility_check_trace_number'), table_name='eligibility_check')
    op.drop_index('ix_eligibility_check_policy_latest', table_name='eligibility_check')
    op.drop_table('eligibility_check')
