"""client_balance: what each client owes on the patient side, kept by triggers on ledger_entry and claim, so the
Statements page and its cycle read the few clients owing something instead of every open claim's balance

The trigger SQL is frozen here as billing/ledger/client_balances.py had it; that module builds the same for schemas
made from the models. Existing balances are totalled from claim_balance first.

Revision ID: 9e4b7c2d5f18
Revises: 8d2f6a4c1e93
Create Date: 2026-12-05

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "9e4b7c2d5f18"
down_revision = "8d2f6a4c1e93"
branch_labels = None
depends_on = None

# ruff: noqa: E501 - frozen SQL

SQLITE_ENTRY_TRIGGER = (
    "CREATE TRIGGER ledger_entry_keeps_client_balance AFTER INSERT ON ledger_entry FOR EACH ROW WHEN NEW.kind IN ('"
    "patient_responsibility', 'patient_payment', 'patient_write_off', 'transfer_to_secondary', 'patient_refund', 'p"
    "atient_credit_out', 'patient_credit_in') BEGIN INSERT INTO client_balance (client_id, patient) SELECT c.client"
    "_id, CASE NEW.kind WHEN 'patient_responsibility' THEN NEW.amount WHEN 'patient_payment' THEN -NEW.amount WHEN "
    "'patient_write_off' THEN -NEW.amount WHEN 'transfer_to_secondary' THEN -NEW.amount WHEN 'patient_refund' THEN "
    "NEW.amount WHEN 'patient_credit_out' THEN NEW.amount WHEN 'patient_credit_in' THEN -NEW.amount ELSE 0 END FROM"
    ' claim c WHERE c.id = NEW.claim_id ON CONFLICT (client_id) DO UPDATE SET patient = round(patient + excluded.pa'
    'tient, 2); END'
)

POSTGRESQL_ENTRY_FUNCTION = (
    'CREATE OR REPLACE FUNCTION client_balance_add_entries() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT IN'
    "TO client_balance (client_id, patient) SELECT c.client_id, sum(CASE e.kind WHEN 'patient_responsibility' THEN "
    "e.amount WHEN 'patient_payment' THEN -e.amount WHEN 'patient_write_off' THEN -e.amount WHEN 'transfer_to_secon"
    "dary' THEN -e.amount WHEN 'patient_refund' THEN e.amount WHEN 'patient_credit_out' THEN e.amount WHEN 'patient"
    "_credit_in' THEN -e.amount ELSE 0 END) FROM new_entries e JOIN claim c ON c.id = e.claim_id WHERE e.kind IN ('"
    "patient_responsibility', 'patient_payment', 'patient_write_off', 'transfer_to_secondary', 'patient_refund', 'p"
    "atient_credit_out', 'patient_credit_in') GROUP BY c.client_id HAVING sum(CASE e.kind WHEN 'patient_responsibil"
    "ity' THEN e.amount WHEN 'patient_payment' THEN -e.amount WHEN 'patient_write_off' THEN -e.amount WHEN 'transfe"
    "r_to_secondary' THEN -e.amount WHEN 'patient_refund' THEN e.amount WHEN 'patient_credit_out' THEN e.amount WHE"
    "N 'patient_credit_in' THEN -e.amount ELSE 0 END) <> 0 ORDER BY c.client_id ON CONFLICT (client_id) DO UPDATE S"
    'ET patient = client_balance.patient + excluded.patient; RETURN NULL; END $$'
)

POSTGRESQL_ENTRY_TRIGGER = (
    'CREATE TRIGGER ledger_entry_keeps_client_balance AFTER INSERT ON ledger_entry REFERENCING NEW TABLE AS new_ent'
    'ries FOR EACH STATEMENT EXECUTE FUNCTION client_balance_add_entries()'
)

SQLITE_CLAIM_TRIGGER = (
    'CREATE TRIGGER claim_update_moves_client_balance AFTER UPDATE OF client_id ON claim FOR EACH ROW WHEN OLD.clie'
    'nt_id IS NOT NEW.client_id BEGIN INSERT INTO client_balance (client_id, patient) SELECT OLD.client_id, -b.pati'
    'ent FROM claim_balance b WHERE b.claim_id = NEW.id AND b.patient <> 0 ON CONFLICT (client_id) DO UPDATE SET pa'
    'tient = round(patient + excluded.patient, 2); INSERT INTO client_balance (client_id, patient) SELECT NEW.clien'
    't_id, b.patient FROM claim_balance b WHERE b.claim_id = NEW.id AND b.patient <> 0 ON CONFLICT (client_id) DO U'
    'PDATE SET patient = round(patient + excluded.patient, 2); END'
)

POSTGRESQL_CLAIM_FUNCTION = (
    'CREATE OR REPLACE FUNCTION client_balance_move_claims() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NOT EX'
    'ISTS (SELECT m.id FROM (SELECT id, client_id FROM old_claims EXCEPT SELECT id, client_id FROM new_claims) AS m'
    ') THEN RETURN NULL; END IF; INSERT INTO client_balance (client_id, patient) SELECT k, sum(p) FROM (SELECT o.cl'
    'ient_id, -b.patient FROM old_claims o JOIN new_claims n ON n.id = o.id JOIN claim_balance b ON b.claim_id = o.'
    'id WHERE o.client_id IS DISTINCT FROM n.client_id AND b.patient <> 0 UNION ALL SELECT n.client_id, b.patient F'
    'ROM old_claims o JOIN new_claims n ON n.id = o.id JOIN claim_balance b ON b.claim_id = o.id WHERE o.client_id '
    'IS DISTINCT FROM n.client_id AND b.patient <> 0) AS d (k, p) GROUP BY 1 ORDER BY 1 ON CONFLICT (client_id) DO '
    'UPDATE SET patient = client_balance.patient + excluded.patient; RETURN NULL; END $$'
)

POSTGRESQL_CLAIM_TRIGGER = (
    'CREATE TRIGGER claim_update_moves_client_balance AFTER UPDATE ON claim REFERENCING OLD TABLE AS old_claims NEW'
    ' TABLE AS new_claims FOR EACH STATEMENT EXECUTE FUNCTION client_balance_move_claims()'
)

BACKFILL = (
    'INSERT INTO client_balance (client_id, patient) SELECT c.client_id, round(sum(b.patient), 2) FROM claim_balanc'
    'e b JOIN claim c ON c.id = b.claim_id WHERE b.patient <> 0 GROUP BY c.client_id'
)


def upgrade():
    pg = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "client_balance",
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("patient", sa.Numeric(14, 2), nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["client.id"], name=op.f("fk_client_balance_client_id_client")),
        sa.PrimaryKeyConstraint("client_id", name=op.f("pk_client_balance")),
    )
    op.execute(BACKFILL)
    op.create_index("ix_client_balance_open", "client_balance", ["client_id"],
                    postgresql_where=sa.text("patient <> 0"), sqlite_where=sa.text("patient <> 0"))
    if pg:
        for statement in (POSTGRESQL_ENTRY_FUNCTION, POSTGRESQL_ENTRY_TRIGGER, POSTGRESQL_CLAIM_FUNCTION,
                          POSTGRESQL_CLAIM_TRIGGER):
            op.execute(statement)
    else:
        op.execute(SQLITE_ENTRY_TRIGGER)
        op.execute(SQLITE_CLAIM_TRIGGER)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS ledger_entry_keeps_client_balance ON ledger_entry")
        op.execute("DROP TRIGGER IF EXISTS claim_update_moves_client_balance ON claim")
        op.execute("DROP FUNCTION IF EXISTS client_balance_add_entries()")
        op.execute("DROP FUNCTION IF EXISTS client_balance_move_claims()")
    else:
        op.execute("DROP TRIGGER IF EXISTS ledger_entry_keeps_client_balance")
        op.execute("DROP TRIGGER IF EXISTS claim_update_moves_client_balance")
    op.drop_index("ix_client_balance_open", table_name="client_balance")
    op.drop_table("client_balance")
