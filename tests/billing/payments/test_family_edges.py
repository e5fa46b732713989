"""Family edges the model test found once PLBs, crossovers, one-line reversals, later payers and money on
replaced claims were in its sequences (Posting rules 1, 5 and 6). Amounts are worked by hand in each test."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from billing.claims.operations import correct_claim
from billing.core.db import db
from billing.core.errors import BillingError
from billing.coverage.models import PolicyRank
from billing.ledger.balances import claim_balance
from billing.ledger.models import Adjudication
from billing.payments.invariants import check_ledger
from billing.payments.operations import write_off
from billing.payments.reversals import manual_clawback, standing_payments
from billing.payments.secondary import secondary_refusal
from tests.billing.payments.test_families import SENT_ON, priced_claim, reversal_svc, send
from tests.billing.payments.test_posting_cases import import_clp, svc
from tests.billing.payments.test_secondary_posting import pay_secondary, secondary_after
from tests.worlds import factories as f
from tests.worlds.payments import Clp
from tests.worlds.practice import SYSTEM

D = Decimal


def test_a_clawback_after_a_one_line_reversal_takes_back_only_what_still_stood(world):
    claim = priced_claim(world, "100.00", "50.00")
    one, two = claim.lines
    import_clp(world, Clp(claim.number, "1", D("150.00"), D("110.00"), services=[
        svc(one, "80.00", ("CO", "45", "20.00")), svc(two, "30.00", ("CO", "45", "20.00"))]), check="PAID")
    import_clp(world, Clp(claim.number, "22", D("-50.00"), D("-30.00"), services=[
        reversal_svc(two, "30.00", ("CO", "45", "20.00"))]), check="LINE-2-BACK")
    manual_clawback(claim, reason="letter of 4/30", posted_on=SENT_ON, actor=SYSTEM,
                    payments=standing_payments(claim.id)[-1:])
    db.session.flush()
    reversal = db.session.scalars(select_reversals(claim)).all()[-1]
    # $110 paid, $30 of it already taken back with line 2: the clawback states the $80 that stood.
    assert (reversal.paid, reversal.charge) == (D("-80.00"), D("-100.00"))
    assert claim_balance(claim.id).insurance == D("150.00")
    assert check_ledger() == []


def select_reversals(claim):
    return select(Adjudication).where(Adjudication.claim_id == claim.id,
                                      Adjudication.reverses_id.is_not(None)).order_by(Adjudication.id)


def test_a_later_payers_oa23_closes_the_line_its_own_reasons_left_open(world):
    # The primary sent the whole $250 to the patient (deductible); the secondary pays $32.50, PR-2 $108.75,
    # CO-45 $54.38 and OA-23 $54.37: the patient owes exactly $108.75 and the insurance side is closed.
    _, secondary, payer = secondary_after(world, "250.00", "0.00", "0.00", "250.00")
    pay_secondary(secondary, payer, "250.00", "32.50", ("PR", "2", "108.75"), ("CO", "45", "54.38"),
                  ("OA", "23", "54.37"), patient="108.75")
    sums = claim_balance(secondary.id)
    assert (sums.insurance, sums.patient) == (D("0.00"), D("108.75"))
    assert check_ledger() == []


def test_a_claim_whose_next_payer_claim_stands_is_not_corrected(world):
    claim, secondary, _ = secondary_after(world, "73.48", "40.00", "3.48", "30.00")
    with pytest.raises(BillingError, match=f"void {secondary.number} first"):
        correct_claim(claim, actor=SYSTEM, reason="wrong modifier", payer_claim_number="PCN1")


def test_a_replaced_claim_forwards_nothing_to_the_next_payer(world):
    claim = priced_claim(world, "73.48")
    second = f.PayerFactory(company=world.company)
    f.PolicyFactory(client=world.client, payer=second, rank=PolicyRank.SECONDARY)
    import_clp(world, Clp(claim.number, "1", D("73.48"), D("40.00"), D("30.00"), services=[
        svc(claim.lines[0], "40.00", ("CO", "45", "3.48"), ("PR", "2", "30.00"))]))
    send(correct_claim(claim, actor=SYSTEM, reason="wrong units", payer_claim_number="PCN1"))
    assert "replaced by corrected claim" in (secondary_refusal(claim) or "")


def test_a_correction_withdraws_the_originals_write_off_with_its_charge(world):
    claim = priced_claim(world, "73.48")
    write_off(claim, reason="small balance", actor=SYSTEM, posted_on=SENT_ON)
    copy = send(correct_claim(claim, actor=SYSTEM, reason="wrong units", payer_claim_number="PCN1"))
    # The original nets to zero (charge and write-off withdrawn); the service is owed once, on the copy.
    assert claim_balance(claim.id).insurance == D("0.00")
    assert claim_balance(copy.id).insurance == D("73.48")
    assert check_ledger() == []


def test_ref_6r_names_our_line_number_even_where_another_lines_id_reads_the_same():
    # A one-line reversal took back the wrong line: REF*6R*3 read as line 2's id before line 3's number.
    from billing.claims.models import ClaimLine
    from billing.edi.era import ServicePayment
    from billing.payments.remittances import _line_for

    two, three = ClaimLine(id=3, line_number=2), ClaimLine(id=7, line_number=3)
    def svc_(control: str) -> ServicePayment:
        return ServicePayment("HC", "97153", (), D("-250.00"), D("-200.00"), None, line_control=control)

    assert _line_for(svc_("3"), [two, three]) is three
    assert _line_for(svc_("7"), [two, three]) is three  # an id still finds its line when no number reads the same


def test_a_correction_that_leaves_the_patients_paid_share_flags_the_original(world):
    from billing.payments.operations import record_patient_payment

    claim = priced_claim(world, "73.48")
    import_clp(world, Clp(claim.number, "1", D("73.48"), D("0.00"), D("73.48"), services=[
        svc(claim.lines[0], "0.00", ("PR", "1", "73.48"))]), check="DEDUCTIBLE")
    record_patient_payment(claim, D("73.48"), actor=SYSTEM, posted_on=SENT_ON)
    claim.needs_review = False
    send(correct_claim(claim, actor=SYSTEM, reason="wrong units", payer_claim_number="PCN1"))
    # The charge is withdrawn; the $73.48 deductible the patient paid stays: insurance -73.48 until the payer
    # reverses its answer, so the original must carry Needs Review.
    sums = claim_balance(claim.id)
    assert (sums.insurance, sums.patient) == (D("-73.48"), D("0.00"))
    assert claim.needs_review
    assert check_ledger() == []
