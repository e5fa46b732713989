"""Claims left with a credit balance, made the way an office makes them (through the payment operations).

- `insurance_credit_claim`: a $100.00 line paid $80.00 (CO-45 $20.00), then the same $80.00 typed again as an
  additional payment with the difference left open: the payer is owed back $80.00.
- `patient_credit_claim`: a $100.00 line paid $70.00 with a $10.00 copay the patient paid, then the payer's
  corrected answer (paid $80.00, no copay) replaces the first: the patient is owed back $10.00.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from billing.claims.models import Claim
from billing.core.db import db
from billing.ledger.postings import Adjustment, ClaimPosting, LinePosting
from billing.payments.operations import record_manual_payment, record_patient_payment
from tests.worlds.claims import hundred_dollar_claim, submitted_claim
from tests.worlds.payments import PAID_ON
from tests.worlds.practice import SYSTEM, World

D = Decimal
#: When the second posting (the one that makes the credit) is dated.
CREDIT_ON = date(2026, 4, 20)


def _posting(paid: str, *adjustments: Adjustment, paid_on: date = PAID_ON, leave_open: bool = False) -> ClaimPosting:
    line = LinePosting(1, D(paid), tuple(adjustments), allowed=D("80.00"), leave_open=leave_open)
    return ClaimPosting(paid_on=paid_on, lines=(line,), memo="paper EOB")


def insurance_credit_claim(world: World) -> Claim:
    claim = hundred_dollar_claim(world, lines=1)
    record_manual_payment(claim, _posting("80.00", Adjustment("CO", "45", D("20.00"))), actor=SYSTEM)
    record_manual_payment(claim, _posting("80.00", paid_on=CREDIT_ON, leave_open=True), actor=SYSTEM, mode="add",
                          overpayment=True)
    db.session.flush()
    return claim


def patient_credit_claim(world: World) -> Claim:
    claim = hundred_dollar_claim(world, lines=1)
    copay = _posting("70.00", Adjustment("CO", "45", D("20.00")), Adjustment("PR", "3", D("10.00")))
    record_manual_payment(claim, copay, actor=SYSTEM)
    record_patient_payment(claim, D("10.00"), actor=SYSTEM, posted_on=PAID_ON, memo="copay at the desk")
    record_manual_payment(claim, _posting("80.00", Adjustment("CO", "45", D("20.00")), paid_on=CREDIT_ON),
                          actor=SYSTEM, mode="replace")
    db.session.flush()
    return claim


def patient_owing_claim(world: World, day: date = date(2026, 3, 9)) -> Claim:
    """Another claim of the world's client (a week later) on which the patient owes a $15.00 copay."""
    claim = submitted_claim(world, lines=1, day=day, charged=False)
    claim.lines[0].charge = claim.total_charge = D("100.00")
    copay = _posting("65.00", Adjustment("CO", "45", D("20.00")), Adjustment("PR", "3", D("15.00")))
    record_manual_payment(claim, copay, actor=SYSTEM)
    db.session.flush()
    return claim
