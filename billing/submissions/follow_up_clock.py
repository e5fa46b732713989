"""Each waiting claim's follow-up clock, kept beside the claims by the database itself.

`claim_follow_up_clock` holds one row per claim waiting at a payer (Submitted, not self-pay): the moment it was
last sent (`sent_at`), the later of that and its creation (`since_at`), the payer's latest word (`heard_on`), and
the next follow-up date that still stands (`next_on`). The follow-up queue and the front page's count read the due
claims from its two partial indexes instead of working out every waiting claim's clocks in Python (889,463 of them
at a billing company's size: 18 s for the front page).

Every trigger recomputes the rows of the claims it touched from the sources (`recompute_sql`), so a row is the
same whichever code path, and in whichever order, wrote them:
- a claim inserted, or its status, self-pay flag, payer, location or created_at changed: it joins, moves or leaves;
- a status_change to Submitted about a claim: its sending moment;
- an adjudication (835, EOB, reversal), a 277CA answer with a date, a 277 answer that counts as hearing from the
  payer: its heard_on, for claims that have a row (only waiting claims are read; an 835's claims going Paid leave
  through the claim trigger);
- a claim_follow_up written (a note's or a 277 answer's next date): its next_on.
PostgreSQL follows a whole statement at once (statement triggers over transition tables, planned to go through
indexes only, as billing/payments/deadline_triggers.py explains); SQLite, with row triggers, one row at a time.
`flask ledger check` (check "follow-up-clock") recomputes every waiting claim's row and compares.

Nothing here depends on the practice's time zone: moments stay UTC and the payer's word is a date. The next
date's validity compares them with the practice's day it was set on and that day's end, which the application
keeps beside next_set_at (ClaimFollowUp.next_set_on, next_set_day_ends_at).
"""

from __future__ import annotations

# ruff: noqa: S608 - the SQL is built from this module's constants, never from input
from sqlalchemy import DDL, event

from billing.claims.models import Claim
from billing.claims.statuses import ClaimStatus
from billing.core.audit import StatusChange
from billing.core.derived import derived, index_lookups_only, moved_claims, unless_any
from billing.ledger.models import Adjudication
from billing.submissions.claim_status_models import ClaimStatusResponse, StatusOutcome
from billing.submissions.follow_up_models import ClaimFollowUp, ClaimFollowUpClock
from billing.submissions.models import AckKind, ClaimAcknowledgment

TABLE = "claim_follow_up_clock"
COLUMNS = ("location_id", "payer_id", "sent_at", "since_at", "heard_on", "next_on")
#: The claim columns a row follows (besides the id).
CLAIM_INPUTS = ("status", "self_pay", "payer_id", "location_id", "created_at")
SUBMITTED = ClaimStatus.SUBMITTED.value
HEARD = ", ".join(f"'{o.value}'" for o in StatusOutcome if o.counts_as_heard)


def _waiting(dialect: str, row: str) -> str:
    no = "false" if dialect == "postgresql" else "0"
    return f"{row}.status = '{SUBMITTED}' AND {row}.self_pay = {no}"


def _latest(dialect: str, values: list[str]) -> str:
    """The latest of some dates or moments, none when all are null."""
    if dialect == "postgresql":
        return f"greatest({', '.join(values)})"  # greatest() skips nulls
    # SQLite's max() of several is null if any is; '' sorts before every ISO date or moment.
    return f"nullif(max({', '.join(f'coalesce({v}, {chr(39) * 2})' for v in values)}), '')"


def _sources(row: str) -> tuple[str, list[str]]:
    """SQL for the moment the claim `row` was last sent, and for each of the payer's kinds of word on it."""
    sent = (f"(SELECT max(s.at) FROM status_change s WHERE s.subject_type = 'claim' AND s.subject_id = {row}.id "
            f"AND s.to_status = '{SUBMITTED}')")
    paid = f"(SELECT max(a.paid_on) FROM adjudication a WHERE a.claim_id = {row}.id)"
    acked = (f"(SELECT max(ca.effective_on) FROM claim_acknowledgment ca JOIN acknowledgment ak "
             f"ON ak.id = ca.acknowledgment_id WHERE ca.claim_id = {row}.id AND ak.kind = '{AckKind.CLAIM.value}')")
    answered = (f"(SELECT max(r.heard_on) FROM claim_status_response r WHERE r.claim_id = {row}.id "
                f"AND r.outcome IN ({HEARD}))")
    return sent, [paid, acked, answered]


