"""Receivables per service day, location and payer, kept beside the claim balances by the database itself.

`ar_day_total` holds, for each (service_date, location_id, payer_id) of the claims, what insurance and patients owe
on them and how many claims owe something on each side. It moves with `claim_balance` (billing/ledger/
claim_balances.py): the ledger trigger that adds an entry to a claim's balance first adds the change to its day's
row, counting the claim in or out as its balance leaves or reaches zero; and a trigger on `claim` moves a claim's
balance if its day, location or payer changes. The Dashboard's A/R by age and by payer, and the front page's
receivables, then read a few rows per service day instead of every claim that owes.

On PostgreSQL the balances about to change are locked first, so two postings to one claim count it once.
`flask ledger check` (check "ar-day") recounts from the claim balances and compares.
"""

from __future__ import annotations

# ruff: noqa: S608 - the SQL is built from this module's constants, never from input
from sqlalchemy import DDL, event

from billing.claims.models import Claim
from billing.core.derived import derived, moved_claims, unless_any
from billing.ledger.models import ArDayTotal

TABLE = "ar_day_total"
KEY = "service_date, location_id, payer_id"
COLUMNS = f"{KEY}, insurance, patient, insurance_claims, patient_claims"
CLAIM_TRIGGER = "claim_update_moves_ar_day"
CLAIM_FUNCTION = "ar_day_move_claims"
_UPSERT = (f"ON CONFLICT ({KEY}) DO UPDATE SET insurance = {TABLE}.insurance + excluded.insurance, "
           f"patient = {TABLE}.patient + excluded.patient, "
           f"insurance_claims = {TABLE}.insurance_claims + excluded.insurance_claims, "
           f"patient_claims = {TABLE}.patient_claims + excluded.patient_claims")
# SQLite sums NUMERIC as floats: rounded to the cent at every step, they stay exact.
_SQLITE_UPSERT = (f"ON CONFLICT ({KEY}) DO UPDATE SET insurance = round(insurance + excluded.insurance, 2), "
                  f"patient = round(patient + excluded.patient, 2), "
                  f"insurance_claims = insurance_claims + excluded.insurance_claims, "
                  f"patient_claims = patient_claims + excluded.patient_claims")


def _owes(amount: str) -> str:
    """1 if the amount is not zero to the cent, else 0."""
    return f"(CASE WHEN round({amount}, 2) <> 0 THEN 1 ELSE 0 END)"


def _turns(before: str, change: str) -> str:
    """+1 when a balance leaves zero, -1 when it reaches it, else 0."""
    return f"({_owes(f'{before} + {change}')} - {_owes(before)})"


def _key(row: str) -> str:
    return f"{row}.service_date, {row}.location_id, coalesce({row}.payer_id, 0)"


def sqlite_entry_statement(insurance: str, patient: str) -> str:
    """For the ledger's row trigger, before the claim's balance moves: its day's row moves by the entry's effect
    (`insurance`, `patient`: SQL over NEW)."""
    ins, pat = "coalesce(b.insurance, 0)", "coalesce(b.patient, 0)"
    return (f"INSERT INTO {TABLE} ({COLUMNS}) SELECT {_key('c')}, {insurance}, {patient}, "
            f"{_turns(ins, insurance)}, {_turns(pat, patient)} "
            f"FROM claim c LEFT JOIN claim_balance b ON b.claim_id = c.id WHERE c.id = NEW.claim_id {_SQLITE_UPSERT}")


def postgresql_entry_statements(insurance: str, patient: str) -> list[str]:
    """For the ledger's statement trigger, before the balances move (`insurance`, `patient`: SQL over entries e)."""
    ins, pat = "coalesce(b.insurance, 0)", "coalesce(b.patient, 0)"
    changes = (f"SELECT e.claim_id, sum({insurance}) AS ins, sum({patient}) AS pat FROM new_entries e "
               f"GROUP BY e.claim_id")
    return [
        # The balances about to change, locked in claim order: a concurrent posting to the same claim waits here,
        # then this one reads the balance it left.
        "PERFORM 1 FROM claim_balance b WHERE b.claim_id IN (SELECT claim_id FROM new_entries) "
        "ORDER BY b.claim_id FOR UPDATE",
        f"INSERT INTO {TABLE} ({COLUMNS}) SELECT {_key('c')}, sum(d.ins), sum(d.pat), "
        f"sum{_turns(ins, 'd.ins')}, sum{_turns(pat, 'd.pat')} "
        f"FROM ({changes}) d JOIN claim c ON c.id = d.claim_id LEFT JOIN claim_balance b ON b.claim_id = d.claim_id "
        f"GROUP BY 1, 2, 3 ORDER BY 1, 2, 3 {_UPSERT}",
    ]


