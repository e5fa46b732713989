"""Charges and collections per posting month and location, kept beside the ledger by the database itself.

`ledger_month_total` holds, for each month (its first day), location of the claims and group of kinds ("charges":
charge entries; "collections": payer and patient payments, reversals included), the entries' sum and how many claims
had such an entry that month: a claim counts once per month and group, on its first entry of the group that month.
A trigger on `ledger_entry` adds each inserted entry (the ledger is append-only), and one on `claim` moves a claim's
entries should its location change. The Dashboard's months then read one row per month and location; a month the
range only partly covers is read from the ledger itself (billing/dashboard/figures.py).

As the other day totals: PostgreSQL per statement (transition tables, keys in order), SQLite per row;
`flask ledger check` (check "month-total") recomputes from the ledger and compares.
"""

from __future__ import annotations

# ruff: noqa: S608 - the SQL is built from this module's constants, never from input
from sqlalchemy import DDL, event

from billing.core.derived import derived, moved_claims, unless_any
from billing.ledger.models import EntryKind, LedgerEntry, LedgerMonthTotal

#: The groups of kinds the Dashboard totals by month, and the kinds each holds.
GROUPS: dict[str, tuple[EntryKind, ...]] = {
    "charges": (EntryKind.CHARGE,),
    "collections": (EntryKind.INSURANCE_PAYMENT, EntryKind.PATIENT_PAYMENT),
}
TABLE = "ledger_month_total"
KEY = "month, location_id, kinds"
ENTRY_TRIGGER = "ledger_entry_keeps_month_total"
CLAIM_TRIGGER = "claim_update_moves_month_total"
ENTRY_FUNCTION = "month_total_add_entries"
CLAIM_FUNCTION = "month_total_move_claims"
_UPSERT = (f"ON CONFLICT ({KEY}) DO UPDATE SET claims = {TABLE}.claims + excluded.claims, "
           f"amount = {TABLE}.amount + excluded.amount")
_SQLITE_UPSERT = (f"ON CONFLICT ({KEY}) DO UPDATE SET claims = claims + excluded.claims, "
                  f"amount = round(amount + excluded.amount, 2)")


def _kinds(kinds: tuple[EntryKind, ...]) -> str:
    return ", ".join(f"'{kind.value}'" for kind in kinds)


ALL_KINDS = _kinds(tuple(kind for kinds in GROUPS.values() for kind in kinds))


def _group(row: str) -> str:
    """The group name of an entry's kind, in SQL."""
    whens = " ".join(f"WHEN {row}.kind IN ({_kinds(kinds)}) THEN '{name}'" for name, kinds in GROUPS.items())
    return f"CASE {whens} END"


def _in_group(entry: str, group: str) -> str:
    """Whether an entry's kind belongs to the named group (a column holding "charges" or "collections")."""
    whens = " ".join(f"WHEN '{name}' THEN {entry}.kind IN ({_kinds(kinds)})" for name, kinds in GROUPS.items())
    return f"(CASE {group} {whens} END)"


def _sqlite_month(day: str) -> str:
    return f"date({day}, 'start of month')"


def _pg_month(day: str) -> str:
    return f"CAST(date_trunc('month', {day}) AS DATE)"


def sqlite_triggers() -> list[str]:
    insert = f"INSERT INTO {TABLE} ({KEY}, claims, amount)"
    month = _sqlite_month("NEW.posted_on")
    same = (f"SELECT count(*) FROM ledger_entry x WHERE x.claim_id = NEW.claim_id AND {_in_group('x', _group('NEW'))} "
            f"AND x.posted_on >= {month} AND x.posted_on < date(NEW.posted_on, 'start of month', '+1 month')")

    def codes(row: str, sign: str) -> str:
        return (f"SELECT {_sqlite_month('e.posted_on')}, {row}.location_id, {_group('e')}, {sign}count(DISTINCT "
                f"e.claim_id), {sign}sum(e.amount) FROM ledger_entry e WHERE e.claim_id = {row}.id "
                f"AND e.kind IN ({ALL_KINDS}) GROUP BY 1, 3")

    return [
        # The entry is already in the table when an AFTER trigger runs: the claim's first of its group that month is
        # the only one.
        f"CREATE TRIGGER {ENTRY_TRIGGER} AFTER INSERT ON ledger_entry FOR EACH ROW "
        f"WHEN NEW.kind IN ({ALL_KINDS}) BEGIN "
        f"{insert} SELECT {month}, c.location_id, {_group('NEW')}, CASE WHEN ({same}) = 1 THEN 1 ELSE 0 END, "
        f"NEW.amount FROM claim c WHERE c.id = NEW.claim_id {_SQLITE_UPSERT}; END",
        f"CREATE TRIGGER {CLAIM_TRIGGER} AFTER UPDATE OF location_id ON claim FOR EACH ROW "
        f"WHEN OLD.location_id IS NOT NEW.location_id BEGIN "
        f"{insert} {codes('OLD', '-')} {_SQLITE_UPSERT}; "
        f"{insert} {codes('NEW', '')} {_SQLITE_UPSERT}; END",
    ]


