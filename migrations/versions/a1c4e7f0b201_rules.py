"""rules engine: rules, rule versions, billing runs, rule outcomes

Revision ID: a1c4e7f0b201
Revises: 5b2e9c4d1a07
Create Date: 2026-11-23 09:10:00

"""
from alembic import op
import sqlalchemy as sa

import billing.core.db


# revision identifiers, used by Alembic.
revision = 'a1c4e7f0b201'
down_revision = '5b2e9c4d1a07'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('billing_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('started_at', billing.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', billing.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('actor', sa.String(length=254), nullable=False),
    sa.Column('scope', sa.JSON(), nullable=False),
    sa.Column('claims_checked', sa.Integer(), nullable=False),
    sa.Column('claims_failing', sa.Integer(), nullable=False),
    sa.Column('rule_errors', sa.Integer(), nullable=False),
    sa.Column('holds_placed', sa.Integer(), nullable=False),
    sa.Column('holds_lifted', sa.Integer(), nullable=False),
    sa.Column('outcomes_resolved', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_run'))
    )
    op.create_table('rule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('conditions', sa.JSON(), nullable=False),
    sa.Column('actions', sa.JSON(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('scope_company_id', sa.Integer(), nullable=True),
    sa.Column('scope_practice_id', sa.Integer(), nullable=True),
    sa.Column('scope_payer_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', billing.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=254), nullable=False),
    sa.CheckConstraint('(CASE WHEN scope_company_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN scope_practice_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN scope_payer_id IS NULL THEN 0 ELSE 1 END) <= 1', name=op.f('ck_rule_one_scope')),
    sa.CheckConstraint('version >= 1', name=op.f('ck_rule_version_positive')),
    sa.ForeignKeyConstraint(['scope_company_id'], ['company.id'], name=op.f('fk_rule_scope_company_id_company')),
    sa.ForeignKeyConstraint(['scope_payer_id'], ['payer.id'], name=op.f('fk_rule_scope_payer_id_payer')),
    sa.ForeignKeyConstraint(['scope_practice_id'], ['practice.id'], name=op.f('fk_rule_scope_practice_id_practice')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rule')),
    sa.UniqueConstraint('name', name=op.f('uq_rule_name'))
    )
    with op.batch_alter_table('rule', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rule_scope_company_id'), ['scope_company_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_rule_scope_payer_id'), ['scope_payer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_rule_scope_practice_id'), ['scope_practice_id'], unique=False)

    op.create_table('rule_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rule_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('snapshot', sa.JSON(), nullable=False),
    sa.Column('changed_at', billing.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('changed_by', sa.String(length=254), nullable=False),
    sa.ForeignKeyConstraint(['rule_id'], ['rule.id'], name=op.f('fk_rule_version_rule_id_rule')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rule_version')),
    sa.UniqueConstraint('rule_id', 'version', name=op.f('uq_rule_version_rule_id_version'))
    )
    op.create_table('failed_charge',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.Column('rule_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('failure', 'error', 'hold', 'delay', 'warning', name='outcomekind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('delay_until', sa.Date(), nullable=True),
    sa.Column('placed_hold', sa.Boolean(), nullable=False),
    sa.Column('first_failed_at', billing.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_failed_at', billing.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('first_run_id', sa.Integer(), nullable=False),
    sa.Column('last_run_id', sa.Integer(), nullable=False),
    sa.Column('resolved_at', billing.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('resolved_run_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("(kind = 'delay') = (delay_until IS NOT NULL)", name=op.f('ck_failed_charge_delay_has_date')),
    sa.CheckConstraint('last_failed_at >= first_failed_at', name=op.f('ck_failed_charge_last_after_first')),
    sa.ForeignKeyConstraint(['claim_id'], ['claim.id'], name=op.f('fk_failed_charge_claim_id_claim')),
    sa.ForeignKeyConstraint(['first_run_id'], ['billing_run.id'], name=op.f('fk_failed_charge_first_run_id_billing_run')),
    sa.ForeignKeyConstraint(['last_run_id'], ['billing_run.id'], name=op.f('fk_failed_charge_last_run_id_billing_run')),
    sa.ForeignKeyConstraint(['resolved_run_id'], ['billing_run.id'], name=op.f('fk_failed_charge_resolved_run_id_billing_run')),
    sa.ForeignKeyConstraint(['rule_id'], ['rule.id'], name=op.f('fk_failed_charge_rule_id_rule')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_failed_charge'))
    )
    with op.batch_alter_table('failed_charge', schema=None) as batch_op:
        batch_op.create_index('ix_failed_charge_claim_open', ['claim_id', 'resolved_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_failed_charge_last_run_id'), ['last_run_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_failed_charge_rule_id'), ['rule_id'], unique=False)
        # One open row per claim, rule and kind; resolved rows are history and may repeat.
        batch_op.create_index('uq_failed_charge_open', ['claim_id', 'rule_id', 'kind'], unique=True, sqlite_where=sa.text('resolved_at IS NULL'), postgresql_where=sa.text('resolved_at IS NULL'))


def downgrade():
    with op.batch_alter_table('failed_charge', schema=None) as batch_op:
        batch_op.drop_index('uq_failed_charge_open', sqlite_where=sa.text('resolved_at IS NULL'), postgresql_where=sa.text('resolved_at IS NULL'))
        batch_op.drop_index(batch_op.f('ix_failed_charge_rule_id'))
        batch_op.drop_index(batch_op.f('ix_failed_charge_last_run_id'))
        batch_op.drop_index('ix_failed_charge_claim_open')

    op.drop_table('failed_charge')
    op.drop_table('rule_version')
    with op.batch_alter_table('rule', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rule_scope_practice_id'))
        batch_op.drop_index(batch_op.f('ix_rule_scope_payer_id'))
        batch_op.drop_index(batch_op.f('ix_rule_scope_company_id'))

    op.drop_table('rule')
    op.drop_table('billing_run')
