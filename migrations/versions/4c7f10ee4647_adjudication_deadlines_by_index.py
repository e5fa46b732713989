"""the adjudication filing-deadline trigger planned with index lookups only (no sequential scan, hash or merge join),
so a plan PL/pgSQL keeps from when adjudication was small stays cheap as an 835 grows it

Revision ID: 4c7f10ee4647
Revises: 5a2c8e4f1b37
Create Date: 2026-12-05

PostgreSQL only: the function's body is unchanged (f6b45570d331), it gets planner settings of its own, as
billing/payments/deadline_triggers.py (INDEX_LOOKUPS_ONLY) makes it for schemas made from the models. SQLite's
row triggers have no cached plan to go stale.
"""

from __future__ import annotations

from alembic import op

revision = "4c7f10ee4647"
down_revision = "5a2c8e4f1b37"
branch_labels = None
depends_on = None

FUNCTION = "adjudication_filing_deadlines()"
SETTINGS = {"enable_seqscan": "off", "enable_hashjoin": "off", "enable_mergejoin": "off"}


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        for name, value in SETTINGS.items():
            op.execute(f"ALTER FUNCTION {FUNCTION} SET {name} = {value}")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for name in SETTINGS:
            op.execute(f"ALTER FUNCTION {FUNCTION} RESET {name}")
