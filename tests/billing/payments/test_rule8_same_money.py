"""Posting rule 8, "the same money twice is refused": the same payer and TRN02 is the same check whatever its dates,
amount or control numbers; the same claim paid twice without a reversal between is posted once and the second is
kept on the remittance, unposted, with the claim flagged; a credit balance never appears without Needs Review.

Money is compared with amounts worked out here (a $100.00 line paid $80.00, CO-45 $20.00), never with the code's.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from billing.core.audit import AuditAction
from billing.core.db import db
from billing.ledger.balances import claim_balance
from billing.ledger.models import Adjudication, EntryKind, LedgerEntry
from billing.ledger.postings import Adjustment, ClaimPosting, LinePosting
from billing.payments.invariants import check_ledger
from billing.payments.matching import match_unmatched
from billing.payments.models import Remittance, UnmatchedClaim
from billing.payments.operations import record_manual_payment, record_patient_payment, write_off
from billing.payments.remittances import PaidTwice, import_835
from tests.worlds.claims import history, hundred_dollar_claim
from tests.worlds.payments import PAID_ON, Clp, Payment, Svc, write_835
from tests.worlds.practice import SYSTEM

D = Decimal
HUNDRED, PAID, CO45 = D("100.00"), D("80.00"), D("20.00")


def paid_clp(claim, *, status: str = "1", paid: Decimal = PAID) -> Clp:
    """The payer's answer on a one-line $100.00 claim: `paid`, the rest contractual (CO-45)."""
    line = claim.lines[0]
    return Clp(claim.number, status, HUNDRED, paid, D("0.00"), "ICN1",
               [Svc(line.service_code.code, HUNDRED, paid, [("CO", "45", HUNDRED - paid)], None, line.service_date,
                    "1")])


def reversal_clp(claim, paid: Decimal = PAID) -> Clp:
    line = claim.lines[0]
    return Clp(claim.number, "22", -HUNDRED, -paid, D("0.00"), "ICN1",
               [Svc(line.service_code.code, -HUNDRED, -paid, [("CO", "45", paid - HUNDRED)], None, line.service_date,
                    "1")])


def payment(world, claims: list[Clp], check: str, *, paid_on=PAID_ON, amount: Decimal | None = None) -> Payment:
    total = sum((c.paid for c in claims), D("0.00")) if amount is None else amount
    return Payment(total, check, world.payer.name, world.payer.edi_payer_id, claims, paid_on=paid_on)


def import_payments(payments: list[Payment], name: str, *, control: int = 1):
    result = import_835(write_835(payments, control=control).encode(), filename=name, actor=SYSTEM)
    db.session.flush()
    return result


def paid_on_ledger(claim) -> Decimal:
    return db.session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
        LedgerEntry.claim_id == claim.id, LedgerEntry.kind == EntryKind.INSURANCE_PAYMENT))


def flags(claim) -> list[str]:
    return [h.reason or "" for h in history(claim) if h.action is AuditAction.CLAIM_FLAGGED]


def kept(claim) -> list[UnmatchedClaim]:
    return list(db.session.scalars(select(UnmatchedClaim).where(UnmatchedClaim.claim_number == claim.number)))


@pytest.fixture
def claim(world):
    return hundred_dollar_claim(world, lines=1)


# --- the same claim paid twice --------------------------------------------------------------------------------

def test_the_same_claim_twice_in_one_file_is_posted_once_and_the_second_kept(world, claim):
    result = import_payments([payment(world, [paid_clp(claim), paid_clp(claim)], "TWICE")], "twice.835")
    assert paid_on_ledger(claim) == PAID
    assert claim_balance(claim.id).insurance == D("0.00")  # 100.00 - 80.00 - 20.00, once
    assert (result.matched, result.paid_twice, result.unmatched, result.paid_total) == (2, 1, 0, PAID)
    [second] = kept(claim)
    assert second.paid == PAID
    assert second.reason.startswith(f"paid twice by {world.payer.name} without a reversal between; second payment "
                                    f"of $80.00 on check TWICE not posted")
    assert claim.needs_review
    assert any("paid twice" in f for f in flags(claim))
    assert any("paid twice" in w for w in result.warnings)
    assert "1 posted, 1 already paid by the payer (kept, not posted; claim flagged), 0 unmatched" in result.summary()
    assert check_ledger() == []  # BPR02 160.00 = 80.00 posted + 80.00 kept


