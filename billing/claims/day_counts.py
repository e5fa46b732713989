"""Claims counted per service day, location, payer and status, kept beside the claim table by the database itself.

`claim_day_count` holds, for each (service_date, location_id, payer_id, status, self_pay), how many claims there are
and what they bill. Triggers on `claim` move a claim's count from its old key to its new one whenever one of those
columns or its total changes, in the statement that changes it, whichever code path runs it (the ORM, a set-based
mark-sent, a migration). The Dashboard's claim figures (claims by status, denial rate by payer) and the claims
queue's tab counts then read a few rows per service day instead of every claim, whatever the claim table's size.

PostgreSQL applies a whole statement's rows at once (statement triggers over transition tables, keys in order so
two writers never deadlock on them); SQLite, which has only row triggers, one claim at a time. `flask ledger check`
(check "claim-day-count") recounts the claims and compares.
"""

from __future__ import annotations

# ruff: noqa: S608 - the SQL is built from this module's constants, never from input
from decimal import Decimal

from sqlalchemy import DDL, ColumnElement, event, func, select

from billing.claims.models import Claim, ClaimDayCount
from billing.claims.statuses import ClaimStatus
from billing.core.db import db
from billing.core.derived import derived
from billing.core.money import to_money

TABLE = "claim_day_count"
KEY = "service_date, location_id, payer_id, status, self_pay"
FUNCTION = "claim_day_count_apply"
#: Trigger names: one per operation on `claim`.
TRIGGERS = {op: f"claim_{op.lower()}_keeps_day_count" for op in ("INSERT", "UPDATE", "DELETE")}
_UPSERT = (f"ON CONFLICT ({KEY}) DO UPDATE SET claims = {TABLE}.claims + excluded.claims, "
           f"billed = {TABLE}.billed + excluded.billed")
# SQLite sums NUMERIC as floats: rounded to the cent at every step, the running total stays exact.
_SQLITE_UPSERT = (f"ON CONFLICT ({KEY}) DO UPDATE SET claims = claims + excluded.claims, "
                  f"billed = round(billed + excluded.billed, 2)")
_COLUMNS = ("service_date", "location_id", "payer_id", "status", "self_pay", "total_charge")


def _key(row: str) -> str:
    return f"{row}.service_date, {row}.location_id, coalesce({row}.payer_id, 0), {row}.status, {row}.self_pay"


def sqlite_triggers() -> list[str]:
    insert = f"INSERT INTO {TABLE} ({KEY}, claims, billed) VALUES"
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in _COLUMNS)
    return [
        f"CREATE TRIGGER {TRIGGERS['INSERT']} AFTER INSERT ON claim FOR EACH ROW BEGIN "
        f"{insert} ({_key('NEW')}, 1, NEW.total_charge) {_SQLITE_UPSERT}; END",
        f"CREATE TRIGGER {TRIGGERS['DELETE']} AFTER DELETE ON claim FOR EACH ROW BEGIN "
        f"{insert} ({_key('OLD')}, -1, -OLD.total_charge) {_SQLITE_UPSERT}; END",
        f"CREATE TRIGGER {TRIGGERS['UPDATE']} AFTER UPDATE OF {', '.join(_COLUMNS)} ON claim FOR EACH ROW "
        f"WHEN {changed} BEGIN "
        f"{insert} ({_key('OLD')}, -1, -OLD.total_charge) {_SQLITE_UPSERT}; "
        f"{insert} ({_key('NEW')}, 1, NEW.total_charge) {_SQLITE_UPSERT}; END",
    ]


def postgresql_function() -> str:
    changed = (f"(o.{', o.'.join(_COLUMNS)}) IS DISTINCT FROM (n.{', n.'.join(_COLUMNS)})")
    moved = (f"SELECT {_key('o')}, -1, -o.total_charge FROM old_claims o JOIN new_claims n ON n.id = o.id "
             f"WHERE {changed} UNION ALL "
             f"SELECT {_key('n')}, 1, n.total_charge FROM old_claims o JOIN new_claims n ON n.id = o.id "
             f"WHERE {changed}")
    return (
        f"CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF TG_OP = 'INSERT' THEN "
        f"INSERT INTO {TABLE} ({KEY}, claims, billed) SELECT {_key('n')}, count(*), sum(n.total_charge) "
        f"FROM new_claims n GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5 {_UPSERT}; "
        f"ELSIF TG_OP = 'DELETE' THEN "
        f"INSERT INTO {TABLE} ({KEY}, claims, billed) SELECT {_key('o')}, -count(*), -sum(o.total_charge) "
        f"FROM old_claims o GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5 {_UPSERT}; "
        f"ELSE "
        f"INSERT INTO {TABLE} ({KEY}, claims, billed) SELECT k1, k2, k3, k4, k5, sum(n), sum(b) "
        f"FROM ({moved}) AS d (k1, k2, k3, k4, k5, n, b) GROUP BY 1, 2, 3, 4, 5 "
        f"HAVING sum(n) <> 0 OR sum(b) <> 0 ORDER BY 1, 2, 3, 4, 5 {_UPSERT}; "
        f"END IF; RETURN NULL; END $$"
    )


def postgresql_triggers() -> list[str]:
    tables = {"INSERT": "NEW TABLE AS new_claims", "DELETE": "OLD TABLE AS old_claims",
              "UPDATE": "OLD TABLE AS old_claims NEW TABLE AS new_claims"}
    return [f"CREATE TRIGGER {TRIGGERS[op]} AFTER {op} ON claim REFERENCING {tables[op]} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()" for op in ("INSERT", "UPDATE", "DELETE")]


def backfill() -> str:
    """Count the claims already there (a migration, before the triggers exist)."""
    return (f"INSERT INTO {TABLE} ({KEY}, claims, billed) SELECT {_key('claim')}, count(*), "
            f"coalesce(round(sum(claim.total_charge), 2), 0) FROM claim GROUP BY 1, 2, 3, 4, 5")


# A schema made from the models (tests' scratch databases) gets the triggers once `claim` exists; the migration makes
# them otherwise. The bodies name claim_day_count, which both databases look up only when a trigger fires.
for _ddl in (*(DDL(s).execute_if(dialect="sqlite") for s in sqlite_triggers()),
             DDL(postgresql_function()).execute_if(dialect="postgresql"),
             *(DDL(s).execute_if(dialect="postgresql") for s in postgresql_triggers())):
    event.listen(Claim.__table__, "after_create", _ddl)

derived(ClaimDayCount, "Claim counts follow the claims; change the claim instead of its count.")


def status_totals(*where: ColumnElement[bool]) -> list[tuple[ClaimStatus, bool, int, Decimal]]:
    """(status, self-pay, claims, billed) over every service day, for the kept keys meeting `where` (conditions on
    ClaimDayCount, e.g. its location in a scope): the front page's and the claims queue's counts, read from a few
    rows per day. Keys whose claims all moved on are left out."""
    kept = ClaimDayCount
    rows = db.session.execute(
        select(kept.status, kept.self_pay, func.sum(kept.claims), func.coalesce(func.sum(kept.billed), 0))
        .where(*where)
        .group_by(kept.status, kept.self_pay)
        .having(func.sum(kept.claims) != 0)
    )
    return [(status, bool(self_pay), int(n), to_money(billed)) for status, self_pay, n, billed in rows]
