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

Each row also carries the client's columns that place it in a statement cycle (PARTY: location, account number,
no-statements flag, statement party and name), copied from the client when the row is made and again by a trigger
on `client` whenever one of them changes. The Statements page then sorts its cycle out from these few thousand
narrow rows alone: joined to the client table instead, PostgreSQL read all of it (7 to 8 ms at 60,000 clients) for
the 3,213 owing, whatever the indexes. Check "client-balance-party" compares the copies with the clients.
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
CLIENT_TRIGGER = "client_update_keeps_client_balance"
CLIENT_FUNCTION = "client_balance_copy_party"
#: The client's columns each balance row copies, under the same names.
PARTY = ("location_id", "account_number", "no_statements", "statement_party", "statement_name")
_PARTY_LIST = ", ".join(PARTY)
#: The entry kinds that move a patient balance.
PATIENT_KINDS = ", ".join(f"'{kind.value}'" for kind, (_insurance, patient) in EFFECTS.items() if patient)
_UPSERT = f"ON CONFLICT (client_id) DO UPDATE SET patient = {TABLE}.patient + excluded.patient"
# SQLite sums NUMERIC as floats: rounded to the cent at every step, they stay exact.
_SQLITE_UPSERT = "ON CONFLICT (client_id) DO UPDATE SET patient = round(patient + excluded.patient, 2)"


def _copied(client: str) -> str:
    """The PARTY columns of the client row `client`, in PARTY's order."""
    return ", ".join(f"{client}.{column}" for column in PARTY)


def sqlite_entry_trigger() -> str:
    return (f"CREATE TRIGGER {ENTRY_TRIGGER} AFTER INSERT ON ledger_entry FOR EACH ROW "
            f"WHEN NEW.kind IN ({PATIENT_KINDS}) BEGIN "
            f"INSERT INTO {TABLE} (client_id, patient, {_PARTY_LIST}) "
            f"SELECT c.client_id, {signed_effect(1, 'NEW')}, {_copied('cl')} "
            f"FROM claim c JOIN client cl ON cl.id = c.client_id WHERE c.id = NEW.claim_id {_SQLITE_UPSERT}; END")


def postgresql_entry_function() -> str:
    # Clients in id order, so two postings touching the same clients never deadlock on their rows. Grouped by the
    # client's key, so its other columns can be selected as they are.
    return (f"CREATE OR REPLACE FUNCTION {ENTRY_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"INSERT INTO {TABLE} (client_id, patient, {_PARTY_LIST}) "
            f"SELECT cl.id, sum({signed_effect(1, 'e')}), {_copied('cl')} "
            f"FROM new_entries e JOIN claim c ON c.id = e.claim_id JOIN client cl ON cl.id = c.client_id "
            f"WHERE e.kind IN ({PATIENT_KINDS}) "
            f"GROUP BY cl.id HAVING sum({signed_effect(1, 'e')}) <> 0 ORDER BY cl.id {_UPSERT}; "
            f"RETURN NULL; END $$")


