"""Typed money is checked against the claim: a payment above what the payer owes needs "overpayment", and dates
must fall between the service and today."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from billing.core.db import db
from billing.core.errors import ValidationFailed
from billing.core.time import practice_today
from billing.ledger.balances import claim_balance
from billing.ledger.postings import Adjustment, ClaimPosting, LinePosting
from billing.payments.operations import record_manual_payment
from billing.payments.reversals import manual_clawback, standing_payments
from billing.people.models import Role
from tests.conftest import csrf_token
from tests.worlds.claims import submitted_claim
from tests.worlds.payments import PAID_ON
from tests.worlds.practice import SYSTEM

D = Decimal
CHARGE = D("73.48")


def paid(amount: str, *, on=PAID_ON, adjustment: str | None = None) -> ClaimPosting:
    rest = (Adjustment("CO", "45", D(adjustment)),) if adjustment else ()
    return ClaimPosting(on, (LinePosting(1, D(amount), rest, leave_open=adjustment is None),))


@pytest.fixture
def claim(world):
    return submitted_claim(world)


def test_an_additional_payment_above_the_balance_needs_the_overpayment_box(claim):
    record_manual_payment(claim, paid("58.78", adjustment="14.70"), actor=SYSTEM)
    with pytest.raises(ValidationFailed, match=r"Paid \$20.00 is more than the \$0.00 the payer still owes"):
        record_manual_payment(claim, paid("20.00"), actor=SYSTEM, mode="add")
    record_manual_payment(claim, paid("20.00"), actor=SYSTEM, mode="add", overpayment=True)
    db.session.flush()
    assert claim_balance(claim.id).insurance == D("-20.00")  # 73.48 - 58.78 - 14.70 - 20.00
    assert claim.needs_review


def test_a_payment_within_the_balance_needs_no_confirmation(claim):
    record_manual_payment(claim, paid("30.00"), actor=SYSTEM)
    record_manual_payment(claim, paid("43.48"), actor=SYSTEM, mode="add")
    assert claim_balance(claim.id).insurance == D("0.00")


@pytest.mark.parametrize(("days", "message"), [(-400, "before the date of service"), (30, "is in the future")])
def test_a_payment_date_outside_service_to_today_is_refused(claim, days, message):
    day = (claim.service_date if days < 0 else practice_today()) + timedelta(days=days)
    with pytest.raises(ValidationFailed, match=message):
        record_manual_payment(claim, paid("30.00", on=day), actor=SYSTEM)
    assert claim_balance(claim.id).insurance == CHARGE


def test_a_reversal_dated_before_the_service_is_refused(claim):
    record_manual_payment(claim, paid("30.00"), actor=SYSTEM)
    with pytest.raises(ValidationFailed, match="The reversal date"):
        manual_clawback(claim, reason="letter", posted_on=claim.service_date - timedelta(days=1), actor=SYSTEM,
                        payments=standing_payments(claim.id))


def test_the_record_payment_page_offers_and_reads_the_overpayment_box(client, login, claim):
    record_manual_payment(claim, paid("58.78", adjustment="14.70"), actor=SYSTEM)
    db.session.flush()
    login(Role.BILLER)
    form = {"csrf_token": csrf_token(client, "/admin/claim/"), "do": "save", "mode": "add",
            "paid_on": PAID_ON.isoformat(), "line-1-paid": "20.00", "line-1-open": "1"}
    page = client.post(f"/admin/claim/payment/?id={claim.id}", data=form).get_data(as_text=True)
    assert "data-overpayment" in page
    assert "more than the $0.00 the payer still owes" in page
    client.post(f"/admin/claim/payment/?id={claim.id}", data={**form, "overpayment": "1"})
    db.session.expire_all()
    assert claim_balance(claim.id).insurance == D("-20.00")


def test_a_patient_overpayment_is_taken_only_when_confirmed_and_left_as_a_flagged_credit(world):
    from billing.payments.operations import bill_patient, record_patient_payment

    claim = submitted_claim(world)
    bill_patient(claim, actor=SYSTEM, posted_on=PAID_ON)
    with pytest.raises(ValidationFailed, match=r"\$80.00 is more than the patient balance of \$73.48"):
        record_patient_payment(claim, D("80.00"), actor=SYSTEM, posted_on=PAID_ON)
    record_patient_payment(claim, D("80.00"), actor=SYSTEM, posted_on=PAID_ON, overpayment=True)
    db.session.flush()
    assert claim_balance(claim.id).patient == D("-6.52")  # 73.48 owed, 80.00 paid
    assert claim.needs_review