def _balance_of(row: str, sign: str) -> str:
    return (f"SELECT {_key(row)}, {sign}b.insurance, {sign}b.patient, {sign}{_owes('b.insurance')}, "
            f"{sign}{_owes('b.patient')} FROM claim_balance b WHERE b.claim_id = {row}.id")


def sqlite_claim_trigger() -> str:
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in ("service_date", "location_id", "payer_id"))
    insert = f"INSERT INTO {TABLE} ({COLUMNS})"
    return (f"CREATE TRIGGER {CLAIM_TRIGGER} AFTER UPDATE OF service_date, location_id, payer_id ON claim "
            f"FOR EACH ROW WHEN {changed} BEGIN "
            f"{insert} {_balance_of('OLD', '-')} {_SQLITE_UPSERT}; "
            f"{insert} {_balance_of('NEW', '')} {_SQLITE_UPSERT}; END")


def postgresql_claim_function() -> str:
    changed = "(o.service_date, o.location_id, o.payer_id) IS DISTINCT FROM (n.service_date, n.location_id, n.payer_id)"
    moved = (f"FROM old_claims o JOIN new_claims n ON n.id = o.id JOIN claim_balance b ON b.claim_id = o.id "
             f"WHERE {changed}")
    rows = (f"SELECT {_key('o')}, -b.insurance, -b.patient, -{_owes('b.insurance')}, -{_owes('b.patient')} {moved} "
            f"UNION ALL "
            f"SELECT {_key('n')}, b.insurance, b.patient, {_owes('b.insurance')}, {_owes('b.patient')} {moved}")
    return (f"CREATE OR REPLACE FUNCTION {CLAIM_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"{unless_any(moved_claims(('service_date', 'location_id', 'payer_id')))}"
            f"INSERT INTO {TABLE} ({COLUMNS}) SELECT k1, k2, k3, sum(i), sum(p), sum(ni), sum(np) FROM ({rows}) "
            f"AS d (k1, k2, k3, i, p, ni, np) GROUP BY 1, 2, 3 ORDER BY 1, 2, 3 {_UPSERT}; RETURN NULL; END $$")


def postgresql_claim_trigger() -> str:
    return (f"CREATE TRIGGER {CLAIM_TRIGGER} AFTER UPDATE ON claim REFERENCING OLD TABLE AS old_claims "
            f"NEW TABLE AS new_claims FOR EACH STATEMENT EXECUTE FUNCTION {CLAIM_FUNCTION}()")


def backfill() -> str:
    """Total the balances already kept (a migration, before the triggers exist)."""
    return (f"INSERT INTO {TABLE} ({COLUMNS}) SELECT {_key('c')}, round(sum(b.insurance), 2), "
            f"round(sum(b.patient), 2), sum{_owes('b.insurance')}, sum{_owes('b.patient')} "
            f"FROM claim_balance b JOIN claim c ON c.id = b.claim_id GROUP BY 1, 2, 3")


# Schemas made from the models: the claim's trigger (the ledger's own lives in claim_balances.py).
for _ddl in (DDL(sqlite_claim_trigger()).execute_if(dialect="sqlite"),
             DDL(postgresql_claim_function()).execute_if(dialect="postgresql"),
             DDL(postgresql_claim_trigger()).execute_if(dialect="postgresql")):
    event.listen(Claim.__table__, "after_create", _ddl)

derived(ArDayTotal, "Receivables follow the ledger; post a ledger entry instead of writing a total.")
