"""The demo's billing history: rules run, claims sent and answered through the real operations."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from billing.claims.models import Claim
from billing.claims.statuses import ClaimStatus
from billing.core.db import db
from billing.coverage.models import PolicyRank
from billing.edi.pyx12 import validate
from billing.ledger.balances import claim_balances
from billing.ledger.models import EntryKind, LedgerEntry
from billing.org.queries import resolve_scope
from billing.payments.invariants import check_ledger
from billing.payments.models import EraFile, ProviderAdjustment, Remittance
from billing.people.models import Role
from billing.submissions.models import BatchClaim, BatchStatus, SubmissionBatch
from billing.worklist import billing_work
from demo.billing_history import ANSWERED_AFTER_DAYS, SUBMITTED_AFTER_DAYS
from demo.seed import SeedResult, seed_demo
from rules.models import BillingRun, Rule

TODAY = date(2026, 3, 18)

pytestmark = pytest.mark.slow  # each test seeds the whole demo with its billing history (~8 s)


@pytest.fixture
def demo(app) -> SeedResult:
    result = seed_demo(today=TODAY)
    db.session.flush()
    return result


def _statuses() -> dict[ClaimStatus, int]:
    return dict(db.session.execute(select(Claim.status, func.count()).group_by(Claim.status)).all())


def test_every_claim_status_is_on_screen_and_the_money_adds_up(demo):
    assert set(_statuses()) == set(ClaimStatus)
    assert db.session.scalar(select(func.count()).select_from(Rule)) == demo.counts["rules"] == 8
    batches = db.session.scalars(select(SubmissionBatch)).all()
    assert batches
    # The two runs over every claim, and the one each Generate makes before it batches (one clearinghouse).
    assert db.session.scalar(select(func.count()).select_from(BillingRun)) == 2 + len(batches)
    assert all(b.status is BatchStatus.SENT for b in batches)
    # Sent only what was a week old; the payers answered only what was four weeks old.
    sent = db.session.scalars(select(Claim).join(BatchClaim, BatchClaim.claim_id == Claim.id)).all()
    assert max(c.service_date for c in sent) <= TODAY - timedelta(days=SUBMITTED_AFTER_DAYS)
    waiting = [c for c in sent if c.status is ClaimStatus.SUBMITTED]
    assert all(c.service_date > TODAY - timedelta(days=ANSWERED_AFTER_DAYS) or c.needs_review for c in waiting)
    # Every remittance balances (BPR02 = sum of CLP04 - PLB), and the one PLB is the interest the payer added.
    remittances = db.session.scalars(select(Remittance)).all()
    assert all(r.balanced and r.amount == r.claims_paid_total - r.plb_total for r in remittances)
    assert [p.amount for p in db.session.scalars(select(ProviderAdjustment))] == [Decimal("-3.17")]
    # The demo payer writes valid 835s: pyx12 has nothing to say about them (CLP06 uses the 835's own codes).
    files = db.session.scalars(select(EraFile)).all()
    assert files
    assert [(f.filename, [str(x) for x in v.errors + v.warnings]) for f in files
            if (v := validate(f.content.decode())).errors or v.warnings] == []
    # What a remittance does carry are posting's notes: each partly denied claim (5, test_remittance_shapes)
    # and each crossover (7), one note apiece.
    notes = [w for r in remittances for w in r.warnings or []]
    assert sorted(" denied (" in w for w in notes) == [False] * 7 + [True] * 5
    assert all(" denied (" in w or ": crossover: forwarded by Medicare Part B (NGS) as C-" in w for w in notes)
    # And the money the demo posted holds every ledger invariant.
    assert check_ledger() == []
    # A paid claim owes the payer nothing but its denied lines (rule 3: they stay open until a biller decides).
    paid = db.session.scalars(select(Claim).where(Claim.status == ClaimStatus.PAID)).all()
    denied_lines = [ln for c in paid for ln in c.lines if ln.denial_state is not None]
    owed = claim_balances([c.id for c in paid])
    assert {c.id: owed[c.id].insurance for c in paid if owed[c.id].insurance} == {
        ln.claim_id: ln.charge for ln in denied_lines}
    # Review: the clawed-back claim (open again) and the five claims with a denied line.
    review = db.session.scalars(select(Claim).where(Claim.needs_review)).all()
    assert len(review) == 6
    [clawed_back] = [c for c in review if c.status is ClaimStatus.SUBMITTED]
    assert claim_balances([clawed_back.id])[clawed_back.id].insurance == clawed_back.total_charge
    assert {c.id for c in review} - {clawed_back.id} == {ln.claim_id for ln in denied_lines}
    reversals = select(func.count()).select_from(LedgerEntry).where(LedgerEntry.reverses_id.is_not(None))
    assert db.session.scalar(reversals) > 0
    payments = db.session.scalar(
        select(func.sum(LedgerEntry.amount)).where(LedgerEntry.kind == EntryKind.INSURANCE_PAYMENT)
    )
    assert payments == sum(r.claims_paid_total for r in remittances)
    # Sent claims the payer has not answered are owed in full (A/R), charged the day their batch went out,
    # which is before any payment: a past month-end aging never shows a payment without its charge.
    # (A secondary claim owes what its primary passed on: test_remittance_shapes.)
    unanswered = [c for c in waiting if not c.needs_review and c.payer_rank is PolicyRank.PRIMARY]
    assert unanswered
    owed = claim_balances([c.id for c in unanswered])
    assert all(owed[c.id].insurance == c.total_charge for c in unanswered)

    def first(kind: EntryKind) -> dict[int, date]:
        return dict(db.session.execute(select(LedgerEntry.claim_id, func.min(LedgerEntry.posted_on))
                                       .where(LedgerEntry.kind == kind).group_by(LedgerEntry.claim_id)).all())

    charged, paid_on = first(EntryKind.CHARGE), first(EntryKind.INSURANCE_PAYMENT)
    assert all(charged[claim_id] <= day for claim_id, day in paid_on.items())


def test_the_front_page_counts_the_billing_work(demo, client, login):
    work = billing_work(resolve_scope(None, None, None))
    statuses = _statuses()
    # The Denied work holds the denied claims and the five paid claims with a denied line to work.
    assert (work.ready, work.held, work.denied) == (
        statuses[ClaimStatus.READY], statuses[ClaimStatus.HELD], statuses[ClaimStatus.DENIED] + 5)
    assert work.needs_review == 6  # the clawed-back claim and the five with a denied line
    assert work.unsent_batches == 0
    assert work.insurance_ar > 0
    login(Role.BILLER)
    page = client.get("/admin/").get_data(as_text=True)
    assert "Billing work" in page
    assert f">{work.denied:,}</a>" in page
    assert "Claims needing review" in page


def test_self_pay_claims_are_patient_bills_never_ready(demo):
    """Self-pay visits sit on the patients' balances (most older ones paid), never in Ready or in a batch."""
    self_pay = db.session.scalars(select(Claim).where(Claim.self_pay.is_(True))).all()
    assert len(self_pay) > 20
    statuses = {c.status for c in self_pay}
    assert ClaimStatus.READY not in statuses
    assert {ClaimStatus.SUBMITTED, ClaimStatus.PAID} <= statuses
    assert not db.session.scalar(select(func.count()).select_from(BatchClaim).join(Claim)
                                 .where(Claim.self_pay.is_(True)))
    sums = claim_balances([c.id for c in self_pay])
    live = [c for c in self_pay if c.status is not ClaimStatus.VOIDED]
    # Independent of the balance code: each live claim's patient side is its charge less what the patient paid.
    paid = dict(db.session.execute(
        select(LedgerEntry.claim_id, func.sum(LedgerEntry.amount))
        .where(LedgerEntry.kind == EntryKind.PATIENT_PAYMENT, LedgerEntry.claim_id.in_([c.id for c in live]))
        .group_by(LedgerEntry.claim_id)).all())
    for claim in live:
        assert sums[claim.id].insurance == Decimal("0.00"), claim.number
        assert sums[claim.id].patient == claim.total_charge - Decimal(str(paid.get(claim.id, 0))), claim.number
        assert (claim.status is ClaimStatus.PAID) == (sums[claim.id].patient == 0), claim.number
    assert check_ledger() == []


