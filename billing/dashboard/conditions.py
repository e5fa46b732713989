"""The SQL that both a dashboard figure and its drill-down list use, so a figure and its list cannot disagree.

Each function returns a condition on `Claim` (or a subquery of claim ids) built from the same definitions the
figures in billing.dashboard.figures group by.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import (
    ColumnElement,
    Numeric,
    Select,
    and_,
    case,
    func,
    select,
    type_coerce,
)

from billing.claims.models import Claim
from billing.ledger.models import ClaimBalance, EntryKind, LedgerEntry
from billing.ledger.month_totals import GROUPS
from billing.submissions.models import AckOutcome, ClaimAcknowledgment

#: A/R age buckets by the age of the service on the practice's day: (label, first day, last day or None).
BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0-30", 0, 30),
    ("31-60", 31, 60),
    ("61-90", 61, 90),
    ("91-120", 91, 120),
    ("120+", 121, None),
)
BUCKET_LABELS = tuple(label for label, _, _ in BUCKETS)
#: The drill-down's "any age" value: every claim a payer still owes on.
ANY_AGE = "any"

#: The money collected: payments from payers and from patients (a reversal carries a negative amount).
COLLECTION_KINDS = GROUPS["collections"]
CHARGE_KINDS = GROUPS["charges"]
#: An acknowledgment that decides: the claim was taken in, or refused. Informational 277CAs decide nothing.
DECISIVE = (AckOutcome.ACCEPTED, AckOutcome.ACCEPTED_WITH_ERRORS, AckOutcome.REJECTED)
ACCEPTED = (AckOutcome.ACCEPTED, AckOutcome.ACCEPTED_WITH_ERRORS)
FIRST_ANSWERS = {"accepted": ACCEPTED, "rejected": (AckOutcome.REJECTED,)}

MONEY = Numeric(14, 2)


def money_sum(expression: ColumnElement[Decimal]) -> ColumnElement[Decimal]:
    """SUM read back as a Decimal on SQLite and PostgreSQL alike (callers still quantize with to_money)."""
    return type_coerce(func.coalesce(func.sum(expression), 0), MONEY)


def insurance_balances() -> Select[tuple[int, Decimal]]:
    """(claim id, what the payer still owes on it) for every claim whose insurance balance is not zero: the balances
    the database keeps beside the ledger (billing/ledger/claim_balances.py), so no page sums the ledger itself."""
    return (
        select(ClaimBalance.claim_id.label("claim_id"), type_coerce(ClaimBalance.insurance, MONEY).label("balance"))
        .where(func.round(ClaimBalance.insurance, 2) != 0)
    )


def bucket_bounds(label: str, today: date) -> tuple[date | None, date | None]:
    """The service dates (first, last; None = open) whose age on `today` falls in the bucket. A service dated after
    today counts as current (0-30), as AR Aging counts it."""
    for name, first, last in BUCKETS:
        if name == label:
            oldest = None if last is None else today - timedelta(days=last)
            newest = None if first == 0 else today - timedelta(days=first)
            return oldest, newest
    raise KeyError(label)


def bucket_of_day(service_date: ColumnElement[date], today: date) -> ColumnElement[str]:
    """The bucket label of a service date column, in SQL."""
    whens = []
    for label, _, last in BUCKETS[:-1]:
        whens.append((service_date >= today - timedelta(days=last or 0), label))
    return case(*whens, else_=BUCKETS[-1][0])


def owed_by_payer(age: str, today: date) -> ColumnElement[bool]:
    """Claims a payer still owes on (insurance balance not zero), of one age bucket or of any age."""
    conditions = [Claim.id.in_(select(insurance_balances().subquery().c.claim_id))]
    if age != ANY_AGE:
        oldest, newest = bucket_bounds(age, today)
        if oldest is not None:
            conditions.append(Claim.service_date >= oldest)
        if newest is not None:
            conditions.append(Claim.service_date <= newest)
    return and_(*conditions)


def posted_between(kinds: tuple[EntryKind, ...], start: date, end: date) -> ColumnElement[bool]:
    """Claims with a ledger entry of these kinds posted between the two days (inclusive)."""
    return Claim.id.in_(
        select(LedgerEntry.claim_id).where(LedgerEntry.kind.in_(kinds), LedgerEntry.posted_on.between(start, end))
    )


def first_answers() -> Select[tuple[int]]:
    """The id of each claim's first deciding acknowledgment (999 or 277CA, accepted or rejected)."""
    return (
        select(func.min(ClaimAcknowledgment.id))
        .where(ClaimAcknowledgment.claim_id.is_not(None), ClaimAcknowledgment.outcome.in_(DECISIVE))
        .group_by(ClaimAcknowledgment.claim_id)
    )


def first_answer_was(answer: str) -> ColumnElement[bool]:
    """Claims whose first deciding acknowledgment was an acceptance ("accepted") or a rejection ("rejected")."""
    return Claim.id.in_(
        select(ClaimAcknowledgment.claim_id).where(
            ClaimAcknowledgment.id.in_(first_answers()), ClaimAcknowledgment.outcome.in_(FIRST_ANSWERS[answer])
        )
    )


def parse_carc(value: str) -> tuple[str, str] | None:
    """ "CO-45" → ("CO", "45"); anything else → None."""
    group, _, code = (value or "").strip().upper().partition("-")
    if len(group) == 2 and group.isalpha() and 0 < len(code) <= 5 and code.isalnum():
        return group, code
    return None


def adjusted_with(group: str, code: str) -> ColumnElement[bool]:
    """Claims with a ledger adjustment carrying this group code and CARC (e.g. CO-45)."""
    return Claim.id.in_(
        select(LedgerEntry.claim_id).where(LedgerEntry.group_code == group, LedgerEntry.reason_code == code)
    )
