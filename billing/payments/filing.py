"""Timely filing: each claim's deadline at its payer, the days left, and the claims running out of them.

The deadline is kept on the claim by the database (claim.filing_deadline, billing/payments/deadline_triggers.py);
`filing_deadline` below is the rule itself, which `flask ledger check` and the tests compare the kept ones with.

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
from typing import Any

from sqlalchemy import ColumnElement, CompoundSelect, Select, and_, func, or_, select, union_all

from billing.claims.line_denials import WORKABLE
from billing.claims.models import Claim, ClaimDeadlineCount, ClaimLine, claim_number
from billing.claims.queries import live_claim_filter, replaced_claim_ids
from billing.claims.statuses import LIVE, ClaimStatus
from billing.core.db import db
from billing.core.errors import Invalid
from billing.core.id_lists import any_of
from billing.core.money import to_money
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


def deadlines(claim_ids: Iterable[int], today: date) -> dict[int, FilingDeadline]:
    """Deadlines of these claims, as the database keeps them on the claim (billing/payments/deadline_triggers.py),
    one statement a chunk; claims without one (no payer, self-pay) are absent."""
    ids = list(claim_ids)
    found: dict[int, FilingDeadline] = {}
    for start in range(0, len(ids), CHUNK):
        # Core rows, not ORM ones: the rules run asks for 2,000 claims at a time.
        rows = db.session.connection().execute(
            select(Claim.id, Claim.filing_deadline)
            .where(any_of(Claim.id, ids[start:start + CHUNK]), Claim.filing_deadline.is_not(None))
        ).all()
        for claim_id, deadline in rows:
            found[claim_id] = FilingDeadline(claim_id, deadline, (deadline - today).days)
    return found


def claim_deadline(claim: Claim, today: date) -> FilingDeadline | None:
    """One claim's deadline (the claim page)."""
    return deadlines([claim.id], today).get(claim.id)


def deadline_inputs() -> Select[tuple[int, date, int | None, int | None, PayerType | None, bool, date | None,
                                      date | None]]:
    """Every claim with what its deadline is worked out from, and the deadline kept: (id, service date, the payer's
    two windows and type, self-pay, the latest standing adjudication of the claim or of the claim it fixes, kept
    deadline). For `flask ledger check`, which works each out with `filing_deadline` and compares."""
    answered = last_adjudicated().subquery()
    return (
        select(Claim.id, Claim.service_date, Payer.filing_limit_days, Payer.corrected_filing_days,
               Payer.payer_type, Claim.self_pay, answered.c.answered_on, Claim.filing_deadline)
        .outerjoin(Payer, Payer.id == Claim.payer_id)
        .outerjoin(answered, answered.c.claim_id == Claim.id)
        .order_by(Claim.id)
    )


