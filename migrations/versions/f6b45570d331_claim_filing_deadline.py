"""claim.filing_deadline: each claim's timely-filing deadline, kept by triggers on claim, adjudication and payer

Revision ID: f6b45570d331
Revises: e83b51d0c4a7
Create Date: 2026-12-04 20:45:00

The trigger SQL is frozen here as billing/payments/deadline_triggers.py had it; that module builds the same
statements for schemas made from the models. A change to the rule (billing/payments/filing.py) needs a migration
that replaces the triggers and recomputes the column (tests/billing/payments/test_deadline_triggers.py compares the
kept deadlines with the rule in Python).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# ruff: noqa: S608 - the SQL is built from the constants below, never from input

# revision identifiers, used by Alembic.
revision = 'f6b45570d331'
down_revision = 'e83b51d0c4a7'
branch_labels = None
depends_on = None

CLAIM_INPUTS = ("service_date", "payer_id", "original_claim_id", "resubmission_of_id", "self_pay")
PAYER_INPUTS = ("filing_limit_days", "corrected_filing_days", "payer_type")
TRIGGERS = {"claim_filing_deadline_insert": "claim", "claim_filing_deadline_update": "claim",
            "adjudication_filing_deadline": "adjudication", "payer_filing_deadline": "payer"}
FUNCTIONS = ("claim_filing_deadline_set", "adjudication_filing_deadlines", "payer_filing_deadlines")


def _answered_on(row: str) -> str:
    return (f"(SELECT max(a.paid_on) FROM adjudication a WHERE a.claim_id IN "
            f"({row}.id, {row}.original_claim_id, {row}.resubmission_of_id) AND coalesce(a.reverses_id, 0) = 0)")


def _deadline(pg: bool, row: str) -> str:
    if pg:
        later = f"greatest({row}.service_date + p.filing_limit_days, {_answered_on(row)} + p.corrected_filing_days)"
        not_self_pay = f"NOT {row}.self_pay"
    else:
        later = (f"max(date({row}.service_date, '+' || p.filing_limit_days || ' days'), "
                 f"coalesce(date({_answered_on(row)}, '+' || p.corrected_filing_days || ' days'), ''))")
        not_self_pay = f"{row}.self_pay = 0"
    return (f"(SELECT {later} FROM payer p WHERE p.id = {row}.payer_id AND p.payer_type <> 'self_pay' "
            f"AND {not_self_pay})")


def _recompute(pg: bool, claim_ids: str) -> str:
    lock = " ORDER BY k.id FOR UPDATE OF k" if pg else ""
    differs = "IS DISTINCT FROM" if pg else "IS NOT"
    return (f"UPDATE claim SET filing_deadline = due.deadline FROM (SELECT k.id, {_deadline(pg, 'k')} AS deadline "
            f"FROM claim k WHERE k.id IN ({claim_ids}){lock}) due "
            f"WHERE claim.id = due.id AND claim.filing_deadline {differs} due.deadline")


def _family(adjudications: str) -> str:
    return (f"SELECT n.claim_id FROM {adjudications} UNION "
            f"SELECT f.id FROM claim f JOIN {adjudications} ON f.original_claim_id = n.claim_id UNION "
            f"SELECT f.id FROM claim f JOIN {adjudications} ON f.resubmission_of_id = n.claim_id")


def _changed(columns: tuple[str, ...], differs: str) -> str:
    return " OR ".join(f"NEW.{c} {differs} OLD.{c}" for c in columns)


def _sqlite() -> list[str]:
    own = _recompute(False, "SELECT NEW.id")
    return [
        f"CREATE TRIGGER claim_filing_deadline_insert AFTER INSERT ON claim FOR EACH ROW BEGIN {own}; END",
        f"CREATE TRIGGER claim_filing_deadline_update AFTER UPDATE OF {', '.join(CLAIM_INPUTS)} ON claim "
        f"FOR EACH ROW WHEN {_changed(CLAIM_INPUTS, 'IS NOT')} BEGIN {own}; END",
        "CREATE TRIGGER adjudication_filing_deadline AFTER INSERT ON adjudication FOR EACH ROW "
        f"WHEN NEW.reverses_id IS NULL BEGIN {_recompute(False, _family('(SELECT NEW.claim_id AS claim_id) n'))}; END",
        f"CREATE TRIGGER payer_filing_deadline AFTER UPDATE OF {', '.join(PAYER_INPUTS)} ON payer FOR EACH ROW "
        f"WHEN {_changed(PAYER_INPUTS, 'IS NOT')} BEGIN "
        f"{_recompute(False, 'SELECT id FROM claim WHERE payer_id = NEW.id')}; END",
    ]


def _postgresql() -> list[str]:
    standing = "(SELECT claim_id FROM new_adjudications WHERE reverses_id IS NULL) n"
    return [
        "CREATE OR REPLACE FUNCTION claim_filing_deadline_set() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN NEW.filing_deadline := {_deadline(True, 'NEW')}; RETURN NEW; END $$",
        "CREATE TRIGGER claim_filing_deadline_insert BEFORE INSERT ON claim FOR EACH ROW "
        "EXECUTE FUNCTION claim_filing_deadline_set()",
        f"CREATE TRIGGER claim_filing_deadline_update BEFORE UPDATE OF {', '.join(CLAIM_INPUTS)} ON claim "
        f"FOR EACH ROW WHEN ({_changed(CLAIM_INPUTS, 'IS DISTINCT FROM')}) "
        "EXECUTE FUNCTION claim_filing_deadline_set()",
        "CREATE OR REPLACE FUNCTION adjudication_filing_deadlines() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN {_recompute(True, _family(standing))}; RETURN NULL; END $$",
        "CREATE TRIGGER adjudication_filing_deadline AFTER INSERT ON adjudication "
        "REFERENCING NEW TABLE AS new_adjudications FOR EACH STATEMENT "
        "EXECUTE FUNCTION adjudication_filing_deadlines()",
        "CREATE OR REPLACE FUNCTION payer_filing_deadlines() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN {_recompute(True, 'SELECT id FROM claim WHERE payer_id = NEW.id')}; RETURN NULL; END $$",
        f"CREATE TRIGGER payer_filing_deadline AFTER UPDATE OF {', '.join(PAYER_INPUTS)} ON payer FOR EACH ROW "
        f"WHEN ({_changed(PAYER_INPUTS, 'IS DISTINCT FROM')}) EXECUTE FUNCTION payer_filing_deadlines()",
    ]


def upgrade():
    pg = op.get_bind().dialect.name == "postgresql"
    op.add_column('claim', sa.Column('filing_deadline', sa.Date(), nullable=True))
    # Every existing claim's deadline in one statement, before the index and the triggers exist.
    op.execute(f"UPDATE claim SET filing_deadline = {_deadline(pg, 'claim')}")
    op.create_index('ix_claim_status_deadline', 'claim', ['status', 'filing_deadline', 'location_id', 'total_charge'],
                    unique=False)
    for statement in _postgresql() if pg else _sqlite():
        op.execute(statement)


def downgrade():
    pg = op.get_bind().dialect.name == "postgresql"
    for trigger, table in TRIGGERS.items():
        op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}" if pg else f"DROP TRIGGER IF EXISTS {trigger}")
    if pg:
        for function in FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS {function}()")
    op.drop_index('ix_claim_status_deadline', table_name='claim')
    op.drop_column('claim', 'filing_deadline')
