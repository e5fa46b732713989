"""claim_deadline_count: claims and billed dollars per filing deadline, location and status, kept by triggers on
claim, so the count of claims near their filing deadline (front page, Dashboard, Filing deadlines page) reads a few
rows per deadline day instead of every late claim

The trigger SQL is frozen here as billing/claims/deadline_counts.py had it; that module builds the same for schemas
made from the models. Existing claims with a deadline are counted first.

Revision ID: a1c5e8f3b7d2
Revises: 9e4b7c2d5f18
Create Date: 2026-12-05

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "a1c5e8f3b7d2"
down_revision = "9e4b7c2d5f18"
branch_labels = None
depends_on = None

# ruff: noqa: E501 - frozen SQL

SQLITE_INSERT = (
    'CREATE TRIGGER claim_insert_keeps_deadline_count AFTER INSERT ON claim FOR EACH ROW BEGIN INSERT INTO claim_de'
    'adline_count (filing_deadline, location_id, status, claims, billed) SELECT NEW.filing_deadline, NEW.location_i'
    'd, NEW.status, 1, NEW.total_charge WHERE NEW.filing_deadline IS NOT NULL ON CONFLICT (filing_deadline, locatio'
    'n_id, status) DO UPDATE SET claims = claims + excluded.claims, billed = round(billed + excluded.billed, 2); EN'
    'D'
)

SQLITE_DELETE = (
    'CREATE TRIGGER claim_delete_keeps_deadline_count AFTER DELETE ON claim FOR EACH ROW BEGIN INSERT INTO claim_de'
    'adline_count (filing_deadline, location_id, status, claims, billed) SELECT OLD.filing_deadline, OLD.location_i'
    'd, OLD.status, -1, -OLD.total_charge WHERE OLD.filing_deadline IS NOT NULL ON CONFLICT (filing_deadline, locat'
    'ion_id, status) DO UPDATE SET claims = claims + excluded.claims, billed = round(billed + excluded.billed, 2); '
    'END'
)

SQLITE_UPDATE = (
    'CREATE TRIGGER claim_update_keeps_deadline_count AFTER UPDATE OF filing_deadline, location_id, status, total_c'
    'harge ON claim FOR EACH ROW WHEN OLD.filing_deadline IS NOT NEW.filing_deadline OR OLD.location_id IS NOT NEW.'
    'location_id OR OLD.status IS NOT NEW.status OR OLD.total_charge IS NOT NEW.total_charge BEGIN INSERT INTO clai'
    'm_deadline_count (filing_deadline, location_id, status, claims, billed) SELECT OLD.filing_deadline, OLD.locati'
    'on_id, OLD.status, -1, -OLD.total_charge WHERE OLD.filing_deadline IS NOT NULL ON CONFLICT (filing_deadline, l'
    'ocation_id, status) DO UPDATE SET claims = claims + excluded.claims, billed = round(billed + excluded.billed, '
    '2); INSERT INTO claim_deadline_count (filing_deadline, location_id, status, claims, billed) SELECT NEW.filing_'
    'deadline, NEW.location_id, NEW.status, 1, NEW.total_charge WHERE NEW.filing_deadline IS NOT NULL ON CONFLICT ('
    'filing_deadline, location_id, status) DO UPDATE SET claims = claims + excluded.claims, billed = round(billed +'
    ' excluded.billed, 2); END'
)

POSTGRESQL_FUNCTION = (
    'CREATE OR REPLACE FUNCTION claim_deadline_count_apply() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF TG_OP '
    "= 'INSERT' THEN INSERT INTO claim_deadline_count (filing_deadline, location_id, status, claims, billed) SELECT"
    ' n.filing_deadline, n.location_id, n.status, count(*), sum(n.total_charge) FROM new_claims n WHERE n.filing_de'
    'adline IS NOT NULL GROUP BY 1, 2, 3 ORDER BY 1, 2, 3 ON CONFLICT (filing_deadline, location_id, status) DO UPD'
    'ATE SET claims = claim_deadline_count.claims + excluded.claims, billed = claim_deadline_count.billed + exclude'
    "d.billed; ELSIF TG_OP = 'DELETE' THEN INSERT INTO claim_deadline_count (filing_deadline, location_id, status, "
    'claims, billed) SELECT o.filing_deadline, o.location_id, o.status, -count(*), -sum(o.total_charge) FROM old_cl'
    'aims o WHERE o.filing_deadline IS NOT NULL GROUP BY 1, 2, 3 ORDER BY 1, 2, 3 ON CONFLICT (filing_deadline, loc'
    'ation_id, status) DO UPDATE SET claims = claim_deadline_count.claims + excluded.claims, billed = claim_deadlin'
    'e_count.billed + excluded.billed; ELSE IF NOT EXISTS (SELECT m.id FROM (SELECT id, filing_deadline, location_i'
    'd, status, total_charge FROM old_claims EXCEPT SELECT id, filing_deadline, location_id, status, total_charge F'
    'ROM new_claims) AS m) THEN RETURN NULL; END IF; INSERT INTO claim_deadline_count (filing_deadline, location_id'
    ', status, claims, billed) SELECT k1, k2, k3, sum(n), sum(b) FROM (SELECT o.filing_deadline, o.location_id, o.s'
    'tatus, -1, -o.total_charge FROM old_claims o JOIN new_claims n ON n.id = o.id WHERE (o.filing_deadline, o.loca'
    'tion_id, o.status, o.total_charge) IS DISTINCT FROM (n.filing_deadline, n.location_id, n.status, n.total_charg'
    'e) AND o.filing_deadline IS NOT NULL UNION ALL SELECT n.filing_deadline, n.location_id, n.status, 1, n.total_c'
    'harge FROM old_claims o JOIN new_claims n ON n.id = o.id WHERE (o.filing_deadline, o.location_id, o.status, o.'
    'total_charge) IS DISTINCT FROM (n.filing_deadline, n.location_id, n.status, n.total_charge) AND n.filing_deadl'
    'ine IS NOT NULL) AS d (k1, k2, k3, n, b) GROUP BY 1, 2, 3 HAVING sum(n) <> 0 OR sum(b) <> 0 ORDER BY 1, 2, 3 O'
    'N CONFLICT (filing_deadline, location_id, status) DO UPDATE SET claims = claim_deadline_count.claims + exclude'
    'd.claims, billed = claim_deadline_count.billed + excluded.billed; END IF; RETURN NULL; END $$'
)

POSTGRESQL_INSERT = (
    'CREATE TRIGGER claim_insert_keeps_deadline_count AFTER INSERT ON claim REFERENCING NEW TABLE AS new_claims FOR'
    ' EACH STATEMENT EXECUTE FUNCTION claim_deadline_count_apply()'
)

POSTGRESQL_UPDATE = (
    'CREATE TRIGGER claim_update_keeps_deadline_count AFTER UPDATE ON claim REFERENCING OLD TABLE AS old_claims NEW'
    ' TABLE AS new_claims FOR EACH STATEMENT EXECUTE FUNCTION claim_deadline_count_apply()'
)

POSTGRESQL_DELETE = (
    'CREATE TRIGGER claim_delete_keeps_deadline_count AFTER DELETE ON claim REFERENCING OLD TABLE AS old_claims FOR'
    ' EACH STATEMENT EXECUTE FUNCTION claim_deadline_count_apply()'
)

BACKFILL = (
    'INSERT INTO claim_deadline_count (filing_deadline, location_id, status, claims, billed) SELECT claim.filing_de'
    'adline, claim.location_id, claim.status, count(*), coalesce(round(sum(claim.total_charge), 2), 0) FROM claim W'
    'HERE claim.filing_deadline IS NOT NULL GROUP BY 1, 2, 3'
)


def upgrade():
    pg = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "claim_deadline_count",
        sa.Column("filing_deadline", sa.Date(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.Enum("ready", "held", "submitted", "rejected", "paid", "denied", "voided",
                                    name="claimstatus", native_enum=False, create_constraint=True, length=9),
                  nullable=False),
        sa.Column("claims", sa.Integer(), nullable=False),
        sa.Column("billed", sa.Numeric(14, 2), nullable=False),
        sa.PrimaryKeyConstraint("filing_deadline", "location_id", "status", name=op.f("pk_claim_deadline_count")),
    )
    op.execute(BACKFILL)
    if pg:
        for statement in (POSTGRESQL_FUNCTION, POSTGRESQL_INSERT, POSTGRESQL_UPDATE, POSTGRESQL_DELETE):
            op.execute(statement)
    else:
        for statement in (SQLITE_INSERT, SQLITE_DELETE, SQLITE_UPDATE):
            op.execute(statement)


def downgrade():
    pg = op.get_bind().dialect.name == "postgresql"
    for op_name in ("insert", "update", "delete"):
        trigger = f"claim_{op_name}_keeps_deadline_count"
        op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON claim" if pg else f"DROP TRIGGER IF EXISTS {trigger}")
    if pg:
        op.execute("DROP FUNCTION IF EXISTS claim_deadline_count_apply()")
    op.drop_table("claim_deadline_count")