def test_the_demo_shows_rejected_claims_with_their_reasons_and_claims_near_their_filing_deadline(demo):
    from billing.org.queries import Scope
    from billing.payments.filing import near_deadline
    from billing.submissions.ack_queries import rejection_reasons
    from billing.submissions.models import AckKind, Acknowledgment
    from demo.billing_history import REJECTIONS

    rejected = db.session.scalars(select(Claim).where(Claim.status == ClaimStatus.REJECTED)).all()
    assert len(rejected) == len(REJECTIONS) == demo.counts["claims_rejected"]
    reasons = rejection_reasons([c.id for c in rejected])
    assert all(reasons[c.id].message for c in rejected)  # the tab says why, in words
    # Every weekly batch was answered by one 999 and one 277CA, all matched.
    acks = db.session.scalars(select(Acknowledgment)).all()
    answered = [a.batch_id for a in acks if a.kind is AckKind.IMPLEMENTATION]
    assert len(answered) == len(set(answered)) == demo.counts["acknowledgments_999"] > 0
    assert sum(a.kind is AckKind.CLAIM for a in acks) == demo.counts["acknowledgments_277"] == len(answered)
    assert all(a.matched for a in acks)
    # Claims that paid claims left behind: at least one is close to (or past) its payer's filing deadline.
    near = near_deadline(Scope(), within_days=14, today=TODAY)
    assert any(0 <= row.days_left <= 14 for row in near)
    assert all(row.status in (ClaimStatus.READY, ClaimStatus.HELD, ClaimStatus.REJECTED, ClaimStatus.DENIED)
               for row in near)


def test_the_demo_asked_the_payers_about_its_oldest_waiting_claims_and_they_answered(demo):
    from billing.submissions.claim_status_models import ClaimStatusResponse, StatusInquiry, StatusOutcome

    rows = db.session.scalars(select(ClaimStatusResponse).order_by(ClaimStatusResponse.id)).all()
    assert len(rows) == demo.counts["status_answers"] > 3
    assert db.session.scalar(select(func.count()).select_from(StatusInquiry)) == demo.counts["status_inquiries"]
    assert rows[0].outcome is StatusOutcome.NOT_FOUND  # the claim the payer has never heard of
    assert {StatusOutcome.PENDING, StatusOutcome.PAID, StatusOutcome.DENIED} <= {r.outcome for r in rows}
    assert all(r.claim is not None and r.claim.status is ClaimStatus.SUBMITTED and r.applied for r in rows)