def test_the_same_claim_paid_again_in_another_file_is_kept_on_that_remittance(world, claim):
    import_payments([payment(world, [paid_clp(claim)], "FIRST")], "first.835")
    result = import_payments([payment(world, [paid_clp(claim)], "SECOND")], "second.835", control=2)
    assert paid_on_ledger(claim) == PAID
    assert (result.matched, result.paid_twice, result.paid_total) == (1, 1, D("0.00"))
    [second] = kept(claim)
    assert second.remittance.check_number == "SECOND"
    assert "(the first, $80.00 on 04/01/2026 from check FIRST, stands)" in second.reason
    assert claim.needs_review
    assert check_ledger() == []


def test_a_manual_payment_then_the_payers_835_for_it_is_posted_once(world, claim):
    posting = ClaimPosting(PAID_ON, (LinePosting(1, PAID, (Adjustment("CO", "45", CO45),)),))
    record_manual_payment(claim, posting, actor=SYSTEM)
    result = import_payments([payment(world, [paid_clp(claim)], "ERA-LATER")], "later.835")
    assert paid_on_ledger(claim) == PAID
    assert result.paid_twice == 1
    assert "from manual posting" in kept(claim)[0].reason


def test_after_the_payers_reversal_a_new_answer_posts(world, claim):
    import_payments([payment(world, [paid_clp(claim)], "FIRST")], "first.835")
    import_payments([payment(world, [reversal_clp(claim)], "TAKEN")], "taken.835", control=2)
    result = import_payments([payment(world, [paid_clp(claim, paid=D("90.00"))], "AGAIN")], "again.835", control=3)
    assert (result.matched, result.paid_twice) == (1, 0)
    assert paid_on_ledger(claim) == D("90.00")  # 80.00 - 80.00 + 90.00
    assert claim_balance(claim.id).insurance == D("0.00")
    assert kept(claim) == []


def test_a_reversal_and_a_new_answer_in_one_file_post(world, claim):
    import_payments([payment(world, [paid_clp(claim)], "FIRST")], "first.835")
    result = import_payments([payment(world, [reversal_clp(claim), paid_clp(claim, paid=D("90.00"))], "FIX")],
                             "fix.835", control=2)
    assert (result.matched, result.paid_twice, result.reversals) == (2, 0, 1)
    assert paid_on_ledger(claim) == D("90.00")


def test_after_a_denial_that_moved_nothing_the_payers_new_answer_posts(world, claim):
    line = claim.lines[0]
    denial = Clp(claim.number, "4", HUNDRED, D("0.00"), D("0.00"), "ICN1",
                 [Svc(line.service_code.code, HUNDRED, D("0.00"), [("CO", "16", HUNDRED)], None, line.service_date,
                      "1")])
    import_payments([payment(world, [denial], "DENIED", amount=D("0.00"))], "denied.835")
    result = import_payments([payment(world, [paid_clp(claim)], "PAID")], "paid.835", control=2)
    assert (result.matched, result.paid_twice) == (1, 0)
    assert paid_on_ledger(claim) == PAID


def test_the_kept_payment_posts_by_hand_only_once_the_first_is_reversed(world, claim):
    import_payments([payment(world, [paid_clp(claim)], "FIRST")], "first.835")
    import_payments([payment(world, [paid_clp(claim)], "SECOND")], "second.835", control=2)
    [second] = kept(claim)
    with pytest.raises(PaidTwice, match="paid twice"):
        match_unmatched(second, claim, actor=SYSTEM)
    import_payments([payment(world, [reversal_clp(claim)], "TAKEN")], "taken.835", control=3)
    match_unmatched(second, claim, actor=SYSTEM)
    db.session.flush()
    assert paid_on_ledger(claim) == PAID  # 80.00 - 80.00 + 80.00
    assert check_ledger() == []


# --- the same check ---------------------------------------------------------------------------------------------

