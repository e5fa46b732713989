"""What each client owes on the patient side, kept by the database itself beside the claim balances.

`client_balance` holds, per client, the sum of their claims' patient balances (billing/ledger/claim_balances.py):
what they owe, or below zero a credit. The Statements page sorted its cycle out from every open claim's balance,
joined to its claim for the client (tens of thousands of rows at a billing company's size, on every load); it now
reads the few thousand clients whose balance is not zero, through a partial index.

A trigger on `ledger_entry` adds each entry's patient effect (the signs of EFFECTS) to its claim's client, in the
same statement and transaction, whichever code path posts it; only kinds with a patient effect are read, so an
835's insurance payments and contractual adjustments cost it nothing. A trigger on `claim` moves a claim's patient
balance when the claim is given to another client. `flask ledger check` (check "client-balance") totals the claim
balances per client and compares.
"""

from __future__ import annotations

# ruff: noqa: S608 - the SQL is built from this module's constants, never from input
from sqlalchemy import DDL, event

from billing.claims.models import Claim
from billing.core.derived import derived, moved_claims, unless_any
from billing.ledger.claim_balances import signed_effect
from billing.ledger.models import EFFECTS, ClientBalance, LedgerEntry

TABLE = "client_balance"
ENTRY_TRIGGER = "ledger_entry_keeps_client_balance"
ENTRY_FUNCTION = "client_balance_add_entries"
CLAIM_TRIGGER = "claim_update_moves_client_balance"
CLAIM_FUNCTION = "client_balance_move_claims"
#: The entry kinds that move a patient balance.
PATIENT_KINDS = ", ".join(f"'{kind.value}'" for kind, (_insurance, patient) in EFFECTS.items() if patient)
_UPSERT = f"ON CONFLICT (client_id) DO UPDATE SET patient = {TABLE}.patient + excluded.patient"
# SQLite sums NUMERIC as floats: rounded to the cent at every step, they stay exact.
_SQLITE_UPSERT = "ON CONFLICT (client_id) DO UPDATE SET patient = round(patient + excluded.patient, 2)"


def sqlite_entry_trigger() -> str:
    return (f"CREATE TRIGGER {ENTRY_TRIGGER} AFTER INSERT ON ledger_entry FOR EACH ROW "
            f"WHEN NEW.kind IN ({PATIENT_KINDS}) BEGIN "
            f"INSERT INTO {TABLE} (client_id, patient) SELECT c.client_id, {signed_effect(1, 'NEW')} "
            f"FROM claim c WHERE c.id = NEW.claim_id {_SQLITE_UPSERT}; END")


def postgresql_entry_function() -> str:
    # Clients in id order, so two postings touching the same clients never deadlock on their rows.
    return (f"CREATE OR REPLACE FUNCTION {ENTRY_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"INSERT INTO {TABLE} (client_id, patient) SELECT c.client_id, sum({signed_effect(1, 'e')}) "
            f"FROM new_entries e JOIN claim c ON c.id = e.claim_id WHERE e.kind IN ({PATIENT_KINDS}) "
            f"GROUP BY c.client_id HAVING sum({signed_effect(1, 'e')}) <> 0 ORDER BY c.client_id {_UPSERT}; "
            f"RETURN NULL; END $$")


def postgresql_entry_trigger() -> str:
    return (f"CREATE TRIGGER {ENTRY_TRIGGER} AFTER INSERT ON ledger_entry REFERENCING NEW TABLE AS new_entries "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {ENTRY_FUNCTION}()")


def sqlite_claim_trigger() -> str:
    moved = "FROM claim_balance b WHERE b.claim_id = NEW.id AND b.patient <> 0"
    return (f"CREATE TRIGGER {CLAIM_TRIGGER} AFTER UPDATE OF client_id ON claim FOR EACH ROW "
            f"WHEN OLD.client_id IS NOT NEW.client_id BEGIN "
            f"INSERT INTO {TABLE} (client_id, patient) SELECT OLD.client_id, -b.patient {moved} {_SQLITE_UPSERT}; "
            f"INSERT INTO {TABLE} (client_id, patient) SELECT NEW.client_id, b.patient {moved} {_SQLITE_UPSERT}; "
            f"END")


def postgresql_claim_function() -> str:
    changed = "o.client_id IS DISTINCT FROM n.client_id"
    moved = (f"FROM old_claims o JOIN new_claims n ON n.id = o.id JOIN claim_balance b ON b.claim_id = o.id "
             f"WHERE {changed} AND b.patient <> 0")
    rows = f"SELECT o.client_id, -b.patient {moved} UNION ALL SELECT n.client_id, b.patient {moved}"
    return (f"CREATE OR REPLACE FUNCTION {CLAIM_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"{unless_any(moved_claims(('client_id',)))}"
            f"INSERT INTO {TABLE} (client_id, patient) SELECT k, sum(p) FROM ({rows}) AS d (k, p) "
            f"GROUP BY 1 ORDER BY 1 {_UPSERT}; RETURN NULL; END $$")


def postgresql_claim_trigger() -> str:
    return (f"CREATE TRIGGER {CLAIM_TRIGGER} AFTER UPDATE ON claim REFERENCING OLD TABLE AS old_claims "
            f"NEW TABLE AS new_claims FOR EACH STATEMENT EXECUTE FUNCTION {CLAIM_FUNCTION}()")


def backfill() -> str:
    """Total the claim balances already kept per client (a migration, before the triggers exist)."""
    return (f"INSERT INTO {TABLE} (client_id, patient) SELECT c.client_id, round(sum(b.patient), 2) "
            f"FROM claim_balance b JOIN claim c ON c.id = b.claim_id WHERE b.patient <> 0 GROUP BY c.client_id")


# Schemas made from the models get the triggers too; the migration makes them otherwise.
for _table, _ddl in (
    (LedgerEntry.__table__, DDL(sqlite_entry_trigger()).execute_if(dialect="sqlite")),
    (LedgerEntry.__table__, DDL(postgresql_entry_function()).execute_if(dialect="postgresql")),
    (LedgerEntry.__table__, DDL(postgresql_entry_trigger()).execute_if(dialect="postgresql")),
    (Claim.__table__, DDL(sqlite_claim_trigger()).execute_if(dialect="sqlite")),
    (Claim.__table__, DDL(postgresql_claim_function()).execute_if(dialect="postgresql")),
    (Claim.__table__, DDL(postgresql_claim_trigger()).execute_if(dialect="postgresql")),
):
    event.listen(_table, "after_create", _ddl)

derived(ClientBalance, "Client balances follow the ledger; post a ledger entry instead of writing a balance.")