def clocks_sql(dialect: str, claim_ids: str | None) -> str:
    """A SELECT of the rows (claim_id, *COLUMNS) the waiting claims among `claim_ids` (a SELECT; None: all) should
    have, worked out from the sources."""
    sent, heard = _sources("c")
    since = ("greatest(x.created_at, x.sent)" if dialect == "postgresql"
             else "max(x.created_at, coalesce(x.sent, x.created_at))")
    # A next date stands if set on or after the day of since_at (since_at before that day ended) and of heard_on.
    stands = (f"f.next_follow_up_on IS NOT NULL AND f.next_set_on >= coalesce(x.heard, f.next_set_on) "
              f"AND {since} < f.next_set_day_ends_at")
    return (f"SELECT x.id, x.location_id, x.payer_id, x.sent, {since}, x.heard, "
            f"CASE WHEN {stands} THEN f.next_follow_up_on END "
            f"FROM (SELECT c.id, c.location_id, c.payer_id, c.created_at, {sent} AS sent, "
            f"{_latest(dialect, heard)} AS heard FROM {_claims(dialect, claim_ids)} AND {_waiting(dialect, 'c')}) x "
            f"LEFT JOIN claim_follow_up f ON f.claim_id = x.id")


def _claims(dialect: str, claim_ids: str | None) -> str:
    """FROM and WHERE for the claims `c` whose ids the SELECT `claim_ids` gives (None: every claim), ending in a
    WHERE so more conditions can follow with AND.

    On PostgreSQL the ids are gathered first and each claim looked up by its id alone (OFFSET 0 keeps the planner
    from merging the lookup with the conditions that follow): planned as `c.id IN (...) AND <waiting>`, the
    waiting claims' partial index looked better under stale statistics and each claim inserted Submitted read
    every waiting claim (10,000 claims written one statement each: 24 s more)."""
    if claim_ids is None:
        return "claim c WHERE true"
    if dialect == "postgresql":
        return (f"(SELECT DISTINCT i.id FROM unnest(ARRAY({claim_ids})) AS i (id)) AS i "
                f"CROSS JOIN LATERAL (SELECT * FROM claim WHERE claim.id = i.id OFFSET 0) AS c WHERE true")
    return f"claim c WHERE c.id IN ({claim_ids})"


def recompute_sql(dialect: str, claim_ids: str) -> list[str]:
    """Statements making the rows of the claims `claim_ids` (a SELECT) what their sources say: those no longer
    waiting leave, the others are written only where something moved."""
    differs = "IS DISTINCT FROM" if dialect == "postgresql" else "IS NOT"
    changed = " OR ".join(f"{TABLE}.{c} {differs} excluded.{c}" for c in COLUMNS)
    # Rows in claim id order on PostgreSQL, so two writers touching the same claims never deadlock.
    order = " ORDER BY 1" if dialect == "postgresql" else ""
    left = f"SELECT c.id FROM {_claims(dialect, claim_ids)} AND NOT ({_waiting(dialect, 'c')})"
    return [
        f"DELETE FROM {TABLE} WHERE claim_id IN ({left})",
        f"INSERT INTO {TABLE} (claim_id, {', '.join(COLUMNS)}) SELECT * FROM ({clocks_sql(dialect, claim_ids)}) "
        f"AS w WHERE true{order} ON CONFLICT (claim_id) DO UPDATE SET "
        f"{', '.join(f'{c} = excluded.{c}' for c in COLUMNS)} WHERE {changed}",
    ]


def _kept(ids: str, dialect: str = "sqlite") -> str:
    """Only the claims among `ids` (a SELECT of one column) that have a row: a waiting claim always has one."""
    among = f"= ANY (ARRAY({ids}))" if dialect == "postgresql" else f"IN ({ids})"  # PostgreSQL: by id, as _claims
    return f"SELECT k.claim_id FROM {TABLE} k WHERE k.claim_id {among}"


#: (table, trigger name, SQLite WHEN, SELECT of the claim ids from NEW) for SQLite's row triggers.
_SQLITE_INSERTS = (
    ("status_change", "status_change_moves_follow_up_clock",
     f"NEW.subject_type = 'claim' AND NEW.to_status = '{SUBMITTED}'", "SELECT NEW.subject_id"),
    ("adjudication", "adjudication_moves_follow_up_clock", "1", _kept("SELECT NEW.claim_id")),
    ("claim_acknowledgment", "claim_acknowledgment_moves_follow_up_clock", "NEW.effective_on IS NOT NULL",
     _kept("SELECT NEW.claim_id")),
    ("claim_status_response", "claim_status_response_moves_follow_up_clock", f"NEW.outcome IN ({HEARD})",
     _kept("SELECT NEW.claim_id")),
    ("claim_follow_up", "claim_follow_up_insert_moves_follow_up_clock", "1", _kept("SELECT NEW.claim_id")),
    ("claim", "claim_insert_moves_follow_up_clock", _waiting("sqlite", "NEW"), "SELECT NEW.id"),
)


