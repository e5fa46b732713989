"""Each claim's two balances, kept beside the ledger by the database itself, so pages never sum the ledger.

`claim_balance` holds, per claim, what insurance and the patient owe: the running sum of its ledger entries with
the signs of EFFECTS. A trigger on `ledger_entry` adds every inserted entry in the same statement and transaction,
whichever code path inserts it (an ORM add, a bulk insert of an 835, a migration), and the ledger is append-only,
so the two can only part if someone edits tables by hand: `flask ledger check` (check "claim-balance") compares
them. PostgreSQL adds a whole INSERT's rows at once (a statement trigger over its transition table, claims in id
order so two postings never deadlock); SQLite, which has only row triggers, adds them one by one.

The same trigger first moves the receivables per service day (`ar_day_total`, billing/ledger/ar_days.py) by the
entry's effect, reading the claim's balance before it changes.

Nothing in the application writes this table. Reads that must be exact as of a past date (AR Aging as of a
month-end) still sum the ledger; "now" reads (front-page receivables, the claims queue) read this.
"""

from __future__ import annotations

from sqlalchemy import DDL, event

from billing.core.derived import derived
from billing.ledger import ar_days
from billing.ledger.models import EFFECTS, ClaimBalance, LedgerEntry

TRIGGER = "ledger_entry_keeps_claim_balance"
FUNCTION = "claim_balance_add_entries"


def signed_effect(index: int, row: str) -> str:
    """SQL for one entry's effect on the insurance (0) or patient (1) balance."""
    whens = " ".join(f"WHEN '{kind.value}' THEN {'' if effect[index] > 0 else '-'}{row}.amount"
                     for kind, effect in EFFECTS.items() if effect[index])
    return f"CASE {row}.kind {whens} ELSE 0 END"


def sqlite_trigger() -> str:
    # The receivables per day (billing/ledger/ar_days.py) move first: they read the balance before this entry.
    return (f"CREATE TRIGGER {TRIGGER} AFTER INSERT ON ledger_entry FOR EACH ROW BEGIN "  # noqa: S608 - constants
            f"{ar_days.sqlite_entry_statement(signed_effect(0, 'NEW'), signed_effect(1, 'NEW'))}; "
            f"INSERT INTO claim_balance (claim_id, insurance, patient) "
            f"VALUES (NEW.claim_id, {signed_effect(0, 'NEW')}, {signed_effect(1, 'NEW')}) "
            # SQLite keeps NUMERIC sums as floats: rounded to the cent at every step, they stay exact.
            f"ON CONFLICT (claim_id) DO UPDATE SET insurance = round(insurance + excluded.insurance, 2), "
            f"patient = round(patient + excluded.patient, 2); END")


def postgresql_function() -> str:
    receivables = "; ".join(ar_days.postgresql_entry_statements(signed_effect(0, "e"), signed_effect(1, "e")))
    return (f"CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "  # noqa: S608
            f"{receivables}; "
            f"INSERT INTO claim_balance (claim_id, insurance, patient) "
            f"SELECT claim_id, sum({signed_effect(0, 'e')}), sum({signed_effect(1, 'e')}) FROM new_entries e "
            f"GROUP BY claim_id ORDER BY claim_id "
            f"ON CONFLICT (claim_id) DO UPDATE SET insurance = claim_balance.insurance + excluded.insurance, "
            f"patient = claim_balance.patient + excluded.patient; RETURN NULL; END $$")


def postgresql_trigger() -> str:
    return (f"CREATE TRIGGER {TRIGGER} AFTER INSERT ON ledger_entry REFERENCING NEW TABLE AS new_entries "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()")


# A schema made from the models (tests' scratch databases) gets the trigger too, once ledger_entry exists (the
# trigger's body only names claim_balance, looked up when it fires); the migration makes it otherwise.
for ddl in (DDL(sqlite_trigger()).execute_if(dialect="sqlite"),
            DDL(postgresql_function()).execute_if(dialect="postgresql"),
            DDL(postgresql_trigger()).execute_if(dialect="postgresql")):
    event.listen(LedgerEntry.__table__, "after_create", ddl)

derived(ClaimBalance, "Claim balances follow the ledger; post a ledger entry instead of writing a balance.")
