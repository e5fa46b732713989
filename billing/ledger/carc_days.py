"""Adjustment reason codes per service day and location, kept beside the ledger by the database itself.

`carc_day_total` holds, for each (service_date, location_id) of the claims and each group and reason code (CO-45),
how many claims carry an entry with that code and the sum of those entries. A trigger on `ledger_entry` adds every
inserted entry (the ledger is append-only); a claim counts once per code, on its first entry with it. A trigger on
`claim` moves a claim's codes if its service date or location ever changes. The Dashboard's top CARCs then read a
few rows per day instead of every adjustment of the range.

As billing/ledger/claim_balances.py: PostgreSQL applies a statement's rows at once (transition tables, keys in
order), SQLite one row at a time; `flask ledger check` (check "carc-day") recomputes from the ledger and compares.
"""

from __future__ import annotations

# ruff: noqa: S608 - the SQL is built from this module's constants, never from input
from sqlalchemy import DDL, event

from billing.core.derived import derived, moved_claims, unless_any
from billing.ledger.models import CarcDayTotal, LedgerEntry

TABLE = "carc_day_total"
KEY = "service_date, location_id, group_code, reason_code"
ENTRY_TRIGGER = "ledger_entry_keeps_carc_day"
CLAIM_TRIGGER = "claim_update_moves_carc_day"
ENTRY_FUNCTION = "carc_day_add_entries"
CLAIM_FUNCTION = "carc_day_move_claims"
_UPSERT = (f"ON CONFLICT ({KEY}) DO UPDATE SET claims = {TABLE}.claims + excluded.claims, "
           f"amount = {TABLE}.amount + excluded.amount")
_SQLITE_UPSERT = (f"ON CONFLICT ({KEY}) DO UPDATE SET claims = claims + excluded.claims, "
                  f"amount = round(amount + excluded.amount, 2)")
_CODED = "e.group_code IS NOT NULL AND e.reason_code IS NOT NULL"


def _same_code(entry: str, claim_id: str) -> str:
    return (f"SELECT count(*) FROM ledger_entry x WHERE x.claim_id = {claim_id} "
            f"AND x.group_code = {entry}.group_code AND x.reason_code = {entry}.reason_code")


def _claim_codes(row: str, sign: str) -> str:
    """One claim's codes as rows to add (sign '') or take away (sign '-')."""
    return (f"SELECT {row}.service_date, {row}.location_id, e.group_code, e.reason_code, {sign}1, "
            f"{sign}sum(e.amount) FROM ledger_entry e WHERE e.claim_id = {row}.id AND {_CODED} "
            f"GROUP BY e.group_code, e.reason_code")


def sqlite_triggers() -> list[str]:
    insert = f"INSERT INTO {TABLE} ({KEY}, claims, amount)"
    changed = "OLD.service_date IS NOT NEW.service_date OR OLD.location_id IS NOT NEW.location_id"
    return [
        # The entry is already in the table when an AFTER trigger runs: the claim's first with this code is the
        # only one with it.
        f"CREATE TRIGGER {ENTRY_TRIGGER} AFTER INSERT ON ledger_entry FOR EACH ROW "
        f"WHEN NEW.group_code IS NOT NULL AND NEW.reason_code IS NOT NULL BEGIN "
        f"{insert} SELECT c.service_date, c.location_id, NEW.group_code, NEW.reason_code, "
        f"CASE WHEN ({_same_code('NEW', 'NEW.claim_id')}) = 1 THEN 1 ELSE 0 END, NEW.amount "
        f"FROM claim c WHERE c.id = NEW.claim_id {_SQLITE_UPSERT}; END",
        f"CREATE TRIGGER {CLAIM_TRIGGER} AFTER UPDATE OF service_date, location_id ON claim FOR EACH ROW "
        f"WHEN {changed} BEGIN "
        f"{insert} {_claim_codes('OLD', '-')} {_SQLITE_UPSERT}; "
        f"{insert} {_claim_codes('NEW', '')} {_SQLITE_UPSERT}; END",
    ]


