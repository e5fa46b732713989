"""Each claim's filing deadline, kept on the claim by the database itself, so "due by" is an index range.

`claim.filing_deadline` is billing.payments.filing.filing_deadline's rule: the payer's original window from the
service date, or its corrected window from the latest standing adjudication of the claim or of the claim it fixes
(original_claim_id, resubmission_of_id) when that ends later; null with no payer, a self-pay payer or a self-pay
claim. Triggers keep it whichever code path writes (the ORM, a bulk insert of an 835, a migration, a console):
- a claim inserted, or its service date, payer, self-pay flag or the claim it fixes changed: that claim;
- an adjudication inserted (adjudications are append-only, so never edited or deleted): its claim and the claims
  fixing it; a reversal (reverses_id set) is no new determination and moves nothing;
- a payer's two windows or its type changed: its claims.
PostgreSQL sets a claim's own deadline in a BEFORE row trigger (no second write of the row) and follows a whole
INSERT of adjudications at once (a statement trigger over its transition table, claims locked in id order, planned
to go through indexes only: INDEX_LOOKUPS_ONLY); SQLite, which has only row triggers and cannot change NEW, updates
the row after it is written.
`flask ledger check` (check "filing-deadline") compares the kept deadlines with the rule worked out in Python.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import DDL, event, inspect
from sqlalchemy.orm import Session

from billing.claims.models import Claim
from billing.core.derived import index_lookups_only
from billing.core.errors import NotAllowed
from billing.coverage.models import Payer, PayerType
from billing.ledger.models import Adjudication

# ruff: noqa: S608 - every statement here is built from the constants below, never from input

#: The claim columns the deadline is worked out from (besides its id).
CLAIM_INPUTS = ("service_date", "payer_id", "original_claim_id", "resubmission_of_id", "self_pay")
#: The payer columns it is worked out from.
PAYER_INPUTS = ("filing_limit_days", "corrected_filing_days", "payer_type")
SELF_PAY = PayerType.SELF_PAY.value


def _answered_on(row: str) -> str:
    """The latest standing adjudication of the claim `row` or of the claim it fixes (coalesce: so SQLite looks
    adjudications up by claim, not by the unique index on reverses_id)."""
    return (f"(SELECT max(a.paid_on) FROM adjudication a WHERE a.claim_id IN "
            f"({row}.id, {row}.original_claim_id, {row}.resubmission_of_id) AND coalesce(a.reverses_id, 0) = 0)")


def deadline_sql(dialect: str, row: str, *, also_answered_on: str | None = None) -> str:
    """SQL for the deadline of the claim row `row` (a table name, an alias or NEW); null when there is none.

    `also_answered_on` (PostgreSQL only): SQL for the date of a standing adjudication of the claim about to be
    inserted (null for none), counted as if it were in the table already (see `deadline_with_answer_sql`)."""
    if dialect == "postgresql":
        answered = _answered_on(row)
        if also_answered_on is not None:
            answered = f"greatest({answered}, {also_answered_on})"
        # greatest() skips a null: no adjudication leaves the original window.
        later = (f"greatest({row}.service_date + p.filing_limit_days, "
                 f"{answered} + p.corrected_filing_days)")
        not_self_pay = f"NOT {row}.self_pay"
    else:
        # SQLite keeps dates as ISO text, so the later of two is max(); '' (before every date) stands for none.
        later = (f"max(date({row}.service_date, '+' || p.filing_limit_days || ' days'), "
                 f"coalesce(date({_answered_on(row)}, '+' || p.corrected_filing_days || ' days'), ''))")
        not_self_pay = f"{row}.self_pay = 0"
    return (f"(SELECT {later} FROM payer p WHERE p.id = {row}.payer_id AND p.payer_type <> '{SELF_PAY}' "
            f"AND {not_self_pay})")


def deadline_with_answer_sql(row: str, answered_on: str) -> str:
    """PostgreSQL: the deadline the adjudication trigger will give the claim row `row` once a standing adjudication
    of it paid on `answered_on` (SQL, a date or null) is inserted.

    For a bulk writer that updates claims just before inserting their adjudications (an 835's chunk): setting this in
    its own UPDATE leaves the trigger nothing to change, where it would otherwise write each claim whose corrected
    window ends later a second time in the transaction (about 2,900 of 10,000 claims: every index of the claim
    again, and its kept counts moved in a second statement). The trigger stays the rule's keeper: it recomputes
    each claim after the INSERT and rewrites any whose deadline this did not foresee."""
    return deadline_sql("postgresql", row, also_answered_on=answered_on)


def recompute_sql(dialect: str, claim_ids: str) -> str:
    """An UPDATE setting the deadline of the claims whose ids `claim_ids` (a SELECT) lists, each worked out once,
    writing only the rows whose deadline moves (an unchanged row is not rewritten, nor its indexes touched)."""
    # Rows locked in id order on PostgreSQL, so two postings touching the same claims never deadlock.
    lock = " ORDER BY k.id FOR UPDATE OF k" if dialect == "postgresql" else ""
    differs = "IS DISTINCT FROM" if dialect == "postgresql" else "IS NOT"
    return (f"UPDATE claim SET filing_deadline = due.deadline FROM ("
            f"SELECT k.id, {deadline_sql(dialect, 'k')} AS deadline FROM claim k "
            f"WHERE k.id IN ({claim_ids}){lock}) due "
            f"WHERE claim.id = due.id AND claim.filing_deadline {differs} due.deadline")


def _family(adjudications: str, claim_id: str) -> str:
    """SELECT of the claims an adjudication of `claim_id` can move: that claim and the claims fixing it."""
    return (f"SELECT {claim_id} FROM {adjudications} UNION "
            f"SELECT f.id FROM claim f JOIN {adjudications} ON f.original_claim_id = {claim_id} UNION "
            f"SELECT f.id FROM claim f JOIN {adjudications} ON f.resubmission_of_id = {claim_id}")


def _changed(columns: tuple[str, ...]) -> str:
    return " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in columns)


def _pg_changed(columns: tuple[str, ...]) -> str:
    return " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in columns)


def sqlite_statements() -> list[tuple[str, str]]:
    """(table, statement) for SQLite."""
    inputs = ", ".join(CLAIM_INPUTS)
    own = recompute_sql("sqlite", "SELECT NEW.id")
    new_adjudication = "(SELECT NEW.claim_id AS claim_id) n"
    return [
        ("claim", f"CREATE TRIGGER claim_filing_deadline_insert AFTER INSERT ON claim FOR EACH ROW BEGIN {own}; END"),
        ("claim", f"CREATE TRIGGER claim_filing_deadline_update AFTER UPDATE OF {inputs} ON claim FOR EACH ROW "
                  f"WHEN {_changed(CLAIM_INPUTS)} BEGIN {own}; END"),
        ("adjudication", "CREATE TRIGGER adjudication_filing_deadline AFTER INSERT ON adjudication FOR EACH ROW "
                         "WHEN NEW.reverses_id IS NULL BEGIN "
                         f"{recompute_sql('sqlite', _family(new_adjudication, 'n.claim_id'))}; END"),
        ("payer", f"CREATE TRIGGER payer_filing_deadline AFTER UPDATE OF {', '.join(PAYER_INPUTS)} ON payer "
                  f"FOR EACH ROW WHEN {_changed(PAYER_INPUTS)} BEGIN "
                  f"{recompute_sql('sqlite', 'SELECT id FROM claim WHERE payer_id = NEW.id')}; END"),
    ]


def adjudication_function() -> str:
    """The PostgreSQL function following an INSERT of adjudications: the claims they answer and the claims fixing
    those, each recomputed once."""
    standing = "(SELECT claim_id FROM new_adjudications WHERE reverses_id IS NULL) n"
    # Its lookups all have an index (claim id, original_claim_id, resubmission_of_id, adjudication.claim_id,
    # payer id): see INDEX_LOOKUPS_ONLY for why the plan must stay index probes.
    return ("CREATE OR REPLACE FUNCTION adjudication_filing_deadlines() RETURNS trigger LANGUAGE plpgsql "
            f"{index_lookups_only()} AS $$ BEGIN "
            f"{recompute_sql('postgresql', _family(standing, 'n.claim_id'))}; RETURN NULL; END $$")


def postgresql_statements() -> list[tuple[str, str]]:
    """(table, statement) for PostgreSQL; each function goes with the table of the trigger that calls it."""
    of_payer = "SELECT id FROM claim WHERE payer_id = NEW.id"
    return [
        ("claim", "CREATE OR REPLACE FUNCTION claim_filing_deadline_set() RETURNS trigger LANGUAGE plpgsql AS $$ "
                  f"BEGIN NEW.filing_deadline := {deadline_sql('postgresql', 'NEW')}; RETURN NEW; END $$"),
        ("claim", "CREATE TRIGGER claim_filing_deadline_insert BEFORE INSERT ON claim FOR EACH ROW "
                  "EXECUTE FUNCTION claim_filing_deadline_set()"),
        ("claim", f"CREATE TRIGGER claim_filing_deadline_update BEFORE UPDATE OF {', '.join(CLAIM_INPUTS)} ON claim "
                  f"FOR EACH ROW WHEN ({_pg_changed(CLAIM_INPUTS)}) EXECUTE FUNCTION claim_filing_deadline_set()"),
        ("adjudication", adjudication_function()),
        ("adjudication", "CREATE TRIGGER adjudication_filing_deadline AFTER INSERT ON adjudication "
                         "REFERENCING NEW TABLE AS new_adjudications FOR EACH STATEMENT "
                         "EXECUTE FUNCTION adjudication_filing_deadlines()"),
        ("payer", "CREATE OR REPLACE FUNCTION payer_filing_deadlines() RETURNS trigger LANGUAGE plpgsql AS $$ "
                  f"BEGIN {recompute_sql('postgresql', of_payer)}; RETURN NULL; END $$"),
        ("payer", f"CREATE TRIGGER payer_filing_deadline AFTER UPDATE OF {', '.join(PAYER_INPUTS)} ON payer "
                  f"FOR EACH ROW WHEN ({_pg_changed(PAYER_INPUTS)}) EXECUTE FUNCTION payer_filing_deadlines()"),
    ]


# A schema made from the models (scratch databases) gets the triggers once their tables exist (a trigger's body is
# looked up when it fires); the migration makes them otherwise.
_TABLES = {model.__tablename__: model.__table__ for model in (Claim, Adjudication, Payer)}
for _dialect, _statements in (("sqlite", sqlite_statements()), ("postgresql", postgresql_statements())):
    for _table, _statement in _statements:
        event.listen(_TABLES[_table], "after_create", DDL(_statement).execute_if(dialect=_dialect))


class FilingDeadlineIsDerived(NotAllowed):
    def __init__(self) -> None:
        super().__init__("A claim's filing deadline follows its payer and adjudications; it is never written.")


@event.listens_for(Session, "before_flush")
def _refuse_writes(session: Session, flush_context: Any, instances: Any) -> None:
    for claim in (*session.new, *session.dirty):
        if isinstance(claim, Claim) and any(v is not None for v in inspect(claim).attrs.filing_deadline.history.added):
            raise FilingDeadlineIsDerived()
