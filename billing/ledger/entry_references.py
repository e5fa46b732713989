"""The ledger's references to its claim, claim line, adjudication and payer, kept by triggers that check a whole
INSERT at once instead of by foreign-key constraints.

Why: PostgreSQL checks a foreign key row by row, a query and a row lock for each row and each key. An 835 of
10,000 claims writes about 22,000 entries, each naming a claim, a line, an adjudication and a payer: 88,000 checks,
which on a copy of the scale-10 demo made half the cost of the ledger's COPY (7,000 claims: 1.37 s with the four
constraints, 0.72 s without). The trigger here checks a statement's entries in a few set-based queries (the same
7,000 claims on a busy machine: the COPY 1.05 s with it, 1.54 s with the constraints; the server 2.35 against 2.64
CPU seconds in all).

What is kept, as the constraints kept it:
- an entry inserted must name an existing claim and, where set, an existing claim line, adjudication and payer.
  On PostgreSQL the claims, lines and payers named are locked FOR KEY SHARE, as a constraint's check locks them, so
  a delete of one of them running at the same time waits for this transaction and then finds its entries;
- a claim, claim line, adjudication or payer that an entry names cannot be deleted (adjudications cannot be
  deleted at all: billing/ledger/guards.py, and triggers of the migrations).
Ids are never updated, so an update of a named row needs no check. Both refusals are integrity errors worded as
the databases word a foreign-key failure, so callers treat them alike; `flask ledger check` (check
"ledger-references") looks for entries naming a row that is not there.

PostgreSQL follows a whole INSERT or DELETE at once (statement triggers over transition tables); SQLite, with row
triggers, one row at a time.
"""

from __future__ import annotations

# ruff: noqa: S608 - the SQL is built from this module's constants, never from input
from typing import NamedTuple

from sqlalchemy import DDL, Table, event

from billing.claims.models import Claim, ClaimLine
from billing.core.derived import index_lookups_only
from billing.coverage.models import Payer
from billing.ledger.models import Adjudication, LedgerEntry


class Reference(NamedTuple):
    column: str  # of ledger_entry
    parent: str  # the table it names, by its id
    #: How a parent row `o` finds its entries `e`, through an index of ledger_entry.
    entries_of: str
    #: Whether the rows named are locked against a delete running beside the insert (not an adjudication: the
    #: database refuses to delete one at all).
    lock: bool = True


REFERENCES = (
    Reference("claim_id", "claim", "e.claim_id = o.id"),
    # ix_ledger_entry_claim leads with the claim: a line alone would read the whole ledger.
    Reference("claim_line_id", "claim_line", "e.claim_id = o.claim_id AND e.claim_line_id = o.id"),
    Reference("adjudication_id", "adjudication", "e.adjudication_id = o.id", lock=False),
    Reference("payer_id", "payer", "e.payer_id = o.id"),
)
#: Named to sort before the ledger's other triggers (ledger_entry_keeps_...): PostgreSQL fires a table's triggers in
#: name order, so an INSERT naming a missing row stops here, before the kept summaries add it.
INSERT_TRIGGER = "ledger_entry_checks_references"
INSERT_FUNCTION = "ledger_entry_check_references"


def _insert_message(reference: Reference) -> str:
    return (f"insert on table \"ledger_entry\" violates foreign key: {reference.column} names no row of "
            f"\"{reference.parent}\"")


def _delete_message(reference: Reference) -> str:
    return (f"delete on table \"{reference.parent}\" violates foreign key: a row is still named by "
            f"\"ledger_entry\".{reference.column}")


def sqlite_statements() -> list[tuple[str, str]]:
    """(table, CREATE TRIGGER) for SQLite: the entry's references before it is inserted, and each parent's entries
    before the parent is deleted. RAISE(ABORT) is SQLite's constraint error, as a foreign key's."""
    statements = [("ledger_entry", f"CREATE TRIGGER {INSERT_TRIGGER}_{r.column} BEFORE INSERT ON ledger_entry "
                                   f"FOR EACH ROW WHEN NEW.{r.column} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "
                                   f"{r.parent} p WHERE p.id = NEW.{r.column}) "
                                   f"BEGIN SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: {_insert_message(r)}'); "
                                   f"END") for r in REFERENCES]
    statements += [(r.parent, f"CREATE TRIGGER {r.parent}_delete_keeps_ledger_{r.column} BEFORE DELETE ON {r.parent} "
                              f"FOR EACH ROW WHEN EXISTS (SELECT 1 FROM ledger_entry e WHERE "
                              f"{r.entries_of.replace('o.', 'OLD.')}) "
                              f"BEGIN SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: {_delete_message(r)}'); END")
                   for r in REFERENCES]
    return statements