def last_adjudicated() -> Select[tuple[int, date]]:
    """Per claim: the latest adjudication date of the claim itself or of the claim it corrects or resubmits; a
    reversal is no new determination."""
    related = union_all(
        select(Claim.id.label("claim_id"), Claim.id.label("fixes_id")),
        select(Claim.id, Claim.original_claim_id).where(Claim.original_claim_id.is_not(None)),
        select(Claim.id, Claim.resubmission_of_id).where(Claim.resubmission_of_id.is_not(None)),
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


#: The statuses that alone put a live claim on the list: not with the payer, or Denied (denied work whatever its
#: lines). A claim of any other live status (Submitted, Paid) is on it only with a denied line to work.
WAITING_STATUSES = NOT_WITH_PAYER | {ClaimStatus.DENIED}
WAITING_BY_LINES = frozenset(LIVE - WAITING_STATUSES)


def due_by(cutoff: date, *where: ColumnElement[bool]) -> CompoundSelect[tuple[int, Decimal]]:
    """(claim id, total charge) of the claims waiting to send (exactly `waiting_to_send`) whose kept deadline is on
    or before `cutoff`, and that meet `where` (the scope). Claims without a deadline (no payer, self-pay) never are.

    Two index ranges instead of a test of every waiting claim: the waiting statuses' claims due by the cutoff (the
    (status, filing_deadline) index), and the Submitted or Paid claims with a denied line to work (the index on the
    lines' denial state), kept if due. The Dashboard's figure counts these and the Filing deadlines page lists them."""
    due = Claim.filing_deadline <= cutoff
    by_status = select(Claim.id, Claim.total_charge).where(
        Claim.status.in_(WAITING_STATUSES), due, live_claim_filter(), *where)
    by_lines = select(Claim.id, Claim.total_charge).where(_waiting_by_lines(), due, live_claim_filter(), *where)
    return union_all(by_status, by_lines)


def due_totals(cutoff: date, scope: Scope) -> tuple[int, Decimal]:
    """How many claims `due_by(cutoff)` finds in the scope, and what they bill, without reading them: the claims in
    the waiting statuses come from the counts the database keeps per deadline, location and status
    (billing/claims/deadline_counts.py), less the few replaced by a live correction (found through the corrections'
    own index); the Submitted or Paid claims with a denied line to work are few, and counted as due_by reads them.
    The front page, the Dashboard and the Filing deadlines page's totals then cost a few rows per deadline day,
    where due_by read every late claim (hundreds of thousands of late Ready claims at a billing company's size)."""
    kept = ClaimDeadlineCount
    counted = select(func.coalesce(func.sum(kept.claims), 0), func.coalesce(func.sum(kept.billed), 0)).where(
        kept.status.in_(WAITING_STATUSES), kept.filing_deadline <= cutoff, by_location(kept.location_id, scope))
    due, in_scope = Claim.filing_deadline <= cutoff, by_location(Claim.location_id, scope)
    replaced = select(func.count(), func.coalesce(func.sum(Claim.total_charge), 0)).where(
        Claim.id.in_(replaced_claim_ids()), Claim.status.in_(WAITING_STATUSES), due, in_scope)
    by_lines = select(func.count(), func.coalesce(func.sum(Claim.total_charge), 0)).where(
        _waiting_by_lines(), due, live_claim_filter(), in_scope)
    (n, billed), (gone, gone_billed), (lines, lines_billed) = (
        db.session.execute(query).one() for query in (counted, replaced, by_lines))
    return int(n) - gone + lines, to_money(billed) - to_money(gone_billed) + to_money(lines_billed)


def _waiting_by_lines() -> ColumnElement[bool]:
    """The Submitted or Paid claims waiting on a denied line to work (found through the lines' denial state)."""
    return and_(Claim.id.in_(select(ClaimLine.claim_id).where(ClaimLine.denial_state.in_(list(WORKABLE)))),
                Claim.status.in_(WAITING_BY_LINES))


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


def near_deadline(scope: Scope, *, within_days: int, today: date, limit: int | None = None,
                  offset: int = 0) -> list[DeadlineRow]:
    """Claims not yet with the payer whose deadline is at most `within_days` away, late ones included; the
    least time left first. `limit` and `offset` give one page of them (near_deadline_totals counts them all)."""
    cutoff, in_scope = _window(scope, within_days, today)
    due = due_by(cutoff, in_scope).subquery() if limit is None else _first_due(cutoff, offset + limit, in_scope)
    query = (
        select(Claim.id, Claim.status, Client.last_name, Client.first_name, Payer.name, Claim.service_date,
               Claim.total_charge, Claim.filing_deadline)
        .join(due, due.c.id == Claim.id)
        .join(Client, Client.id == Claim.client_id)
        .join(Payer, Payer.id == Claim.payer_id)
        .order_by(Claim.filing_deadline, Claim.id)
        .offset(offset)
    )
    rows = db.session.execute(query.limit(limit) if limit is not None else query)
    return [
        DeadlineRow(claim_id, claim_number(claim_id), status, f"{last}, {first}", payer, day, total, deadline,
                    (deadline - today).days)
        for claim_id, status, last, first, payer, day, total, deadline in rows
    ]


def _first_due(cutoff: date, count: int, *where: ColumnElement[bool]) -> Any:
    """The ids of the first `count` claims of due_by(cutoff, *where) in (deadline, id) order, read without
    sorting them all: each waiting status reads its (status, filing_deadline, ..., id) index in order and stops at
    `count`, the claims with denied lines likewise; the few rows kept are then sorted once. A page of a billing
    company's Filing deadlines list (tens of thousands of late Ready claims) then costs its own rows."""
    due = Claim.filing_deadline <= cutoff
    pieces = [
        select(Claim.id, Claim.filing_deadline).where(Claim.status == status, due, live_claim_filter(), *where)
        for status in sorted(WAITING_STATUSES)
    ]
    pieces.append(select(Claim.id, Claim.filing_deadline).where(_waiting_by_lines(), due, live_claim_filter(), *where))
    firsts = [piece.order_by(Claim.filing_deadline, Claim.id).limit(count).subquery() for piece in pieces]
    return union_all(*(select(first.c.id) for first in firsts)).subquery()


def near_deadline_totals(scope: Scope, *, within_days: int, today: date) -> tuple[int, Decimal]:
    """How many claims near_deadline lists, and what they billed (due_totals: from the kept counts)."""
    cutoff, _in_scope = _window(scope, within_days, today)
    return due_totals(cutoff, scope)


def _window(scope: Scope, within_days: int, today: date) -> tuple[date, ColumnElement[bool]]:
    """The cutoff day and the scope's condition of a near-deadline list, once `within_days` is known good."""
    if problem := within_days_problem(within_days):
        raise Invalid(problem)
    return today + timedelta(days=within_days), by_location(Claim.location_id, scope)