def sqlite_statements() -> list[tuple[str, str]]:
    """(table, statement) for SQLite."""
    statements = [
        (table, f"CREATE TRIGGER {name} AFTER INSERT ON {table} FOR EACH ROW WHEN {when} BEGIN "
                f"{'; '.join(recompute_sql('sqlite', ids))}; END")
        for table, name, when, ids in _SQLITE_INSERTS]
    changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in CLAIM_INPUTS)
    statements += [
        ("claim_follow_up", "CREATE TRIGGER claim_follow_up_update_moves_follow_up_clock AFTER UPDATE OF "
                            "next_follow_up_on, next_set_on, next_set_day_ends_at ON claim_follow_up FOR EACH ROW "
                            f"BEGIN {'; '.join(recompute_sql('sqlite', _kept('SELECT NEW.claim_id')))}; END"),
        ("claim", f"CREATE TRIGGER claim_update_keeps_follow_up_clock AFTER UPDATE OF {', '.join(CLAIM_INPUTS)} "
                  f"ON claim FOR EACH ROW WHEN {changed} BEGIN "
                  f"{'; '.join(recompute_sql('sqlite', 'SELECT NEW.id'))}; END"),
    ]
    return statements


def _function(name: str, ids: str, *, guard: str = "") -> str:
    body = "; ".join(recompute_sql("postgresql", ids))
    return (f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql {index_lookups_only()} AS $$ "
            f"BEGIN "
            f"{guard}{body}; RETURN NULL; END $$")


def _statement_trigger(table: str, name: str, function: str, operation: str, tables: str) -> str:
    return (f"CREATE TRIGGER {name} AFTER {operation} ON {table} REFERENCING {tables} FOR EACH STATEMENT "
            f"EXECUTE FUNCTION {function}()")


def postgresql_statements() -> list[tuple[str, str]]:
    """(table, statement) for PostgreSQL; each function goes with the table of the trigger that calls it."""
    sent = f"SELECT n.subject_id FROM new_rows n WHERE n.subject_type = 'claim' AND n.to_status = '{SUBMITTED}'"
    waiting_new = f"SELECT n.id FROM new_rows n WHERE {_waiting('postgresql', 'n')}"
    # (table, name stem, claim ids from the new rows) for the INSERT triggers.
    inserts = (
        ("status_change", "status_change", sent),
        ("adjudication", "adjudication", _kept("SELECT n.claim_id FROM new_rows n", "postgresql")),
        ("claim_acknowledgment", "claim_acknowledgment",
         _kept("SELECT n.claim_id FROM new_rows n WHERE n.effective_on IS NOT NULL", "postgresql")),
        ("claim_status_response", "claim_status_response",
         _kept(f"SELECT n.claim_id FROM new_rows n WHERE n.outcome IN ({HEARD})", "postgresql")),
        ("claim_follow_up", "claim_follow_up_insert", _kept("SELECT n.claim_id FROM new_rows n", "postgresql")),
        ("claim", "claim_insert", waiting_new),
    )
    statements: list[tuple[str, str]] = []
    for table, stem, ids in inserts:
        function = f"{stem}_follow_up_clock"
        # Most statements touch no waiting claim (an 835's status changes to Paid): they end at once.
        statements += [(table, _function(function, ids, guard=f"IF NOT EXISTS ({ids}) THEN RETURN NULL; END IF; ")),
                       (table, _statement_trigger(table, f"{stem}_moves_follow_up_clock", function, "INSERT",
                                                  "NEW TABLE AS new_rows"))]
    followed = _kept("SELECT n.claim_id FROM new_rows n", "postgresql")
    statements += [
        ("claim_follow_up", _function("claim_follow_up_update_follow_up_clock", followed)),
        ("claim_follow_up", _statement_trigger("claim_follow_up", "claim_follow_up_update_moves_follow_up_clock",
                                               "claim_follow_up_update_follow_up_clock", "UPDATE",
                                               "NEW TABLE AS new_rows")),
        ("claim", _function("claim_update_follow_up_clock", moved_claims(CLAIM_INPUTS),
                            guard=unless_any(moved_claims(CLAIM_INPUTS)))),
        ("claim", _statement_trigger("claim", "claim_update_keeps_follow_up_clock", "claim_update_follow_up_clock",
                                     "UPDATE", "OLD TABLE AS old_claims NEW TABLE AS new_claims")),
    ]
    return statements


def backfill(dialect: str) -> str:
    """Write every waiting claim's row (a migration, before the triggers exist)."""
    return f"INSERT INTO {TABLE} (claim_id, {', '.join(COLUMNS)}) {clocks_sql(dialect, None)}"


# A schema made from the models gets the triggers once their tables exist (a trigger's body is looked up when it
# fires); the migration makes them otherwise.
_TABLES = {model.__tablename__: model.__table__ for model in (
    Claim, StatusChange, Adjudication, ClaimAcknowledgment, ClaimStatusResponse, ClaimFollowUp)}
for _dialect, _statements in (("sqlite", sqlite_statements()), ("postgresql", postgresql_statements())):
    for _table, _statement in _statements:
        event.listen(_TABLES[_table], "after_create", DDL(_statement).execute_if(dialect=_dialect))

derived(ClaimFollowUpClock, "Follow-up clocks follow the claims' history; send, post or note the claim instead.")