def postgresql_entry_trigger() -> str:
    return (f"CREATE TRIGGER {ENTRY_TRIGGER} AFTER INSERT ON ledger_entry REFERENCING NEW TABLE AS new_entries "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {ENTRY_FUNCTION}()")


def sqlite_claim_trigger() -> str:
    moved = "FROM claim_balance b JOIN client cl ON cl.id = {} WHERE b.claim_id = NEW.id AND b.patient <> 0"
    into = f"INSERT INTO {TABLE} (client_id, patient, {_PARTY_LIST})"
    return (f"CREATE TRIGGER {CLAIM_TRIGGER} AFTER UPDATE OF client_id ON claim FOR EACH ROW "
            f"WHEN OLD.client_id IS NOT NEW.client_id BEGIN "
            f"{into} SELECT OLD.client_id, -b.patient, {_copied('cl')} {moved.format('OLD.client_id')} "
            f"{_SQLITE_UPSERT}; "
            f"{into} SELECT NEW.client_id, b.patient, {_copied('cl')} {moved.format('NEW.client_id')} "
            f"{_SQLITE_UPSERT}; END")


def postgresql_claim_function() -> str:
    changed = "o.client_id IS DISTINCT FROM n.client_id"
    moved = (f"FROM old_claims o JOIN new_claims n ON n.id = o.id JOIN claim_balance b ON b.claim_id = o.id "
             f"WHERE {changed} AND b.patient <> 0")
    rows = f"SELECT o.client_id, -b.patient {moved} UNION ALL SELECT n.client_id, b.patient {moved}"
    return (f"CREATE OR REPLACE FUNCTION {CLAIM_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"{unless_any(moved_claims(('client_id',)))}"
            f"INSERT INTO {TABLE} (client_id, patient, {_PARTY_LIST}) SELECT cl.id, sum(d.p), {_copied('cl')} "
            f"FROM ({rows}) AS d (k, p) JOIN client cl ON cl.id = d.k "
            f"GROUP BY cl.id ORDER BY cl.id {_UPSERT}; RETURN NULL; END $$")


def postgresql_claim_trigger() -> str:
    return (f"CREATE TRIGGER {CLAIM_TRIGGER} AFTER UPDATE ON claim REFERENCING OLD TABLE AS old_claims "
            f"NEW TABLE AS new_claims FOR EACH STATEMENT EXECUTE FUNCTION {CLAIM_FUNCTION}()")


def _copy_party() -> str:
    return (f"UPDATE {TABLE} SET {', '.join(f'{column} = NEW.{column}' for column in PARTY)} "
            f"WHERE client_id = NEW.id")


def _party_changed(differs: str) -> str:
    return " OR ".join(f"OLD.{column} {differs} NEW.{column}" for column in PARTY)


def sqlite_client_trigger() -> str:
    # The ORM sets the statement party on every save of a client: the WHEN clause skips the saves that change none.
    return (f"CREATE TRIGGER {CLIENT_TRIGGER} AFTER UPDATE OF {_PARTY_LIST} ON client FOR EACH ROW "
            f"WHEN {_party_changed('IS NOT')} BEGIN {_copy_party()}; END")


def postgresql_client_function() -> str:
    return (f"CREATE OR REPLACE FUNCTION {CLIENT_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"{_copy_party()}; RETURN NULL; END $$")


def postgresql_client_trigger() -> str:
    # Row by row: clients are saved one at a time, and the WHEN clause runs nothing for the saves that change none.
    return (f"CREATE TRIGGER {CLIENT_TRIGGER} AFTER UPDATE OF {_PARTY_LIST} ON client FOR EACH ROW "
            f"WHEN ({_party_changed('IS DISTINCT FROM')}) EXECUTE FUNCTION {CLIENT_FUNCTION}()")


def backfill() -> str:
    """Total the claim balances already kept per client, with the clients' PARTY columns (a migration, before the
    triggers exist)."""
    return (f"INSERT INTO {TABLE} (client_id, patient, {_PARTY_LIST}) "
            f"SELECT cl.id, round(sum(b.patient), 2), {_copied('cl')} FROM claim_balance b "
            f"JOIN claim c ON c.id = b.claim_id JOIN client cl ON cl.id = c.client_id WHERE b.patient <> 0 "
            f"GROUP BY cl.id")


# Schemas made from the models get the triggers too; the migration makes them otherwise.
for _table, _ddl in (
    (LedgerEntry.__table__, DDL(sqlite_entry_trigger()).execute_if(dialect="sqlite")),
    (LedgerEntry.__table__, DDL(postgresql_entry_function()).execute_if(dialect="postgresql")),
    (LedgerEntry.__table__, DDL(postgresql_entry_trigger()).execute_if(dialect="postgresql")),
    (Claim.__table__, DDL(sqlite_claim_trigger()).execute_if(dialect="sqlite")),
    (Claim.__table__, DDL(postgresql_claim_function()).execute_if(dialect="postgresql")),
    (Claim.__table__, DDL(postgresql_claim_trigger()).execute_if(dialect="postgresql")),
    # On the balance table's creation: the client table is made before it.
    (ClientBalance.__table__, DDL(sqlite_client_trigger()).execute_if(dialect="sqlite")),
    (ClientBalance.__table__, DDL(postgresql_client_function()).execute_if(dialect="postgresql")),
    (ClientBalance.__table__, DDL(postgresql_client_trigger()).execute_if(dialect="postgresql")),
):
    event.listen(_table, "after_create", _ddl)

derived(ClientBalance, "Client balances follow the ledger; post a ledger entry instead of writing a balance.")
