"""Timely filing: each claim's deadline at its payer, the days left, and the claims running out of them.

Two windows per payer (billing/coverage/models.py):
- an original claim must reach the payer within `filing_limit_days` of its service date;
- a fix of a claim the payer adjudicated (a corrected claim or void, frequency 7 or 8; a resubmission of
  denied lines; the denied claim itself, waiting for its fix) has `corrected_filing_days` counted from the
  payer's latest adjudication of the claim it fixes (its paid_on: the remittance or EOB date), and never ends
  before the original deadline. A payment reversal (CLP02 22) is not a new determination and starts nothing.
A claim the payer rejected at its front end was never adjudicated, so only the original window applies to it.
A claim with no payer, a self-pay payer or billed to the patient (self-pay) has no deadline. Secondary claims
count from their own service date like any original (payers that count from the primary's EOB are not modelled yet).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import ColumnElement, Select, and_, func, or_, select, union_all

from billing.claims.models import Claim, claim_number
from billing.claims.queries import live_claim_filter
from billing.claims.statuses import ClaimStatus
from billing.core.db import db
from billing.core.errors import Invalid
from billing.core.id_lists import any_of
from billing.coverage.models import MAX_PAYER_DAYS, Payer, PayerType
from billing.ledger.models import Adjudication
from billing.org.queries import Scope, by_location
from billing.payments.denials import in_denied_work
from billing.people.models import Client

CHUNK = 2000  # ids per IN list: well under SQLite's bound-parameter limit
#: Claims that still have to reach the payer. Picked by value so a Rejected status joins the moment it exists.
NOT_WITH_PAYER = frozenset(s for s in ClaimStatus if s.value in {"ready", "held", "rejected"})
#: Denied work (a Denied claim, or denied lines still to work) also waits for a resend; see `waiting_to_send`.
DEFAULT_WITHIN_DAYS = 14


def filing_deadline(service_date: date, limit_days: int, corrected_days: int, answered_on: date | None) -> date:
    """The last day a claim (or its fix) can reach the payer: the pure rule, for one claim."""
    original = service_date + timedelta(days=limit_days)
    if answered_on is None:
        return original
    return max(original, answered_on + timedelta(days=corrected_days))


@dataclass(frozen=True)
class FilingDeadline:
    claim_id: int
    deadline: date
    days_left: int  # negative: late by that many days
    #: The adjudication date the corrected window counts from; None when only the original window applies.
    answered_on: date | None


def deadlines(claim_ids: Iterable[int], today: date) -> dict[int, FilingDeadline]:
    """Deadlines of these claims, in two statements a chunk; claims without one (no payer, self-pay) are absent."""
    ids = list(claim_ids)
    found: dict[int, FilingDeadline] = {}
    for start in range(0, len(ids), CHUNK):
        # Core rows, not ORM ones: the rules run asks for 2,000 claims at a time.
        for row in db.session.connection().execute(_deadline_query(ids[start:start + CHUNK])).all():
            deadline = filing_deadline(row.service_date, row.filing_limit_days, row.corrected_filing_days,
                                       row.answered_on)
            found[row.id] = FilingDeadline(row.id, deadline, (deadline - today).days, row.answered_on)
    return found


def claim_deadline(claim: Claim, today: date) -> FilingDeadline | None:
    """One claim's deadline (the claim page)."""
    return deadlines([claim.id], today).get(claim.id)


def _deadline_query(ids: list[int]) -> Select[tuple[int, date, int, int, date | None]]:
    answered = last_adjudicated(ids).subquery()
    return (
        select(Claim.id, Claim.service_date, Payer.filing_limit_days, Payer.corrected_filing_days,
               answered.c.answered_on)
        .join(Payer, Payer.id == Claim.payer_id)
        .outerjoin(answered, answered.c.claim_id == Claim.id)
        .where(any_of(Claim.id, ids), Payer.payer_type != PayerType.SELF_PAY, Claim.self_pay.is_(False))
    )


def last_adjudicated(ids: list[int]) -> Select[tuple[int, date]]:
    """Per claim: the latest adjudication date of the claim itself or of the claim it corrects or resubmits."""
    related = union_all(
        select(Claim.id.label("claim_id"), Claim.id.label("fixes_id")).where(any_of(Claim.id, ids)),
        select(Claim.id, Claim.original_claim_id).where(any_of(Claim.id, ids), Claim.original_claim_id.is_not(None)),
        select(Claim.id, Claim.resubmission_of_id).where(any_of(Claim.id, ids), Claim.resubmission_of_id.is_not(None)),
    ).subquery()
    return (
        select(related.c.claim_id, func.max(Adjudication.paid_on).label("answered_on"))
        .join(Adjudication, Adjudication.claim_id == related.c.fixes_id)
        .where(Adjudication.reverses_id.is_(None))
        .group_by(related.c.claim_id)
    )


# --- the worklist: claims near or past their deadline that are not with the payer ------------------------------

def waiting_to_send() -> ColumnElement[bool]:
    """Claims still to reach the payer: Ready, Held, Rejected, or denied work, unless a live correction replaced
    them (the correction is the one to send, and it is on the list itself)."""
    return and_(or_(Claim.status.in_(NOT_WITH_PAYER), in_denied_work()), live_claim_filter())


@dataclass(frozen=True)
class DeadlineRow:
    claim_id: int
    number: str
    status: ClaimStatus
    client: str
    payer: str
    service_date: date
    total_charge: Decimal
    deadline: date
    days_left: int

    def as_dict(self) -> dict[str, object]:
        return {"claim_id": self.claim_id, "claim": self.number, "status": self.status.value,
                "client": self.client, "payer": self.payer, "service_date": self.service_date.isoformat(),
                "total_charge": str(self.total_charge), "deadline": self.deadline.isoformat(),
                "days_left": self.days_left, "late": self.days_left < 0}


def within_days_problem(value: int) -> str | None:
    if not 0 <= value <= MAX_PAYER_DAYS:
        return f"Days is a whole number from 0 to {MAX_PAYER_DAYS}."
    return None


def near_deadline(scope: Scope, *, within_days: int, today: date) -> list[DeadlineRow]:
    """Claims not yet with the payer whose deadline is at most `within_days` away, late ones included; the
    least time left first."""
    if problem := within_days_problem(within_days):
        raise Invalid(problem)
    candidates = db.session.execute(
        select(Claim.id, Claim.status, Client.last_name, Client.first_name, Payer.name, Claim.service_date,
               Claim.total_charge)
        .join(Client, Client.id == Claim.client_id)
        .join(Payer, Payer.id == Claim.payer_id)
        .where(waiting_to_send(), by_location(Claim.location_id, scope), Payer.payer_type != PayerType.SELF_PAY,
               Claim.self_pay.is_(False))
    ).all()
    found = deadlines([row[0] for row in candidates], today)
    rows = [
        DeadlineRow(claim_id, claim_number(claim_id), status, f"{last}, {first}", payer, day, total,
                    found[claim_id].deadline, found[claim_id].days_left)
        for claim_id, status, last, first, payer, day, total in candidates
        if claim_id in found and found[claim_id].days_left <= within_days
    ]
    return sorted(rows, key=lambda r: (r.days_left, r.claim_id))