def test_the_same_check_for_another_amount_is_refused_and_says_so(world, claim):
    import_payments([payment(world, [paid_clp(claim)], "SAME")], "first.835")
    other = hundred_dollar_claim(world, lines=1)
    result = import_payments([payment(world, [paid_clp(other, paid=D("70.00"))], "SAME",
                                      paid_on=PAID_ON + timedelta(days=2))], "again.835", control=2)
    assert result.duplicate
    assert paid_on_ledger(other) == D("0.00")
    [why] = result.repeated
    assert "check SAME from" in why
    assert "not posted" in why
    assert "dated 04/03/2026, not 04/01/2026" in why
    assert "for $70.00, not $80.00" in why
    assert why in result.warnings
    assert result.summary().startswith("again.835: already imported; nothing posted. Check SAME from")
    assert db.session.scalar(select(func.count()).select_from(Remittance)) == 1


def test_one_repeated_check_among_new_ones_the_others_post(world, claim):
    import_payments([payment(world, [paid_clp(claim)], "OLD")], "old.835")
    other = hundred_dollar_claim(world, lines=1)
    result = import_payments([payment(world, [paid_clp(claim)], "OLD", paid_on=PAID_ON + timedelta(days=5)),
                              payment(world, [paid_clp(other)], "NEW")], "mixed.835", control=2)
    assert not result.duplicate
    assert (result.transactions, result.matched, result.paid_total) == (1, 1, PAID)
    assert paid_on_ledger(claim) == PAID  # the repeat posted nothing, not even a kept CLP
    assert paid_on_ledger(other) == PAID
    [why] = result.repeated
    assert "check OLD" in why
    assert "Check OLD from" in result.summary()
    assert check_ledger() == []


def test_the_same_check_twice_in_one_file_posts_once(world, claim):
    other = hundred_dollar_claim(world, lines=1)
    result = import_payments([payment(world, [paid_clp(claim)], "DUP"), payment(world, [paid_clp(other)], "DUP")],
                             "dup.835")
    assert result.transactions == 1
    assert (paid_on_ledger(claim), paid_on_ledger(other)) == (PAID, D("0.00"))
    assert "twice in this file" in result.repeated[0]


# --- no silent credit -------------------------------------------------------------------------------------------

def test_a_payment_after_a_write_off_flags_the_credit(world, claim):
    write_off(claim, reason="small balance", actor=SYSTEM, posted_on=PAID_ON)
    posting = ClaimPosting(PAID_ON, (LinePosting(1, PAID, (Adjustment("CO", "45", CO45),)),))
    record_manual_payment(claim, posting, actor=SYSTEM, overpayment=True)
    db.session.flush()
    assert claim_balance(claim.id).insurance == D("-100.00")  # written off 100.00, then paid 80.00 + CO-45 20.00
    assert claim.needs_review
    assert any("credit balance (insurance -$100.00)" in f for f in flags(claim))
    assert check_ledger() == []


def test_an_835_after_a_write_off_flags_the_credit_in_the_import_warnings(world, claim):
    write_off(claim, reason="gave up on it", actor=SYSTEM, posted_on=PAID_ON)
    result = import_payments([payment(world, [paid_clp(claim)], "LATE")], "late.835")
    assert claim_balance(claim.id).insurance == D("-100.00")
    assert claim.needs_review
    assert any("credit balance (insurance -$100.00)" in w for w in result.warnings)
    assert check_ledger() == []


def test_a_posting_that_leaves_no_credit_does_not_flag(world, claim):
    import_payments([payment(world, [paid_clp(claim)], "FINE")], "fine.835")
    assert not claim.needs_review
    assert flags(claim) == []


def test_a_patient_payment_never_makes_a_credit(world, claim):
    line = claim.lines[0]
    with_copay = Clp(claim.number, "1", HUNDRED, PAID, D("10.00"), "ICN1",
                     [Svc(line.service_code.code, HUNDRED, PAID, [("CO", "45", D("10.00")), ("PR", "3", D("10.00"))],
                          None, line.service_date, "1")])
    import_payments([payment(world, [with_copay], "COPAY")], "copay.835")
    record_patient_payment(claim, D("10.00"), actor=SYSTEM, posted_on=PAID_ON)
    db.session.flush()
    assert claim_balance(claim.id).patient == D("0.00")
    assert not claim.needs_review
    assert db.session.scalar(select(func.count()).select_from(Adjudication)) == 1