def _raise(message: str) -> str:
    return f"RAISE EXCEPTION '{message}' USING ERRCODE = 'foreign_key_violation'"


def postgresql_insert_function() -> str:
    """Each reference's rows locked (in id order, so two writers never deadlock), then each checked: the rows
    locked are the distinct ids named that exist, so a count short of the distinct ids means one is missing. Index
    probes only, whatever the statistics (INDEX_LOOKUPS_ONLY): a plan kept from a large first INSERT must not scan
    the claims for each later entry of one."""
    steps = []
    for r in REFERENCES:
        named = f"(SELECT DISTINCT n.{r.column} FROM new_entries n WHERE n.{r.column} IS NOT NULL)"
        missing = (f"(SELECT count(*) FROM (SELECT p.id FROM {r.parent} p WHERE p.id IN {named} ORDER BY p.id "
                   f"FOR KEY SHARE) AS locked) <> (SELECT count(*) FROM {named} AS d)" if r.lock else
                   f"EXISTS (SELECT 1 FROM new_entries n WHERE n.{r.column} IS NOT NULL AND NOT EXISTS "
                   f"(SELECT 1 FROM {r.parent} p WHERE p.id = n.{r.column}))")
        steps.append(f"IF {missing} THEN {_raise(_insert_message(r))}; END IF")
    return (f"CREATE OR REPLACE FUNCTION {INSERT_FUNCTION}() RETURNS trigger LANGUAGE plpgsql {index_lookups_only()} "
            f"AS $$ BEGIN {'; '.join(steps)}; RETURN NULL; END $$")


def postgresql_statements() -> list[tuple[str, str]]:
    """(table, statement) for PostgreSQL; each function goes with the table of the trigger that calls it."""
    statements = [
        ("ledger_entry", postgresql_insert_function()),
        ("ledger_entry", f"CREATE TRIGGER {INSERT_TRIGGER} AFTER INSERT ON ledger_entry REFERENCING NEW TABLE AS "
                         f"new_entries FOR EACH STATEMENT EXECUTE FUNCTION {INSERT_FUNCTION}()"),
    ]
    for r in REFERENCES:
        function = f"{r.parent}_delete_keeps_ledger_{r.column}"
        statements += [
            (r.parent, f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql "
                       f"{index_lookups_only()} AS $$ BEGIN "
                       f"IF EXISTS (SELECT 1 FROM old_rows o JOIN ledger_entry e ON {r.entries_of}) THEN "
                       f"{_raise(_delete_message(r))}; END IF; RETURN NULL; END $$"),
            (r.parent, f"CREATE TRIGGER {function} AFTER DELETE ON {r.parent} REFERENCING OLD TABLE AS old_rows "
                       f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()"),
        ]
    return statements


def missing_references_sql() -> str:
    """A SELECT of (entry id, column, id named) for every entry naming a row that is not there: the ledger check."""
    return " UNION ALL ".join(
        f"SELECT e.id, '{r.column}', e.{r.column} FROM ledger_entry e WHERE e.{r.column} IS NOT NULL AND NOT EXISTS "
        f"(SELECT 1 FROM {r.parent} p WHERE p.id = e.{r.column})" for r in REFERENCES)


# A schema made from the models gets the triggers once each table exists (a trigger's body is looked up when it
# fires); the migration makes them otherwise.
_TABLES: dict[str, Table] = {model.__tablename__: model.__table__
                             for model in (LedgerEntry, Claim, ClaimLine, Adjudication, Payer)}
# Made after the tables it names, as the foreign keys ordered it: triggers made with ledger_entry are ON those tables.
for _parent in (Claim, ClaimLine, Adjudication, Payer):
    LedgerEntry.__table__.add_is_dependent_on(_parent.__table__)
for _dialect, _statements in (("sqlite", sqlite_statements()), ("postgresql", postgresql_statements())):
    for _table, _statement in _statements:
        event.listen(_TABLES[_table], "after_create", DDL(_statement).execute_if(dialect=_dialect))
