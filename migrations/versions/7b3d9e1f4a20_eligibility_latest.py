"""eligibility_latest: each policy's latest answered eligibility check and whether it needs attention, kept by a
trigger on eligibility_check, so the Eligibility worklist starts from the few policies needing attention

The trigger SQL is frozen here as billing/coverage/eligibility_latest.py had it; that module builds the same for
schemas made from the models.

Revision ID: 7b3d9e1f4a20
Revises: 4c7f10ee4647
Create Date: 2026-12-05

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "7b3d9e1f4a20"
down_revision = "4c7f10ee4647"
branch_labels = None
depends_on = None

ATTENTION = "'inactive', 'unknown', 'failed'"
UPSERT = ("INSERT INTO eligibility_latest (policy_id, check_id, needs_attention) "
          f"VALUES (NEW.policy_id, NEW.id, NEW.status IN ({ATTENTION})) "
          "ON CONFLICT (policy_id) DO UPDATE SET check_id = excluded.check_id, "
          "needs_attention = excluded.needs_attention WHERE excluded.check_id > eligibility_latest.check_id")
ANSWERED = "NEW.status <> 'pending'"
BACKFILL = (
    "INSERT INTO eligibility_latest (policy_id, check_id, needs_attention) "
    f"SELECT c.policy_id, c.id, c.status IN ({ATTENTION}) FROM eligibility_check c "
    "JOIN (SELECT policy_id, max(id) AS id FROM eligibility_check WHERE status <> 'pending' GROUP BY policy_id) "
    "newest ON newest.id = c.id"
)


def upgrade():
    pg = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "eligibility_latest",
        sa.Column("policy_id", sa.Integer(), nullable=False),
        sa.Column("check_id", sa.Integer(), nullable=False),
        sa.Column("needs_attention", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["check_id"], ["eligibility_check.id"],
                                name=op.f("fk_eligibility_latest_check_id_eligibility_check")),
        sa.ForeignKeyConstraint(["policy_id"], ["insurance_policy.id"],
                                name=op.f("fk_eligibility_latest_policy_id_insurance_policy")),
        sa.PrimaryKeyConstraint("policy_id", name=op.f("pk_eligibility_latest")),
    )
    op.execute(BACKFILL)
    op.create_index("ix_eligibility_latest_attention", "eligibility_latest", ["policy_id"],
                    postgresql_where=sa.text("needs_attention = true"), sqlite_where=sa.text("needs_attention = 1"))
    if pg:
        op.execute("CREATE OR REPLACE FUNCTION eligibility_latest_add() RETURNS trigger LANGUAGE plpgsql AS $$ "
                   f"BEGIN {UPSERT}; RETURN NULL; END $$")
        op.execute("CREATE TRIGGER eligibility_check_keeps_latest AFTER INSERT ON eligibility_check FOR EACH ROW "
                   f"WHEN ({ANSWERED}) EXECUTE FUNCTION eligibility_latest_add()")
    else:
        op.execute("CREATE TRIGGER eligibility_check_keeps_latest AFTER INSERT ON eligibility_check FOR EACH ROW "
                   f"WHEN {ANSWERED} BEGIN {UPSERT}; END")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS eligibility_check_keeps_latest ON eligibility_check")
        op.execute("DROP FUNCTION IF EXISTS eligibility_latest_add()")
    else:
        op.execute("DROP TRIGGER IF EXISTS eligibility_check_keeps_latest")
    op.drop_index("ix_eligibility_latest_attention", table_name="eligibility_latest")
    op.drop_table("eligibility_latest")
