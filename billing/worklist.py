"""The billing office's morning questions, answered in a few counts: what is waiting for whom.

The front page shows these within the chosen scope; each count links to the queue that works it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select, true

from billing.claims.day_counts import status_totals
from billing.claims.models import Claim, ClaimDayCount
from billing.claims.statuses import ClaimStatus
from billing.core.db import db
from billing.core.money import sum_money, to_money
from billing.core.time import practice_today
from billing.ledger.models import ArDayTotal
from billing.ledger.sums import cents_sum
from billing.org.queries import Scope, by_location
from billing.payments.denials import denied_work_count
from billing.payments.filing import DEFAULT_WITHIN_DAYS, due_totals
from billing.payments.models import UnmatchedClaim, UnmatchedStatus
from billing.payments.plb import open_items
from billing.payments.queries import remittance_in_scope
from billing.submissions.follow_up import follow_up_count
from billing.submissions.models import BatchStatus, SubmissionBatch


@dataclass(frozen=True)
class BillingWork:
    ready: int
    held: int
    denied: int
    needs_review: int
    unsent_batches: int
    unmatched_payments: int
    #: Claims a clearinghouse (999) or payer front end (277CA) rejected: fixed and resent first thing each morning.
    rejected: int = 0
    insurance_ar: Decimal = Decimal(0)  # with the open payer offsets (PLB) below, as AR Aging counts them
    patient_ar: Decimal = Decimal(0)
    open_offsets: Decimal = Decimal(0)  # open provider-level items: money payers kept from checks
    near_filing_deadline: int = 0  # not yet with the payer, within DEFAULT_WITHIN_DAYS of the deadline or late
    follow_up: int = 0  # sent, unanswered, due for follow-up today


def billing_work(scope: Scope) -> BillingWork:
    in_scope = by_location(Claim.location_id, scope)
    insurance_ar, patient_ar = _receivables(scope)
    offsets = _open_offsets(scope)
    counts = _status_counts(scope)
    return BillingWork(
        # Ready to submit to a payer: a self-pay claim bills the patient (one left from before self-pay billing
        # waits for `flask claims bill-self-pay`, and is not the billers' to send).
        ready=counts.get((ClaimStatus.READY, False), 0),
        held=sum(n for (status, _), n in counts.items() if status is ClaimStatus.HELD),
        rejected=sum(n for (status, _), n in counts.items() if status is ClaimStatus.REJECTED),
        # The Denied tab's count: Denied claims and claims carrying denied lines still to be worked (rule 3).
        denied=denied_work_count(in_scope),
        needs_review=_count(select(func.count()).select_from(Claim).where(in_scope, Claim.needs_review == true())),
        # Batches and remittances belong to the whole billing office, not to one location.
        unsent_batches=_count(
            select(func.count()).select_from(SubmissionBatch).where(SubmissionBatch.status == BatchStatus.GENERATED)
        ),
        unmatched_payments=_count(
            select(func.count()).select_from(UnmatchedClaim).where(UnmatchedClaim.status == UnmatchedStatus.OPEN)
        ),
        insurance_ar=insurance_ar + offsets,
        patient_ar=patient_ar,
        open_offsets=offsets,
        near_filing_deadline=_near_deadline_count(scope),
        follow_up=follow_up_count(scope, today=practice_today()),
    )


def _status_counts(scope: Scope) -> dict[tuple[ClaimStatus, bool], int]:
    """Claims per status and self-pay, from the counts the database keeps per service day."""
    rows = status_totals(by_location(ClaimDayCount.location_id, scope))
    return {(status, self_pay): n for status, self_pay, n, _ in rows}


def _near_deadline_count(scope: Scope) -> int:
    """The Filing deadlines page's row count, from the counts the database keeps per deadline day."""
    return due_totals(practice_today() + timedelta(days=DEFAULT_WITHIN_DAYS), scope)[0]


def _count(query: object) -> int:
    return db.session.scalar(query) or 0


def _open_offsets(scope: Scope) -> Decimal:
    """Open provider-level items, counted in A/R as AR Aging counts them (see exports/reports/aging.py)."""
    where = [] if scope.is_everything else [remittance_in_scope(scope)]
    return sum_money(item.open_amount for item in open_items(*where))


def _receivables(scope: Scope) -> tuple[Decimal, Decimal]:
    """What payers and patients still owe: the receivables the database keeps per service day beside the claims'
    balances (billing/ledger/ar_days.py), summed over a few rows per day."""
    insurance, patient = db.session.execute(
        select(cents_sum(ArDayTotal.insurance), cents_sum(ArDayTotal.patient))
        .where(by_location(ArDayTotal.location_id, scope))
    ).one()
    return to_money(insurance), to_money(patient)


