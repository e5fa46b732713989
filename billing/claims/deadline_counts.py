"""Claims counted per filing deadline, location and status, kept beside the claim table by the database itself.

`claim_deadline_count` holds, for each (filing_deadline, location_id, status), how many claims there are and what
they bill; claims without a deadline (no payer, self-pay) are not counted. Triggers on `claim` move a claim's count
from its old key to its new one whenever its deadline, location, status or total changes, in the statement that
changes it: the deadline triggers' own updates (billing/payments/deadline_triggers.py: an 835's adjudication, a
payer's new windows) included. "How many claims not yet with the payer are due by a day" (filing.due_count: the
front page, the Dashboard, the Filing deadlines page's totals) then sums a few rows per deadline day instead of
reading every such claim: at a billing company's size, hundreds of thousands of late Ready claims.

PostgreSQL applies a whole statement's rows at once (statement triggers over transition tables, keys in order so two
writers never deadlock on them); SQLite, which has only row triggers, one claim at a time. `flask ledger check`
(check "claim-deadline-count") recounts the claims and compares.
"""

from __future__ import annotations

# ruff: noqa: S608 - the SQL is built from this module's constants, never from input
from sqlalchemy import DDL, event

from billing.claims.models import Claim, ClaimDeadlineCount
from billing.core.derived import derived, moved_claims, unless_any

TABLE = "claim_deadline_count"
KEY = "filing_deadline, location_id, status"
FUNCTION = "claim_deadline_count_apply"
#: Trigger names: one per operation on `claim`.
TRIGGERS = {op: f"claim_{op.lower()}_keeps_deadline_count" for op in ("INSERT", "UPDATE", "DELETE")}
_UPSERT = (f"ON CONFLICT ({KEY}) DO UPDATE SET claims = {TABLE}.claims + excluded.claims, "
           f"billed = {TABLE}.billed + excluded.billed")
# SQLite sums NUMERIC as floats: rounded to the cent at every step, the running total stays exact.
_SQLITE_UPSERT = (f"ON CONFLICT ({KEY}) DO UPDATE SET claims = claims + excluded.claims, "
                  f"billed = round(billed + excluded.billed, 2)")
_COLUMNS = ("filing_deadline", "location_id", "status", "total_charge")


def _key(row: str) -> str:
    return f"{row}.filing_deadline, {row}.location_id, {row}.status"


def _counted(row: str) -> str:
    return f"{row}.filing_deadline IS NOT NULL"


def sqlite_triggers() -> list[str]:
    insert = f"INSERT INTO {TABLE} ({KEY}, claims, billed) SELECT"
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in _COLUMNS)
    leave = f"{insert} {_key('OLD')}, -1, -OLD.total_charge WHERE {_counted('OLD')} {_SQLITE_UPSERT}"
    join = f"{insert} {_key('NEW')}, 1, NEW.total_charge WHERE {_counted('NEW')} {_SQLITE_UPSERT}"
    return [
        f"CREATE TRIGGER {TRIGGERS['INSERT']} AFTER INSERT ON claim FOR EACH ROW BEGIN {join}; END",
        f"CREATE TRIGGER {TRIGGERS['DELETE']} AFTER DELETE ON claim FOR EACH ROW BEGIN {leave}; END",
        f"CREATE TRIGGER {TRIGGERS['UPDATE']} AFTER UPDATE OF {', '.join(_COLUMNS)} ON claim FOR EACH ROW "
        f"WHEN {changed} BEGIN {leave}; {join}; END",
    ]


def postgresql_function() -> str:
    changed = f"(o.{', o.'.join(_COLUMNS)}) IS DISTINCT FROM (n.{', n.'.join(_COLUMNS)})"
    pairs = "FROM old_claims o JOIN new_claims n ON n.id = o.id"
    moved = (f"SELECT {_key('o')}, -1, -o.total_charge {pairs} WHERE {changed} AND {_counted('o')} UNION ALL "
             f"SELECT {_key('n')}, 1, n.total_charge {pairs} WHERE {changed} AND {_counted('n')}")
    return (
        f"CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF TG_OP = 'INSERT' THEN "
        f"INSERT INTO {TABLE} ({KEY}, claims, billed) SELECT {_key('n')}, count(*), sum(n.total_charge) "
        f"FROM new_claims n WHERE {_counted('n')} GROUP BY 1, 2, 3 ORDER BY 1, 2, 3 {_UPSERT}; "
        f"ELSIF TG_OP = 'DELETE' THEN "
        f"INSERT INTO {TABLE} ({KEY}, claims, billed) SELECT {_key('o')}, -count(*), -sum(o.total_charge) "
        f"FROM old_claims o WHERE {_counted('o')} GROUP BY 1, 2, 3 ORDER BY 1, 2, 3 {_UPSERT}; "
        f"ELSE {unless_any(moved_claims(_COLUMNS))}"
        f"INSERT INTO {TABLE} ({KEY}, claims, billed) SELECT k1, k2, k3, sum(n), sum(b) "
        f"FROM ({moved}) AS d (k1, k2, k3, n, b) GROUP BY 1, 2, 3 "
        f"HAVING sum(n) <> 0 OR sum(b) <> 0 ORDER BY 1, 2, 3 {_UPSERT}; "
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
            f"coalesce(round(sum(claim.total_charge), 2), 0) FROM claim WHERE {_counted('claim')} GROUP BY 1, 2, 3")


# A schema made from the models (tests' scratch databases) gets the triggers once `claim` exists; the migration makes
# them otherwise. The bodies name claim_deadline_count, which both databases look up only when a trigger fires.
for _ddl in (*(DDL(s).execute_if(dialect="sqlite") for s in sqlite_triggers()),
             DDL(postgresql_function()).execute_if(dialect="postgresql"),
             *(DDL(s).execute_if(dialect="postgresql") for s in postgresql_triggers())):
    event.listen(Claim.__table__, "after_create", _ddl)

derived(ClaimDeadlineCount, "Deadline counts follow the claims; change the claim instead of its count.")