def postgresql_functions() -> list[str]:
    # Per (claim, month, group) of the statement: its entries here, and all of them that month; equal counts mean
    # the claim's first of the group that month is among these.
    fresh = (f"SELECT e.claim_id, {_pg_month('e.posted_on')} AS month, {_group('e')} AS kinds, count(*) AS here, "
             f"sum(e.amount) AS amount FROM new_entries e WHERE e.kind IN ({ALL_KINDS}) GROUP BY 1, 2, 3")
    # The claim's entries by its index only: a range on posted_on invites the planner to AND in the posted index,
    # which reads every entry of the month once per claim (1.4 ms a claim at 9,000 claims, growing with the ledger).
    same = (f"SELECT count(*) FROM ledger_entry x WHERE x.claim_id = f.claim_id AND {_in_group('x', 'f.kinds')} "
            f"AND {_pg_month('x.posted_on')} = f.month")
    added = (f"INSERT INTO {TABLE} ({KEY}, claims, amount) SELECT f.month, c.location_id, f.kinds, "
             f"sum(CASE WHEN ({same}) = f.here THEN 1 ELSE 0 END), sum(f.amount) "
             f"FROM ({fresh}) f JOIN claim c ON c.id = f.claim_id GROUP BY 1, 2, 3 ORDER BY 1, 2, 3 {_UPSERT}")
    moved_ids = moved_claims(("location_id",))

    def codes(row: str, sign: str) -> str:
        return (f"SELECT {_pg_month('e.posted_on')}, {row}.location_id, {_group('e')}, {sign}count(DISTINCT "
                f"e.claim_id), {sign}sum(e.amount) FROM {'old_claims' if row == 'o' else 'new_claims'} {row} "
                f"JOIN ledger_entry e ON e.claim_id = {row}.id WHERE {row}.id IN ({moved_ids}) "
                f"AND e.kind IN ({ALL_KINDS}) GROUP BY 1, 2, 3")

    moved = (f"INSERT INTO {TABLE} ({KEY}, claims, amount) SELECT k1, k2, k3, sum(n), sum(a) FROM ("
             f"{codes('o', '-')} UNION ALL {codes('n', '')}) AS d (k1, k2, k3, n, a) "
             f"GROUP BY 1, 2, 3 HAVING sum(n) <> 0 OR sum(a) <> 0 ORDER BY 1, 2, 3 {_UPSERT}")
    return [
        f"CREATE OR REPLACE FUNCTION {ENTRY_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"{added}; RETURN NULL; END $$",
        f"CREATE OR REPLACE FUNCTION {CLAIM_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"{unless_any(moved_ids)}{moved}; RETURN NULL; END $$",
    ]


def postgresql_triggers() -> list[str]:
    return [f"CREATE TRIGGER {ENTRY_TRIGGER} AFTER INSERT ON ledger_entry REFERENCING NEW TABLE AS new_entries "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {ENTRY_FUNCTION}()",
            f"CREATE TRIGGER {CLAIM_TRIGGER} AFTER UPDATE ON claim REFERENCING OLD TABLE AS old_claims "
            f"NEW TABLE AS new_claims FOR EACH STATEMENT EXECUTE FUNCTION {CLAIM_FUNCTION}()"]


def backfill(dialect: str) -> str:
    """Total the entries already in the ledger (a migration, before the triggers exist)."""
    month = _pg_month("e.posted_on") if dialect == "postgresql" else _sqlite_month("e.posted_on")
    return (f"INSERT INTO {TABLE} ({KEY}, claims, amount) SELECT {month}, c.location_id, {_group('e')}, "
            f"count(DISTINCT e.claim_id), round(sum(e.amount), 2) FROM ledger_entry e "
            f"JOIN claim c ON c.id = e.claim_id WHERE e.kind IN ({ALL_KINDS}) GROUP BY 1, 2, 3")


# Schemas made from the models: ledger_entry is created after claim (its foreign key), so both exist by then.
for _ddl in (*(DDL(s).execute_if(dialect="sqlite") for s in sqlite_triggers()),
             *(DDL(s).execute_if(dialect="postgresql") for s in (*postgresql_functions(), *postgresql_triggers()))):
    event.listen(LedgerEntry.__table__, "after_create", _ddl)

derived(LedgerMonthTotal, "Monthly totals follow the ledger; post a ledger entry instead of writing a total.")
