"""client_balance carries the client's statement-cycle columns (location, account number, no-statements flag,
statement party and name), copied by its triggers and by a new trigger on client updates, so the Statements page's
outline reads the owing clients' balance rows alone instead of joining the whole client table

At the demo's scale 1000 PostgreSQL read all 60,000 clients (7 to 8 ms) to join the 3,213 owing ones, whatever the
indexes. The table is derived, so it is made again and filled from claim_balance and client. The trigger SQL is
frozen here as billing/ledger/client_balances.py has it; the old SQL (from 9e4b7c2d5f18) is kept for the downgrade.

Revision ID: c3f7a1e9d5b8
Revises: e2a9c5f1d7b3
Create Date: 2026-12-05

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "c3f7a1e9d5b8"
down_revision = "e2a9c5f1d7b3"
branch_labels = None
depends_on = None

SQLITE_ENTRY_TRIGGER = (
    "CREATE TRIGGER ledger_entry_keeps_client_balance AFTER INSERT ON ledger_entry FOR EACH ROW WHEN NEW.kind IN ('p"
    "atient_responsibility', 'patient_payment', 'patient_write_off', 'transfer_to_secondary', 'patient_refund', 'pat"
    "ient_credit_out', 'patient_credit_in') BEGIN INSERT INTO client_balance (client_id, patient, location_id, accou"
    "nt_number, no_statements, statement_party, statement_name) SELECT c.client_id, CASE NEW.kind WHEN 'patient_resp"
    "onsibility' THEN NEW.amount WHEN 'patient_payment' THEN -NEW.amount WHEN 'patient_write_off' THEN -NEW.amount W"
    "HEN 'transfer_to_secondary' THEN -NEW.amount WHEN 'patient_refund' THEN NEW.amount WHEN 'patient_credit_out' TH"
    "EN NEW.amount WHEN 'patient_credit_in' THEN -NEW.amount ELSE 0 END, cl.location_id, cl.account_number, cl.no_st"
    'atements, cl.statement_party, cl.statement_name FROM claim c JOIN client cl ON cl.id = c.client_id WHERE c.id ='
    ' NEW.claim_id ON CONFLICT (client_id) DO UPDATE SET patient = round(patient + excluded.patient, 2); END'
)

POSTGRESQL_ENTRY_FUNCTION = (
    'CREATE OR REPLACE FUNCTION client_balance_add_entries() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INT'
    'O client_balance (client_id, patient, location_id, account_number, no_statements, statement_party, statement_na'
    "me) SELECT cl.id, sum(CASE e.kind WHEN 'patient_responsibility' THEN e.amount WHEN 'patient_payment' THEN -e.am"
    "ount WHEN 'patient_write_off' THEN -e.amount WHEN 'transfer_to_secondary' THEN -e.amount WHEN 'patient_refund' "
    "THEN e.amount WHEN 'patient_credit_out' THEN e.amount WHEN 'patient_credit_in' THEN -e.amount ELSE 0 END), cl.l"
    'ocation_id, cl.account_number, cl.no_statements, cl.statement_party, cl.statement_name FROM new_entries e JOIN '
    "claim c ON c.id = e.claim_id JOIN client cl ON cl.id = c.client_id WHERE e.kind IN ('patient_responsibility', '"
    "patient_payment', 'patient_write_off', 'transfer_to_secondary', 'patient_refund', 'patient_credit_out', 'patien"
    "t_credit_in') GROUP BY cl.id HAVING sum(CASE e.kind WHEN 'patient_responsibility' THEN e.amount WHEN 'patient_p"
    "ayment' THEN -e.amount WHEN 'patient_write_off' THEN -e.amount WHEN 'transfer_to_secondary' THEN -e.amount WHEN"
    " 'patient_refund' THEN e.amount WHEN 'patient_credit_out' THEN e.amount WHEN 'patient_credit_in' THEN -e.amount"
    ' ELSE 0 END) <> 0 ORDER BY cl.id ON CONFLICT (client_id) DO UPDATE SET patient = client_balance.patient + exclu'
    'ded.patient; RETURN NULL; END $$'
)

SQLITE_CLAIM_TRIGGER = (
    'CREATE TRIGGER claim_update_moves_client_balance AFTER UPDATE OF client_id ON claim FOR EACH ROW WHEN OLD.clien'
    't_id IS NOT NEW.client_id BEGIN INSERT INTO client_balance (client_id, patient, location_id, account_number, no'
    '_statements, statement_party, statement_name) SELECT OLD.client_id, -b.patient, cl.location_id, cl.account_numb'
    'er, cl.no_statements, cl.statement_party, cl.statement_name FROM claim_balance b JOIN client cl ON cl.id = OLD.'
    'client_id WHERE b.claim_id = NEW.id AND b.patient <> 0 ON CONFLICT (client_id) DO UPDATE SET patient = round(pa'
    'tient + excluded.patient, 2); INSERT INTO client_balance (client_id, patient, location_id, account_number, no_s'
    'tatements, statement_party, statement_name) SELECT NEW.client_id, b.patient, cl.location_id, cl.account_number,'
    ' cl.no_statements, cl.statement_party, cl.statement_name FROM claim_balance b JOIN client cl ON cl.id = NEW.cli'
    'ent_id WHERE b.claim_id = NEW.id AND b.patient <> 0 ON CONFLICT (client_id) DO UPDATE SET patient = round(patie'
    'nt + excluded.patient, 2); END'
)

POSTGRESQL_CLAIM_FUNCTION = (
    'CREATE OR REPLACE FUNCTION client_balance_move_claims() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NOT EXI'
    'STS (SELECT m.id FROM (SELECT id, client_id FROM old_claims EXCEPT SELECT id, client_id FROM new_claims) AS m) '
    'THEN RETURN NULL; END IF; INSERT INTO client_balance (client_id, patient, location_id, account_number, no_state'
    'ments, statement_party, statement_name) SELECT cl.id, sum(d.p), cl.location_id, cl.account_number, cl.no_statem'
    'ents, cl.statement_party, cl.statement_name FROM (SELECT o.client_id, -b.patient FROM old_claims o JOIN new_cla'
    'ims n ON n.id = o.id JOIN claim_balance b ON b.claim_id = o.id WHERE o.client_id IS DISTINCT FROM n.client_id A'
    'ND b.patient <> 0 UNION ALL SELECT n.client_id, b.patient FROM old_claims o JOIN new_claims n ON n.id = o.id JO'
    'IN claim_balance b ON b.claim_id = o.id WHERE o.client_id IS DISTINCT FROM n.client_id AND b.patient <> 0) AS d'
    ' (k, p) JOIN client cl ON cl.id = d.k GROUP BY cl.id ORDER BY cl.id ON CONFLICT (client_id) DO UPDATE SET patie'
    'nt = client_balance.patient + excluded.patient; RETURN NULL; END $$'
)

SQLITE_CLIENT_TRIGGER = (
    'CREATE TRIGGER client_update_keeps_client_balance AFTER UPDATE OF location_id, account_number, no_statements, s'
    'tatement_party, statement_name ON client FOR EACH ROW WHEN OLD.location_id IS NOT NEW.location_id OR OLD.accoun'
    't_number IS NOT NEW.account_number OR OLD.no_statements IS NOT NEW.no_statements OR OLD.statement_party IS NOT '
    'NEW.statement_party OR OLD.statement_name IS NOT NEW.statement_name BEGIN UPDATE client_balance SET location_id'
    ' = NEW.location_id, account_number = NEW.account_number, no_statements = NEW.no_statements, statement_party = N'
    'EW.statement_party, statement_name = NEW.statement_name WHERE client_id = NEW.id; END'
)

POSTGRESQL_CLIENT_FUNCTION = (
    'CREATE OR REPLACE FUNCTION client_balance_copy_party() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN UPDATE clie'
    'nt_balance SET location_id = NEW.location_id, account_number = NEW.account_number, no_statements = NEW.no_state'
    'ments, statement_party = NEW.statement_party, statement_name = NEW.statement_name WHERE client_id = NEW.id; RET'
    'URN NULL; END $$'
)

POSTGRESQL_CLIENT_TRIGGER = (
    'CREATE TRIGGER client_update_keeps_client_balance AFTER UPDATE OF location_id, account_number, no_statements, s'
    'tatement_party, statement_name ON client FOR EACH ROW WHEN (OLD.location_id IS DISTINCT FROM NEW.location_id OR'
    ' OLD.account_number IS DISTINCT FROM NEW.account_number OR OLD.no_statements IS DISTINCT FROM NEW.no_statements'
    ' OR OLD.statement_party IS DISTINCT FROM NEW.statement_party OR OLD.statement_name IS DISTINCT FROM NEW.stateme'
    'nt_name) EXECUTE FUNCTION client_balance_copy_party()'
)

BACKFILL = (
    'INSERT INTO client_balance (client_id, patient, location_id, account_number, no_statements, statement_party, st'
    'atement_name) SELECT cl.id, round(sum(b.patient), 2), cl.location_id, cl.account_number, cl.no_statements, cl.s'
    'tatement_party, cl.statement_name FROM claim_balance b JOIN claim c ON c.id = b.claim_id JOIN client cl ON cl.i'
    'd = c.client_id WHERE b.patient <> 0 GROUP BY cl.id'
)

# The SQL 9e4b7c2d5f18 made, for the downgrade.
OLD_SQLITE_ENTRY_TRIGGER = (
    "CREATE TRIGGER ledger_entry_keeps_client_balance AFTER INSERT ON ledger_entry FOR EACH ROW WHEN NEW.kind IN ('"
    "patient_responsibility', 'patient_payment', 'patient_write_off', 'transfer_to_secondary', 'patient_refund', 'p"
    "atient_credit_out', 'patient_credit_in') BEGIN INSERT INTO client_balance (client_id, patient) SELECT c.client"
    "_id, CASE NEW.kind WHEN 'patient_responsibility' THEN NEW.amount WHEN 'patient_payment' THEN -NEW.amount WHEN "
    "'patient_write_off' THEN -NEW.amount WHEN 'transfer_to_secondary' THEN -NEW.amount WHEN 'patient_refund' THEN "
    "NEW.amount WHEN 'patient_credit_out' THEN NEW.amount WHEN 'patient_credit_in' THEN -NEW.amount ELSE 0 END FROM"
    ' claim c WHERE c.id = NEW.claim_id ON CONFLICT (client_id) DO UPDATE SET patient = round(patient + excluded.pa'
    'tient, 2); END'
)

OLD_POSTGRESQL_ENTRY_FUNCTION = (
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

OLD_SQLITE_CLAIM_TRIGGER = (
    'CREATE TRIGGER claim_update_moves_client_balance AFTER UPDATE OF client_id ON claim FOR EACH ROW WHEN OLD.clie'
    'nt_id IS NOT NEW.client_id BEGIN INSERT INTO client_balance (client_id, patient) SELECT OLD.client_id, -b.pati'
    'ent FROM claim_balance b WHERE b.claim_id = NEW.id AND b.patient <> 0 ON CONFLICT (client_id) DO UPDATE SET pa'
    'tient = round(patient + excluded.patient, 2); INSERT INTO client_balance (client_id, patient) SELECT NEW.clien'
    't_id, b.patient FROM claim_balance b WHERE b.claim_id = NEW.id AND b.patient <> 0 ON CONFLICT (client_id) DO U'
    'PDATE SET patient = round(patient + excluded.patient, 2); END'
)

OLD_POSTGRESQL_CLAIM_FUNCTION = (
    'CREATE OR REPLACE FUNCTION client_balance_move_claims() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NOT EX'
    'ISTS (SELECT m.id FROM (SELECT id, client_id FROM old_claims EXCEPT SELECT id, client_id FROM new_claims) AS m'
    ') THEN RETURN NULL; END IF; INSERT INTO client_balance (client_id, patient) SELECT k, sum(p) FROM (SELECT o.cl'
    'ient_id, -b.patient FROM old_claims o JOIN new_claims n ON n.id = o.id JOIN claim_balance b ON b.claim_id = o.'
    'id WHERE o.client_id IS DISTINCT FROM n.client_id AND b.patient <> 0 UNION ALL SELECT n.client_id, b.patient F'
    'ROM old_claims o JOIN new_claims n ON n.id = o.id JOIN claim_balance b ON b.claim_id = o.id WHERE o.client_id '
    'IS DISTINCT FROM n.client_id AND b.patient <> 0) AS d (k, p) GROUP BY 1 ORDER BY 1 ON CONFLICT (client_id) DO '
    'UPDATE SET patient = client_balance.patient + excluded.patient; RETURN NULL; END $$'
)

OLD_BACKFILL = (
    'INSERT INTO client_balance (client_id, patient) SELECT c.client_id, round(sum(b.patient), 2) FROM claim_balanc'
    'e b JOIN claim c ON c.id = b.claim_id WHERE b.patient <> 0 GROUP BY c.client_id'
)

ENTRY_TRIGGER, CLAIM_TRIGGER, CLIENT_TRIGGER = (
    "ledger_entry_keeps_client_balance", "claim_update_moves_client_balance", "client_update_keeps_client_balance")


def _make_table(*columns: sa.Column) -> None:
    op.create_table(
        "client_balance",
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("patient", sa.Numeric(14, 2), nullable=False),
        *columns,
        sa.ForeignKeyConstraint(["client_id"], ["client.id"], name=op.f("fk_client_balance_client_id_client")),
        sa.PrimaryKeyConstraint("client_id", name=op.f("pk_client_balance")),
    )


def _drop_table() -> None:
    op.drop_index("ix_client_balance_open", table_name="client_balance")
    op.drop_table("client_balance")


def _open_index() -> None:
    op.create_index("ix_client_balance_open", "client_balance", ["client_id"],
                    postgresql_where=sa.text("patient <> 0"), sqlite_where=sa.text("patient <> 0"))


def upgrade():
    pg = op.get_bind().dialect.name == "postgresql"
    if not pg:  # SQLite's triggers name the table's columns: dropped before it, made again after
        op.execute(f"DROP TRIGGER IF EXISTS {ENTRY_TRIGGER}")
        op.execute(f"DROP TRIGGER IF EXISTS {CLAIM_TRIGGER}")
    _drop_table()
    _make_table(
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("account_number", sa.String(length=20), nullable=False),
        sa.Column("no_statements", sa.Boolean(), nullable=False),
        sa.Column("statement_party", sa.String(length=400), nullable=True),
        sa.Column("statement_name", sa.String(length=120), nullable=False),
    )
    op.execute(BACKFILL)
    _open_index()
    if pg:  # the functions are replaced; the triggers on ledger_entry and claim call them by name
        for statement in (POSTGRESQL_ENTRY_FUNCTION, POSTGRESQL_CLAIM_FUNCTION, POSTGRESQL_CLIENT_FUNCTION,
                          POSTGRESQL_CLIENT_TRIGGER):
            op.execute(statement)
    else:
        for statement in (SQLITE_ENTRY_TRIGGER, SQLITE_CLAIM_TRIGGER, SQLITE_CLIENT_TRIGGER):
            op.execute(statement)


def downgrade():
    pg = op.get_bind().dialect.name == "postgresql"
    if pg:
        op.execute(f"DROP TRIGGER IF EXISTS {CLIENT_TRIGGER} ON client")
        op.execute("DROP FUNCTION IF EXISTS client_balance_copy_party()")
    else:
        for trigger in (ENTRY_TRIGGER, CLAIM_TRIGGER, CLIENT_TRIGGER):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    _drop_table()
    _make_table()
    op.execute(OLD_BACKFILL)
    _open_index()
    if pg:
        op.execute(OLD_POSTGRESQL_ENTRY_FUNCTION)
        op.execute(OLD_POSTGRESQL_CLAIM_FUNCTION)
    else:
        op.execute(OLD_SQLITE_ENTRY_TRIGGER)
        op.execute(OLD_SQLITE_CLAIM_TRIGGER)
