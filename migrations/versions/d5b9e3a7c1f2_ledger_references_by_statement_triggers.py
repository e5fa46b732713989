"""The ledger's references to its claim, claim line, adjudication and payer checked by triggers over a whole
INSERT instead of by four foreign keys checked row by row

The frozen SQL is billing/ledger/entry_references.py's as of this revision (that module builds the same for schemas
made from the models). On PostgreSQL the constraints are dropped and the functions and triggers made; SQLite drops
an inline foreign key only by rebuilding ledger_entry, which loses the table's own triggers and stops at the
triggers of other tables that name it: every trigger naming ledger_entry is read from the schema first, dropped,
and made again after the rebuild.

Revision ID: d5b9e3a7c1f2
Revises: a7c2e5f9b1d4
Create Date: 2026-12-05

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "d5b9e3a7c1f2"
down_revision = "a7c2e5f9b1d4"
branch_labels = None
depends_on = None

# ruff: noqa: E501 - frozen SQL

#: (column, parent table) of the four references.
REFERENCES = (("claim_id", "claim"), ("claim_line_id", "claim_line"), ("adjudication_id", "adjudication"),
              ("payer_id", "payer"))

SQLITE_TRIGGERS = [
    (
        'CREATE TRIGGER ledger_entry_checks_references_claim_id BEFORE INSERT ON ledger_entry FOR EACH ROW WHEN NEW.cla'
        "im_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM claim p WHERE p.id = NEW.claim_id) BEGIN SELECT RAISE(ABORT, '"
        'FOREIGN KEY constraint failed: insert on table "ledger_entry" violates foreign key: claim_id names no row of "'
        'claim"\'); END'
    ),
    (
        'CREATE TRIGGER ledger_entry_checks_references_claim_line_id BEFORE INSERT ON ledger_entry FOR EACH ROW WHEN NE'
        'W.claim_line_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM claim_line p WHERE p.id = NEW.claim_line_id) BEGIN S'
        'ELECT RAISE(ABORT, \'FOREIGN KEY constraint failed: insert on table "ledger_entry" violates foreign key: claim_'
        'line_id names no row of "claim_line"\'); END'
    ),
    (
        'CREATE TRIGGER ledger_entry_checks_references_adjudication_id BEFORE INSERT ON ledger_entry FOR EACH ROW WHEN '
        'NEW.adjudication_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM adjudication p WHERE p.id = NEW.adjudication_id)'
        ' BEGIN SELECT RAISE(ABORT, \'FOREIGN KEY constraint failed: insert on table "ledger_entry" violates foreign key'
        ': adjudication_id names no row of "adjudication"\'); END'
    ),
    (
        'CREATE TRIGGER ledger_entry_checks_references_payer_id BEFORE INSERT ON ledger_entry FOR EACH ROW WHEN NEW.pay'
        "er_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM payer p WHERE p.id = NEW.payer_id) BEGIN SELECT RAISE(ABORT, '"
        'FOREIGN KEY constraint failed: insert on table "ledger_entry" violates foreign key: payer_id names no row of "'
        'payer"\'); END'
    ),
    (
        'CREATE TRIGGER claim_delete_keeps_ledger_claim_id BEFORE DELETE ON claim FOR EACH ROW WHEN EXISTS (SELECT 1 FR'
        "OM ledger_entry e WHERE e.claim_id = OLD.id) BEGIN SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: delete "
        'on table "claim" violates foreign key: a row is still named by "ledger_entry".claim_id\'); END'
    ),
    (
        'CREATE TRIGGER claim_line_delete_keeps_ledger_claim_line_id BEFORE DELETE ON claim_line FOR EACH ROW WHEN EXIS'
        'TS (SELECT 1 FROM ledger_entry e WHERE e.claim_id = OLD.claim_id AND e.claim_line_id = OLD.id) BEGIN SELECT RA'
        'ISE(ABORT, \'FOREIGN KEY constraint failed: delete on table "claim_line" violates foreign key: a row is still n'
        'amed by "ledger_entry".claim_line_id\'); END'
    ),
    (
        'CREATE TRIGGER adjudication_delete_keeps_ledger_adjudication_id BEFORE DELETE ON adjudication FOR EACH ROW WHE'
        "N EXISTS (SELECT 1 FROM ledger_entry e WHERE e.adjudication_id = OLD.id) BEGIN SELECT RAISE(ABORT, 'FOREIGN KE"
        'Y constraint failed: delete on table "adjudication" violates foreign key: a row is still named by "ledger_entr'
        'y".adjudication_id\'); END'
    ),
    (
        'CREATE TRIGGER payer_delete_keeps_ledger_payer_id BEFORE DELETE ON payer FOR EACH ROW WHEN EXISTS (SELECT 1 FR'
        "OM ledger_entry e WHERE e.payer_id = OLD.id) BEGIN SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: delete "
        'on table "payer" violates foreign key: a row is still named by "ledger_entry".payer_id\'); END'
    ),
]

POSTGRESQL_STATEMENTS = [
    (
        'CREATE OR REPLACE FUNCTION ledger_entry_check_references() RETURNS trigger LANGUAGE plpgsql SET enable_seqscan'
        ' = off SET enable_hashjoin = off SET enable_mergejoin = off AS $$ BEGIN IF (SELECT count(*) FROM (SELECT p.id '
        'FROM claim p WHERE p.id IN (SELECT DISTINCT n.claim_id FROM new_entries n WHERE n.claim_id IS NOT NULL) ORDER '
        'BY p.id FOR KEY SHARE) AS locked) <> (SELECT count(*) FROM (SELECT DISTINCT n.claim_id FROM new_entries n WHER'
        'E n.claim_id IS NOT NULL) AS d) THEN RAISE EXCEPTION \'insert on table "ledger_entry" violates foreign key: cla'
        'im_id names no row of "claim"\' USING ERRCODE = \'foreign_key_violation\'; END IF; IF (SELECT count(*) FROM (SELE'
        'CT p.id FROM claim_line p WHERE p.id IN (SELECT DISTINCT n.claim_line_id FROM new_entries n WHERE n.claim_line'
        '_id IS NOT NULL) ORDER BY p.id FOR KEY SHARE) AS locked) <> (SELECT count(*) FROM (SELECT DISTINCT n.claim_lin'
        'e_id FROM new_entries n WHERE n.claim_line_id IS NOT NULL) AS d) THEN RAISE EXCEPTION \'insert on table "ledger'
        '_entry" violates foreign key: claim_line_id names no row of "claim_line"\' USING ERRCODE = \'foreign_key_violati'
        "on'; END IF; IF EXISTS (SELECT 1 FROM new_entries n WHERE n.adjudication_id IS NOT NULL AND NOT EXISTS (SELECT"
        ' 1 FROM adjudication p WHERE p.id = n.adjudication_id)) THEN RAISE EXCEPTION \'insert on table "ledger_entry" v'
        'iolates foreign key: adjudication_id names no row of "adjudication"\' USING ERRCODE = \'foreign_key_violation\'; '
        'END IF; IF (SELECT count(*) FROM (SELECT p.id FROM payer p WHERE p.id IN (SELECT DISTINCT n.payer_id FROM new_'
        'entries n WHERE n.payer_id IS NOT NULL) ORDER BY p.id FOR KEY SHARE) AS locked) <> (SELECT count(*) FROM (SELE'
        "CT DISTINCT n.payer_id FROM new_entries n WHERE n.payer_id IS NOT NULL) AS d) THEN RAISE EXCEPTION 'insert on "
        'table "ledger_entry" violates foreign key: payer_id names no row of "payer"\' USING ERRCODE = \'foreign_key_viol'
        "ation'; END IF; RETURN NULL; END $$"
    ),
    (
        'CREATE TRIGGER ledger_entry_checks_references AFTER INSERT ON ledger_entry REFERENCING NEW TABLE AS new_entrie'
        's FOR EACH STATEMENT EXECUTE FUNCTION ledger_entry_check_references()'
    ),
    (
        'CREATE OR REPLACE FUNCTION claim_delete_keeps_ledger_claim_id() RETURNS trigger LANGUAGE plpgsql SET enable_se'
        'qscan = off SET enable_hashjoin = off SET enable_mergejoin = off AS $$ BEGIN IF EXISTS (SELECT 1 FROM old_rows'
        ' o JOIN ledger_entry e ON e.claim_id = o.id) THEN RAISE EXCEPTION \'delete on table "claim" violates foreign ke'
        'y: a row is still named by "ledger_entry".claim_id\' USING ERRCODE = \'foreign_key_violation\'; END IF; RETURN NU'
        'LL; END $$'
    ),
    (
        'CREATE TRIGGER claim_delete_keeps_ledger_claim_id AFTER DELETE ON claim REFERENCING OLD TABLE AS old_rows FOR '
        'EACH STATEMENT EXECUTE FUNCTION claim_delete_keeps_ledger_claim_id()'
    ),
    (
        'CREATE OR REPLACE FUNCTION claim_line_delete_keeps_ledger_claim_line_id() RETURNS trigger LANGUAGE plpgsql SET'
        ' enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off AS $$ BEGIN IF EXISTS (SELECT 1 FRO'
        "M old_rows o JOIN ledger_entry e ON e.claim_id = o.claim_id AND e.claim_line_id = o.id) THEN RAISE EXCEPTION '"
        'delete on table "claim_line" violates foreign key: a row is still named by "ledger_entry".claim_line_id\' USING'
        " ERRCODE = 'foreign_key_violation'; END IF; RETURN NULL; END $$"
    ),
    (
        'CREATE TRIGGER claim_line_delete_keeps_ledger_claim_line_id AFTER DELETE ON claim_line REFERENCING OLD TABLE A'
        'S old_rows FOR EACH STATEMENT EXECUTE FUNCTION claim_line_delete_keeps_ledger_claim_line_id()'
    ),
    (
        'CREATE OR REPLACE FUNCTION adjudication_delete_keeps_ledger_adjudication_id() RETURNS trigger LANGUAGE plpgsql'
        ' SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off AS $$ BEGIN IF EXISTS (SELECT 1'
        ' FROM old_rows o JOIN ledger_entry e ON e.adjudication_id = o.id) THEN RAISE EXCEPTION \'delete on table "adjud'
        'ication" violates foreign key: a row is still named by "ledger_entry".adjudication_id\' USING ERRCODE = \'foreig'
        "n_key_violation'; END IF; RETURN NULL; END $$"
    ),
    (
        'CREATE TRIGGER adjudication_delete_keeps_ledger_adjudication_id AFTER DELETE ON adjudication REFERENCING OLD T'
        'ABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION adjudication_delete_keeps_ledger_adjudication_id()'
    ),
    (
        'CREATE OR REPLACE FUNCTION payer_delete_keeps_ledger_payer_id() RETURNS trigger LANGUAGE plpgsql SET enable_se'
        'qscan = off SET enable_hashjoin = off SET enable_mergejoin = off AS $$ BEGIN IF EXISTS (SELECT 1 FROM old_rows'
        ' o JOIN ledger_entry e ON e.payer_id = o.id) THEN RAISE EXCEPTION \'delete on table "payer" violates foreign ke'
        'y: a row is still named by "ledger_entry".payer_id\' USING ERRCODE = \'foreign_key_violation\'; END IF; RETURN NU'
        'LL; END $$'
    ),
    (
        'CREATE TRIGGER payer_delete_keeps_ledger_payer_id AFTER DELETE ON payer REFERENCING OLD TABLE AS old_rows FOR '
        'EACH STATEMENT EXECUTE FUNCTION payer_delete_keeps_ledger_payer_id()'
    ),
]

def _constraint(column: str, parent: str) -> str:
    return f"fk_ledger_entry_{column}_{parent}"


def _rebuild_sqlite_ledger(change) -> None:
    """Run `change(batch)` on ledger_entry rebuilt in batch mode, keeping every trigger that names the table."""
    bind = op.get_bind()
    triggers = bind.execute(sa.text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND "
                                    "(tbl_name = 'ledger_entry' OR sql LIKE '%ledger_entry%') ORDER BY name")).all()
    for name, _ in triggers:
        op.execute(f'DROP TRIGGER "{name}"')
    with op.batch_alter_table("ledger_entry") as batch:
        change(batch)
    for _, statement in triggers:
        op.execute(statement)


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        for column, parent in REFERENCES:
            op.drop_constraint(_constraint(column, parent), "ledger_entry", type_="foreignkey")
        for statement in POSTGRESQL_STATEMENTS:
            op.execute(statement)
        return

    def drop(batch) -> None:
        for column, parent in REFERENCES:
            batch.drop_constraint(_constraint(column, parent), type_="foreignkey")

    _rebuild_sqlite_ledger(drop)
    for statement in SQLITE_TRIGGERS:
        op.execute(statement)


def downgrade():
    pg = op.get_bind().dialect.name == "postgresql"
    if pg:
        op.execute("DROP TRIGGER IF EXISTS ledger_entry_checks_references ON ledger_entry")
        op.execute("DROP FUNCTION IF EXISTS ledger_entry_check_references()")
    for column, parent in REFERENCES:
        kept = f"{parent}_delete_keeps_ledger_{column}"
        op.execute(f"DROP TRIGGER IF EXISTS {kept} ON {parent}" if pg else f"DROP TRIGGER IF EXISTS {kept}")
        if pg:
            op.execute(f"DROP FUNCTION IF EXISTS {kept}()")
            op.create_foreign_key(_constraint(column, parent), "ledger_entry", parent, [column], ["id"])
        else:
            op.execute(f"DROP TRIGGER IF EXISTS ledger_entry_checks_references_{column}")
    if pg:
        return

    def add(batch) -> None:
        for column, parent in REFERENCES:
            batch.create_foreign_key(_constraint(column, parent), parent, [column], ["id"])

    _rebuild_sqlite_ledger(add)