def postgresql_functions() -> list[str]:
    # Per (claim, code) of the statement: its entries here, and all of them; equal counts mean the code is new to
    # the claim. (One index look-up per pair: the transition table has no index to probe per entry.)
    fresh = (f"SELECT e.claim_id, e.group_code, e.reason_code, count(*) AS here, sum(e.amount) AS amount "
             f"FROM new_entries e WHERE {_CODED} GROUP BY 1, 2, 3")
    added = (f"INSERT INTO {TABLE} ({KEY}, claims, amount) "
             f"SELECT c.service_date, c.location_id, f.group_code, f.reason_code, "
             f"sum(CASE WHEN ({_same_code('f', 'f.claim_id')}) = f.here THEN 1 ELSE 0 END), sum(f.amount) "
             f"FROM ({fresh}) f JOIN claim c ON c.id = f.claim_id GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4 {_UPSERT}")
    moved_ids = moved_claims(("service_date", "location_id"))
    moved = (f"INSERT INTO {TABLE} ({KEY}, claims, amount) SELECT k1, k2, k3, k4, sum(n), sum(a) FROM ("
             f"SELECT o.service_date, o.location_id, e.group_code, e.reason_code, -1, -sum(e.amount) "
             f"FROM old_claims o JOIN ledger_entry e ON e.claim_id = o.id WHERE o.id IN ({moved_ids}) AND {_CODED} "
             f"GROUP BY o.id, 1, 2, 3, 4 UNION ALL "
             f"SELECT n.service_date, n.location_id, e.group_code, e.reason_code, 1, sum(e.amount) "
             f"FROM new_claims n JOIN ledger_entry e ON e.claim_id = n.id WHERE n.id IN ({moved_ids}) AND {_CODED} "
             f"GROUP BY n.id, 1, 2, 3, 4) AS d (k1, k2, k3, k4, n, a) "
             f"GROUP BY 1, 2, 3, 4 HAVING sum(n) <> 0 OR sum(a) <> 0 ORDER BY 1, 2, 3, 4 {_UPSERT}")
    return [
        f"CREATE OR REPLACE FUNCTION {ENTRY_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"{added}; RETURN NULL; END $$",
        f"CREATE OR REPLACE FUNCTION {CLAIM_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"{unless_any(moved_ids)}{moved}; RETURN NULL; END $$",
    ]


def postgresql_triggers() -> tuple[list[str], list[str]]:
    """(the trigger on ledger_entry, the trigger on claim)."""
    return ([f"CREATE TRIGGER {ENTRY_TRIGGER} AFTER INSERT ON ledger_entry REFERENCING NEW TABLE AS new_entries "
             f"FOR EACH STATEMENT EXECUTE FUNCTION {ENTRY_FUNCTION}()"],
            [f"CREATE TRIGGER {CLAIM_TRIGGER} AFTER UPDATE ON claim REFERENCING OLD TABLE AS old_claims "
             f"NEW TABLE AS new_claims FOR EACH STATEMENT EXECUTE FUNCTION {CLAIM_FUNCTION}()"])


def backfill() -> str:
    """Total the codes already in the ledger (a migration, before the triggers exist)."""
    per_claim = (f"SELECT e.claim_id, e.group_code, e.reason_code, sum(e.amount) AS amount FROM ledger_entry e "
                 f"WHERE {_CODED} GROUP BY 1, 2, 3")
    return (f"INSERT INTO {TABLE} ({KEY}, claims, amount) SELECT c.service_date, c.location_id, p.group_code, "
            f"p.reason_code, count(*), round(sum(p.amount), 2) FROM ({per_claim}) p JOIN claim c ON c.id = p.claim_id "
            f"GROUP BY 1, 2, 3, 4")


# Schemas made from the models: ledger_entry is created after claim (its foreign key), so both exist by then.
_entry_pg, _claim_pg = postgresql_triggers()
for _ddl in (*(DDL(s).execute_if(dialect="sqlite") for s in sqlite_triggers()),
             *(DDL(s).execute_if(dialect="postgresql") for s in (*postgresql_functions(), *_entry_pg, *_claim_pg))):
    event.listen(LedgerEntry.__table__, "after_create", _ddl)

derived(CarcDayTotal, "Reason-code totals follow the ledger; post a ledger entry instead of writing a total.")
