"""Record Payment, denials, reversals, write-offs, patient money, secondary claims."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from billing.claims.operations import correct_claim
from billing.claims.sessions import deletion_refusal
from billing.claims.statuses import ClaimStatus
from billing.core.audit import AuditAction
from billing.core.db import db
from billing.core.errors import BillingError, ValidationFailed
from billing.coverage.models import PolicyRank
from billing.ledger.balances import (
    billing_summary,
    claim_balance,
    entries_for_claim,
    reversed_entry_ids,
    standing_adjudication,
)
from billing.ledger.models import EntryKind, EntrySource, LedgerEntry
from billing.ledger.postings import Adjustment, ClaimPosting, LinePosting
from billing.payments.cob import prior_adjudication
from billing.payments.operations import bill_patient, clear_needs_review, record_patient_payment, write_off
from billing.payments.posting import post_adjudication
from billing.payments.reversals import correct_payment, reverse_adjudication, reverse_entries
from billing.payments.secondary import generate_secondary_claim, resubmit_denied_lines, secondary_refusal
from tests.worlds import factories as f
from tests.worlds.claims import history, submitted_claim, walk_to
from tests.worlds.payments import PAID_ON, full_payment
from tests.worlds.practice import SYSTEM

D = Decimal
MANUAL = EntrySource.MANUAL


def entry_count() -> int:
    return db.session.scalar(select(func.count()).select_from(LedgerEntry))


def post(claim, posting):
    result = post_adjudication(claim, posting, actor=SYSTEM, source=MANUAL)
    db.session.flush()
    return result


def test_paid_in_full_becomes_paid_and_the_patient_owes_the_copay(world):
    claim = submitted_claim(world, lines=2)
    result = post(claim, full_payment(claim, copay=D("10.00")))
    assert claim.status is ClaimStatus.PAID
    assert result.status is ClaimStatus.PAID
    sums = claim_balance(claim.id)
    assert (sums.charges, sums.insurance, sums.patient) == (D("146.96"), D("0.00"), D("20.00"))
    summary = billing_summary(claim)
    assert summary["billed"] == D("146.96")
    assert summary["paid_by_payer"] == D("117.56")
    assert summary["allowed"] == D("137.56")
    assert summary["adjustments"] == D("9.40")
    assert summary["balance"] == summary["patient_balance"] == D("20.00")
    assert claim.payer_claim_number == f"ICN{claim.id:08d}"
    assert [h.action for h in history(claim)][-2:] == [AuditAction.CLAIM_PAID, AuditAction.PAYMENT_POSTED]


def test_a_line_that_does_not_add_up_is_refused_and_nothing_is_written(world):
    claim = submitted_claim(world)
    before = entry_count()
    bad = ClaimPosting(PAID_ON, (LinePosting(1, D("50.00"), (Adjustment("CO", "45", D("10.00")),)),))
    with pytest.raises(ValidationFailed, match=r"leave the difference of \$13.48 open"):
        post(claim, bad)
    assert entry_count() == before
    assert claim.status is ClaimStatus.SUBMITTED


def test_a_difference_left_open_keeps_the_claim_submitted(world):
    claim = submitted_claim(world)
    post(claim, ClaimPosting(PAID_ON, (LinePosting(1, D("50.00"), (Adjustment("CO", "45", D("10.00")),),
                                                   leave_open=True),)))
    assert claim.status is ClaimStatus.SUBMITTED
    assert claim_balance(claim.id).insurance == D("13.48")


def test_a_claim_that_was_never_submitted_is_not_paid(world):
    claim = world.claim()
    with pytest.raises(ValidationFailed, match="only a submitted claim is paid"):
        post(claim, full_payment(claim))
    assert entry_count() == 0


def test_paid_nothing_with_a_denial_carc_is_denied_and_the_balance_stays_open(world):
    claim = submitted_claim(world)
    post(claim, ClaimPosting(PAID_ON, (LinePosting(1, D("0"), (Adjustment("CO", "197", D("73.48")),)),)))
    assert claim.status is ClaimStatus.DENIED
    assert "CO-197 Precertification" in history(claim)[-2].reason
    assert claim_balance(claim.id).insurance == D("73.48")  # open, to be worked


def test_write_off_needs_a_reason_and_clears_the_balance(world):
    claim = submitted_claim(world)
    post(claim, ClaimPosting(PAID_ON, (LinePosting(1, D("0"), (Adjustment("CO", "197", D("73.48")),)),)))
    with pytest.raises(BillingError, match="needs a reason"):
        write_off(claim, reason=" ", actor=SYSTEM, posted_on=PAID_ON)
    write_off(claim, reason="not covered, practice policy", actor=SYSTEM, posted_on=PAID_ON)
    assert claim_balance(claim.id).balance == D("0.00")


def test_bill_the_patient_then_the_patient_pays(world):
    claim = submitted_claim(world)
    post(claim, ClaimPosting(PAID_ON, (LinePosting(1, D("0"), (Adjustment("CO", "204", D("73.48")),)),)))
    bill_patient(claim, actor=SYSTEM, posted_on=PAID_ON)
    assert claim_balance(claim.id).patient == D("73.48")
    with pytest.raises(BillingError, match="more than the patient balance"):
        record_patient_payment(claim, D("100"), actor=SYSTEM, posted_on=PAID_ON)
    record_patient_payment(claim, D("73.48"), actor=SYSTEM, posted_on=PAID_ON, memo="card")
    sums = claim_balance(claim.id)
    assert (sums.paid_by_patient, sums.balance) == (D("73.48"), D("0.00"))


def test_reversing_a_payment_flags_review_and_reopens_the_bill(world):
    claim = submitted_claim(world)
    first = post(claim, full_payment(claim)).adjudication
    reverse_adjudication(first, actor=SYSTEM, reason="payer letter 4/3", posted_on=date(2026, 4, 3), source=MANUAL)
    db.session.flush()
    assert claim.needs_review
    assert claim_balance(claim.id).balance == claim.total_charge  # back exactly where it was
    originals = [e for e in entries_for_claim(claim.id) if e.adjudication_id == first.id]
    assert {e.id for e in originals} <= reversed_entry_ids(claim.id)
    actions = [h.action for h in history(claim)]
    assert actions[-2:] == [AuditAction.PAYMENT_REVERSED, AuditAction.CLAIM_REOPENED]
    with pytest.raises(BillingError, match="already reversed"):
        reverse_adjudication(first, actor=SYSTEM, reason="again", posted_on=PAID_ON, source=MANUAL)
    clear_needs_review(claim, actor=SYSTEM, note="confirmed with payer")
    assert not claim.needs_review


def test_editing_a_payment_is_a_reversal_plus_a_new_payment(world):
    claim = submitted_claim(world)
    first = post(claim, full_payment(claim)).adjudication
    correct_payment(first, full_payment(claim, paid_share=D("0.50")), actor=SYSTEM, reason="typo on EOB")
    db.session.flush()
    assert claim_balance(claim.id).paid_by_payer == D("36.74")
    assert standing_adjudication(claim.id).paid == D("36.74")
    assert len(reversed_entry_ids(claim.id)) == 2  # payment and CO-45 of the first posting


def test_manual_clawback_of_chosen_entries(world):
    claim = submitted_claim(world)
    post(claim, full_payment(claim))
    payment = next(e for e in entries_for_claim(claim.id) if e.kind is EntryKind.INSURANCE_PAYMENT)
    with pytest.raises(BillingError, match="needs a source or reason"):
        reverse_entries(claim, [payment], actor=SYSTEM, reason="", posted_on=PAID_ON)
    reverse_entries(claim, [payment], actor=SYSTEM, reason="portal clawback", posted_on=PAID_ON)
    db.session.flush()
    assert claim_balance(claim.id).insurance == payment.amount
    with pytest.raises(ValidationFailed, match="already reversed"):
        reverse_entries(claim, [payment], actor=SYSTEM, reason="again", posted_on=PAID_ON)


def test_a_session_with_payments_cannot_be_deleted(world):
    claim = submitted_claim(world)
    visit = claim.lines[0].session
    post(claim, full_payment(claim))
    assert "payments or adjustments" in deletion_refusal(visit)


def test_secondary_claim_inherits_lines_and_carries_the_primary_adjudication(world):
    claim = submitted_claim(world, lines=2)
    assert "no payment posted" in secondary_refusal(claim)
    secondary_payer = f.PayerFactory(company=world.company)
    f.PolicyFactory(client=world.client, payer=secondary_payer, rank=PolicyRank.SECONDARY)
    post(claim, full_payment(claim, copay=D("10.00")))
    secondary = generate_secondary_claim(claim, actor=SYSTEM, posted_on=PAID_ON)
    db.session.flush()
    assert (secondary.status, secondary.payer_id, secondary.payer_rank) == (
        ClaimStatus.READY, secondary_payer.id, PolicyRank.SECONDARY)
    assert [ln.charge for ln in secondary.lines] == [ln.charge for ln in claim.lines]
    assert claim_balance(claim.id).balance == D("0.00")  # the patient part moved to the secondary claim
    assert claim_balance(secondary.id).insurance == D("20.00")
    prior = prior_adjudication(secondary)
    assert prior is not None
    assert prior_adjudication(claim) is None
    assert (prior.payer, prior.paid, prior.patient_responsibility) == (world.payer, D("117.56"), D("20.00"))
    assert [(ln.line_number, ln.procedure_code, ln.paid) for ln in prior.lines] == [
        (1, "97153", D("58.78")), (2, "97153", D("58.78"))]
    assert {(a.group, a.reason) for a in prior.lines[0].adjustments} == {("CO", "45"), ("PR", "3")}
    with pytest.raises(BillingError, match="already has a secondary claim"):
        generate_secondary_claim(claim, actor=SYSTEM, posted_on=PAID_ON)


def test_a_corrected_secondary_claim_stays_secondary(world):
    claim = submitted_claim(world)
    f.PolicyFactory(client=world.client, payer=f.PayerFactory(company=world.company), rank=PolicyRank.SECONDARY)
    post(claim, full_payment(claim, copay=D("10.00")))
    secondary = walk_to(generate_secondary_claim(claim, actor=SYSTEM, posted_on=PAID_ON), ClaimStatus.SUBMITTED)
    corrected = correct_claim(secondary, actor=SYSTEM, reason="wrong modifier", payer_claim_number="SEC-1")
    db.session.flush()
    assert (corrected.payer_rank, corrected.primary_claim_id) == (PolicyRank.SECONDARY, claim.id)
    assert prior_adjudication(corrected) is not None  # its 837P carries the primary's 2320/2430 loops


def test_resubmit_only_the_denied_lines(world):
    claim = submitted_claim(world, lines=2)
    paid = full_payment(claim).lines[0]
    denied = LinePosting(2, D("0"), (Adjustment("CO", "16", D("73.48")),), remarks=("N142",))
    post(claim, ClaimPosting(PAID_ON, (paid, denied)))
    copy = resubmit_denied_lines(claim, actor=SYSTEM, reason="added the missing modifier")
    db.session.flush()
    assert copy.status is ClaimStatus.READY
    assert len(copy.lines) == 1
    assert copy.lines[0].session_id == claim.lines[1].session_id
    assert len(claim.lines) == 2  # the paid line stays on the original


def test_the_secondary_payers_835_posts_with_clp02_2_and_settles_both_claims(world):
    """Primary pays and leaves coinsurance; the secondary claim goes out; its 835 (CLP02 = 2) pays the rest."""
    from billing.payments.remittances import import_835
    from tests.worlds.payments import Clp, Payment, Svc, write_835

    claim = submitted_claim(world)
    second = f.PayerFactory(company=world.company)
    f.PolicyFactory(client=world.client, payer=second, rank=PolicyRank.SECONDARY)
    post(claim, full_payment(claim, copay=D("10.00")))  # paid 58.78, CO-45 4.70, PR-3 10.00
    secondary = walk_to(generate_secondary_claim(claim, actor=SYSTEM, posted_on=PAID_ON), ClaimStatus.SUBMITTED)
    svc = Svc("97153", D("73.48"), D("10.00"), [("OA", "23", D("63.48"))], None, claim.lines[0].service_date, "1")
    era = write_835([Payment(D("10.00"), "SEC1", second.name, second.edi_payer_id,
                             [Clp(secondary.number, "2", D("73.48"), D("10.00"), services=[svc])])])
    result = import_835(era.encode(), filename="secondary.835", actor=SYSTEM)
    assert (result.matched, result.unmatched) == (1, 0)
    assert secondary.status is ClaimStatus.PAID
    assert claim_balance(secondary.id).balance == D("0.00")  # OA-23 is the primary's share, not ledgered again
    assert claim_balance(claim.id).balance == D("0.00")
    assert standing_adjudication(secondary.id).status_code == "2"


def test_a_denied_primary_passes_its_whole_balance_to_the_secondary(world):
    claim = submitted_claim(world)
    post(claim, ClaimPosting(PAID_ON, (LinePosting(1, D("0"), (Adjustment("CO", "96", D("73.48")),)),)))
    assert claim.status is ClaimStatus.DENIED
    assert "no next-rank policy" in secondary_refusal(claim)
    second = f.PayerFactory(company=world.company)
    f.PolicyFactory(client=world.client, payer=second, rank=PolicyRank.SECONDARY)
    assert secondary_refusal(claim) is None
    secondary = generate_secondary_claim(claim, actor=SYSTEM, posted_on=PAID_ON)
    db.session.flush()
    assert claim_balance(claim.id).balance == D("0.00")
    assert claim_balance(secondary.id).insurance == D("73.48")
    prior = prior_adjudication(secondary)
    assert [(a.group, a.reason) for a in prior.lines[0].adjustments] == [("CO", "96")]  # the 837's 2430 CAS
