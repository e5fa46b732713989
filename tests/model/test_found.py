"""Disagreements with the Posting rules the model test found in the current code, each as its smallest example.

Each is an expected failure (strict): when the code is fixed the test passes, strict xfail fails the run, and the
marker comes off (and the matching switch in test_posting_model.FEATURES goes on).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from billing.claims.operations import void_claim
from billing.claims.statuses import ClaimStatus
from billing.core.audit import StatusChange
from billing.core.db import db
from billing.core.errors import NotAllowed, NothingToDo
from billing.ledger.balances import claim_balance
from billing.ledger.models import EntryKind, LedgerEntry
from billing.ledger.postings import Adjustment, ClaimPosting, LinePosting
from billing.payments.invariants import check_ledger
from billing.payments.operations import record_manual_payment, write_off, write_off_denied_line
from billing.payments.remittances import import_835
from billing.payments.secondary import generate_secondary_claim
from tests.model.helpers import insured_twice, send, sent_claim
from tests.worlds.payments import PAID_ON, Clp, Payment, Svc, write_835
from tests.worlds.practice import SYSTEM

D = Decimal
CHARGE = D("73.48")


def one_line_clp(claim, paid: Decimal, *cas: tuple[str, str, Decimal]) -> Clp:
    line = claim.lines[0]
    pr = sum((a for g, _, a in cas if g == "PR"), D("0.00"))
    return Clp(claim.number, "1", line.charge, paid, pr, "ICN1",
               [Svc(line.service_code.code, line.charge, paid, list(cas), None, line.service_date, "1")])


def history(claim) -> list[StatusChange]:
    return list(db.session.query(StatusChange).filter_by(subject_type="claim", subject_id=claim.id)
                .order_by(StatusChange.id))


def import_file(world, claims: list[Clp], *, check: str, paid_on=PAID_ON):
    total = sum((c.paid for c in claims), D("0.00"))
    payment = Payment(total, check, world.payer.name, world.payer.edi_payer_id, claims, paid_on=paid_on)
    result = import_835(write_835([payment]).encode(), filename=f"{check}-{paid_on}.835", actor=SYSTEM)
    db.session.flush()
    return result


def paid_beside_a_denied_line(world):
    """A two-line claim the payer answered with line 1 paid $50 (CO-45 the rest) and line 2 denied CO-16."""
    claim = sent_claim(world, world.client, [CHARGE, CHARGE], day_offset=1)
    one, two = claim.lines
    import_file(world, [Clp(claim.number, "1", CHARGE * 2, D("50.00"), D("0.00"), "ICN1", [
        Svc(one.service_code.code, CHARGE, D("50.00"), [("CO", "45", CHARGE - D("50.00"))], None,
            one.service_date, "1"),
        Svc(two.service_code.code, CHARGE, D("0.00"), [("CO", "16", CHARGE)], None, two.service_date, "2")])],
        check="DENIED-LINE")
    return claim, one, two


def test_a_payment_after_a_write_off_leaves_no_unflagged_credit(world):
    claim = sent_claim(world, world.client, [CHARGE], day_offset=1)
    write_off(claim, reason="small balance", actor=SYSTEM, posted_on=PAID_ON)
    posting = ClaimPosting(PAID_ON, (LinePosting(1, D("0.00"), (Adjustment("PR", "1", CHARGE),)),))
    record_manual_payment(claim, posting, actor=SYSTEM)
    db.session.flush()
    sums = claim_balance(claim.id)
    assert (sums.insurance, sums.patient) == (-CHARGE, CHARGE)  # what the rules' arithmetic gives
    assert check_ledger() == []  # ... and then the claim must carry Needs Review


def test_the_same_claim_twice_in_one_file_is_posted_once(world):
    claim = sent_claim(world, world.client, [CHARGE], day_offset=1)
    paid, co45 = D("50.00"), CHARGE - D("50.00")
    clp = one_line_clp(claim, paid, ("CO", "45", co45))
    import_file(world, [clp, clp], check="TWICE")
    payments = [e.amount for e in db.session.query(LedgerEntry).filter_by(claim_id=claim.id,
                                                                          kind=EntryKind.INSURANCE_PAYMENT)]
    assert sum(payments, D("0.00")) == paid
    assert claim.needs_review


def test_the_same_claim_paid_again_in_another_file_is_posted_once(world):
    claim = sent_claim(world, world.client, [CHARGE], day_offset=1)
    paid, co45 = D("50.00"), CHARGE - D("50.00")
    import_file(world, [one_line_clp(claim, paid, ("CO", "45", co45))], check="FIRST")
    import_file(world, [one_line_clp(claim, paid, ("CO", "45", co45))], check="SECOND")
    assert claim_balance(claim.id).insurance == CHARGE - paid - co45
    assert claim.needs_review


def test_the_same_check_on_another_date_is_the_same_remittance(world):
    one = sent_claim(world, world.client, [CHARGE], day_offset=1)
    two = sent_claim(world, world.client, [CHARGE], day_offset=2)
    import_file(world, [one_line_clp(one, D("50.00"), ("CO", "45", CHARGE - D("50.00")))], check="SAME")
    result = import_file(world, [one_line_clp(two, D("50.00"), ("CO", "45", CHARGE - D("50.00")))], check="SAME",
                         paid_on=PAID_ON + timedelta(days=3))
    assert result.duplicate
    assert claim_balance(two.id).insurance == CHARGE


# Rule 6, found by the model test and fixed since: kept as regression tests, with their neighbours (an unsent
# secondary, a one-line reversal, a voided resubmission, a secondary billing the lines the primary finished with).
def test_a_primary_reversal_under_a_secondary_keeps_the_service_open_once(world):
    client, _ = insured_twice(world)
    claim = sent_claim(world, client, [CHARGE], day_offset=1)
    copay = D("10.00")
    import_file(world, [one_line_clp(claim, D("50.00"), ("CO", "45", CHARGE - D("60.00")), ("PR", "3", copay))],
                check="PAID")
    secondary = generate_secondary_claim(claim, actor=SYSTEM, posted_on=PAID_ON)
    send(secondary)
    reversal = Clp(claim.number, "22", -CHARGE, D("-50.00"), -copay, "ICN1")
    import_file(world, [reversal], check="TAKEN-BACK")
    assert check_ledger() == []
    # The primary owes its whole charge again; the copay it named and its transfer to the secondary are gone.
    sums = claim_balance(claim.id)
    assert (sums.insurance, sums.patient) == (CHARGE, D("0.00"))
    # The secondary's $10.00 bill is withdrawn by a linked reversal, and a biller is told to void it.
    charges = [e.amount for e in db.session.query(LedgerEntry).filter_by(claim_id=secondary.id, kind=EntryKind.CHARGE)]
    assert sorted(charges) == [-copay, copay]
    assert claim_balance(secondary.id).balance == D("0.00")
    assert secondary.needs_review
    assert secondary.status is ClaimStatus.SUBMITTED
    assert any(f"void {secondary.number}" in (h.reason or "") for h in history(secondary))


def test_an_unsent_secondary_is_held_when_the_primary_payment_is_reversed(world):
    client, _ = insured_twice(world)
    claim = sent_claim(world, client, [CHARGE], day_offset=1)
    copay = D("10.00")
    import_file(world, [one_line_clp(claim, D("50.00"), ("CO", "45", CHARGE - D("60.00")), ("PR", "3", copay))],
                check="PAID")
    secondary = generate_secondary_claim(claim, actor=SYSTEM, posted_on=PAID_ON)
    import_file(world, [Clp(claim.number, "22", -CHARGE, D("-50.00"), -copay, "ICN1")], check="TAKEN-BACK")
    assert check_ledger() == []
    assert secondary.status is ClaimStatus.HELD
    assert claim_balance(secondary.id).balance == D("0.00")
    assert claim_balance(claim.id).insurance == CHARGE


def test_a_one_line_reversal_under_a_secondary_withdraws_that_line_only(world):
    client, _ = insured_twice(world)
    claim = sent_claim(world, client, [CHARGE, CHARGE], day_offset=1)
    one, two = claim.lines
    copay, co45 = D("10.00"), CHARGE - D("60.00")

    def paid_svc(line, sign=1):
        return Svc(line.service_code.code, sign * CHARGE, sign * D("50.00"), [("CO", "45", sign * co45),
                   ("PR", "3", sign * copay)], None, line.service_date, str(line.line_number))

    import_file(world, [Clp(claim.number, "1", CHARGE * 2, D("100.00"), copay * 2, "ICN1",
                            [paid_svc(one), paid_svc(two)])], check="PAID")
    secondary = generate_secondary_claim(claim, actor=SYSTEM, posted_on=PAID_ON)
    send(secondary)
    import_file(world, [Clp(claim.number, "22", -CHARGE, D("-50.00"), -copay, "ICN1", [paid_svc(one, -1)])],
                check="LINE-ONE-BACK")
    assert check_ledger() == []
    assert claim_balance(claim.id).insurance == CHARGE  # line 1 owed by the primary again
    assert claim_balance(secondary.id).insurance == copay  # line 2's copay still billed to the secondary
    assert secondary.needs_review


def test_a_plb_offset_under_a_secondary_withdraws_the_lines_it_recoups(world):
    client, _ = insured_twice(world)
    claim = sent_claim(world, client, [CHARGE], day_offset=1)
    other = sent_claim(world, world.client, [CHARGE], day_offset=2)
    copay, offset = D("10.00"), D("20.00")
    import_file(world, [one_line_clp(claim, D("50.00"), ("CO", "45", CHARGE - D("60.00")), ("PR", "3", copay))],
                check="PAID")
    secondary = generate_secondary_claim(claim, actor=SYSTEM, posted_on=PAID_ON)
    send(secondary)
    # A later check pays another claim and recoups $20.00 of this one's payment (PLB WO naming it, rule 7).
    payment = Payment(D("50.00") - offset, "RECOUP", world.payer.name, world.payer.edi_payer_id,
                      [one_line_clp(other, D("50.00"), ("CO", "45", CHARGE - D("50.00")))],
                      plbs=[("WO", offset, claim.number)])
    import_835(write_835([payment]).encode(), filename="RECOUP.835", actor=SYSTEM)
    db.session.flush()
    assert check_ledger() == []
    sums = claim_balance(claim.id)
    assert (sums.insurance, sums.patient) == (offset, copay)  # recouped part owed again, the copay back here
    assert claim_balance(secondary.id).balance == D("0.00")
    assert secondary.needs_review
    assert any("recouped by a PLB offset" in (h.reason or "") for h in history(secondary))


def test_a_second_resubmission_of_a_denied_line_keeps_it_open_once(world):
    from billing.payments.secondary import resubmit_denied_lines

    claim, _, _ = paid_beside_a_denied_line(world)
    co45 = CHARGE - D("50.00")
    first = resubmit_denied_lines(claim, actor=SYSTEM, reason="fixed the modifier")
    send(first)
    import_file(world, [one_line_clp(first, D("50.00"), ("CO", "45", co45))], check="FIRST-PAID")
    # While the first resubmission stands, the line is billed there: a second one is refused, naming both.
    with pytest.raises(NothingToDo, match=f"line 2 is billed on {first.number} \\(Paid\\)"):
        resubmit_denied_lines(claim, actor=SYSTEM, reason="fixed the modifier again")
    import_file(world, [Clp(first.number, "22", -CHARGE, D("-50.00"), D("0.00"), "ICN1")], check="TAKEN-BACK")
    assert check_ledger() == []
    assert claim_balance(first.id).insurance == CHARGE  # open once: on the resubmission, not the original
    assert claim_balance(claim.id).insurance == D("0.00")


def test_a_denied_line_paid_later_opens_again_when_that_payment_is_reversed(world):
    from billing.claims.line_denials import LineDenialState
    from billing.payments.reversals import manual_clawback, standing_payments
    from billing.payments.secondary import resubmit_denied_lines

    claim, _, two = paid_beside_a_denied_line(world)
    later = ClaimPosting(PAID_ON, (LinePosting(2, D("50.00"), (Adjustment("CO", "45", CHARGE - D("50.00")),)),))
    record_manual_payment(claim, later, actor=SYSTEM, mode="add", overpayment=True)
    assert two.denial_state is LineDenialState.PAID_LATER
    manual_clawback(claim, reason="payer letter: paid in error", posted_on=PAID_ON, actor=SYSTEM,
                    payments=standing_payments(claim.id)[-1:])
    assert two.denial_state is LineDenialState.OPEN  # the payment standing again denies it (rule 3)
    copy = resubmit_denied_lines(claim, actor=SYSTEM, reason="fixed the modifier")
    send(copy)
    assert check_ledger() == []
    assert (claim_balance(claim.id).insurance, claim_balance(copy.id).insurance) == (D("0.00"), CHARGE)


def test_a_denied_line_the_next_payer_bills_is_not_resubmitted_until_that_claim_is_voided(world):
    from billing.payments.secondary import resubmit_denied_lines

    client, _ = insured_twice(world)
    claim = sent_claim(world, client, [CHARGE, CHARGE], day_offset=1)
    one, two = claim.lines
    copay, co45 = D("10.00"), CHARGE - D("60.00")
    import_file(world, [Clp(claim.number, "1", CHARGE * 2, D("100.00"), copay * 2, "ICN1", [
        Svc(ln.service_code.code, CHARGE, D("50.00"), [("CO", "45", co45), ("PR", "3", copay)], None,
            ln.service_date, str(ln.line_number)) for ln in (one, two)])], check="PAID")
    secondary = generate_secondary_claim(claim, actor=SYSTEM, posted_on=PAID_ON)
    send(secondary)
    # A later paper EOB denies line 2 (an added payment of nothing, CO-16): it is a denied line to work.
    denial = ClaimPosting(PAID_ON, (LinePosting(2, D("0.00"), (Adjustment("CO", "16", CHARGE),)),))
    record_manual_payment(claim, denial, actor=SYSTEM, mode="add", overpayment=True)
    with pytest.raises(NotAllowed, match=f"Line 2 of claim {claim.number} is billed to the next payer on "
                                         f"{secondary.number}; void {secondary.number} first"):
        resubmit_denied_lines(claim, actor=SYSTEM, reason="fixed the modifier")
    assert check_ledger() == []


def test_a_denied_line_is_resubmitted_again_once_its_resubmission_is_voided(world):
    from billing.payments.secondary import resubmit_denied_lines

    claim, _, _ = paid_beside_a_denied_line(world)
    first = resubmit_denied_lines(claim, actor=SYSTEM, reason="fixed the modifier")
    send(first)
    void_claim(first, reason="sent to the wrong payer id", actor=SYSTEM)
    again = resubmit_denied_lines(claim, actor=SYSTEM, reason="fixed the payer id")
    send(again)
    assert [ln.line_number for ln in again.lines] == [1]
    assert check_ledger() == []
    assert (claim_balance(claim.id).insurance, claim_balance(first.id).insurance,
            claim_balance(again.id).insurance) == (D("0.00"), D("0.00"), CHARGE)


def test_a_secondary_beside_a_denied_line_keeps_the_service_open_once(world):
    client, _ = insured_twice(world)
    claim = sent_claim(world, client, [CHARGE, CHARGE], day_offset=1)
    one, two = claim.lines
    half = CHARGE / 2
    import_file(world, [Clp(claim.number, "1", CHARGE * 2, D("50.00"), half, "ICN1", [
        Svc(one.service_code.code, CHARGE, D("50.00"), [("CO", "45", CHARGE - D("50.00"))], None,
            one.service_date, "1"),
        Svc(two.service_code.code, CHARGE, D("0.00"), [("CO", "16", half), ("PR", "1", half)], None,
            two.service_date, "2")])], check="DENIED-LINE")
    # Line 2 is still to be worked on the primary (it may yet pay it): the next payer is not billed for it.
    with pytest.raises(NotAllowed, match=r"line 2 is denied by .* and still to be worked"):
        generate_secondary_claim(claim, actor=SYSTEM, posted_on=PAID_ON)
    assert check_ledger() == []
    # Once the biller writes off the denied part, its patient half goes to the secondary.
    write_off_denied_line(claim, 2, reason="timely filing missed", actor=SYSTEM, posted_on=PAID_ON)
    secondary = generate_secondary_claim(claim, actor=SYSTEM, posted_on=PAID_ON)
    send(secondary)
    assert check_ledger() == []
    assert claim_balance(secondary.id).insurance == half
    assert claim_balance(claim.id).balance == D("0.00")


def test_a_secondary_does_not_bill_a_line_a_resubmission_bills(world):
    from billing.payments.secondary import resubmit_denied_lines

    client, _ = insured_twice(world)
    claim = sent_claim(world, client, [CHARGE, CHARGE], day_offset=1)
    one, two = claim.lines
    copay = D("10.00")
    import_file(world, [Clp(claim.number, "1", CHARGE * 2, D("50.00"), copay, "ICN1", [
        Svc(one.service_code.code, CHARGE, D("50.00"), [("CO", "45", CHARGE - D("60.00")), ("PR", "3", copay)],
            None, one.service_date, "1"),
        Svc(two.service_code.code, CHARGE, D("0.00"), [("CO", "16", CHARGE)], None, two.service_date, "2")])],
        check="DENIED-LINE")
    resubmission = resubmit_denied_lines(claim, actor=SYSTEM, reason="fixed the modifier")
    send(resubmission)
    # A late paper EOB for the original names a copay on line 2 too (it posts there, rule 6).
    late = ClaimPosting(PAID_ON, (LinePosting(2, D("0.00"), (Adjustment("CO", "45", CHARGE - copay),
                                                             Adjustment("PR", "3", copay))),))
    record_manual_payment(claim, late, actor=SYSTEM, mode="add", overpayment=True)
    secondary = generate_secondary_claim(claim, actor=SYSTEM, posted_on=PAID_ON)
    send(secondary)
    assert check_ledger() == []
    assert claim_balance(secondary.id).insurance == copay  # line 1's copay; line 2 is billed on the resubmission
    assert f"line 2 is billed again on {resubmission.number}" in (history(secondary)[0].reason or "")


def test_a_secondary_waits_while_the_primary_owes_a_credit_back(world):
    client, _ = insured_twice(world)
    claim = sent_claim(world, client, [CHARGE], day_offset=1)
    copay = D("10.00")
    # The payer overpaid by $20.00 (the line does not balance; rule 1 flags it): the copay is not settled yet.
    import_file(world, [one_line_clp(claim, D("70.00"), ("CO", "45", CHARGE - D("60.00")), ("PR", "3", copay))],
                check="OVERPAID")
    with pytest.raises(NotAllowed, match=r"line 1 has a credit of \$20\.00"):
        generate_secondary_claim(claim, actor=SYSTEM, posted_on=PAID_ON)
    assert check_ledger() == []


def test_a_secondary_withholds_a_denied_line_and_bills_the_rest(world):
    client, _ = insured_twice(world)
    claim = sent_claim(world, client, [CHARGE, CHARGE], day_offset=1)
    one, two = claim.lines
    half, copay = CHARGE / 2, D("10.00")
    import_file(world, [Clp(claim.number, "1", CHARGE * 2, D("50.00"), half + copay, "ICN1", [
        Svc(one.service_code.code, CHARGE, D("50.00"), [("CO", "45", CHARGE - D("60.00")), ("PR", "3", copay)],
            None, one.service_date, "1"),
        Svc(two.service_code.code, CHARGE, D("0.00"), [("CO", "16", half), ("PR", "1", half)], None,
            two.service_date, "2")])], check="DENIED-LINE")
    secondary = generate_secondary_claim(claim, actor=SYSTEM, posted_on=PAID_ON)
    send(secondary)
    assert check_ledger() == []
    assert claim_balance(secondary.id).insurance == copay  # line 1's copay only
    sums = claim_balance(claim.id)
    assert (sums.insurance, sums.patient) == (half, half)  # line 2 stays whole on the primary
    assert "withheld until" in (history(secondary)[0].reason or "")
    assert "line 2 is denied" in (history(secondary)[0].reason or "")


# Found by the model test and fixed since: kept as a regression test of rule 6 (case E's shape).
def test_resubmitting_a_denied_line_with_a_patient_part_keeps_it_open_once(world):
    from billing.payments.secondary import resubmit_denied_lines

    claim = sent_claim(world, world.client, [CHARGE, CHARGE], day_offset=1)
    one, two = claim.lines
    half = CHARGE / 2
    import_file(world, [Clp(claim.number, "1", CHARGE * 2, D("50.00"), half, "ICN1", [
        Svc(one.service_code.code, CHARGE, D("50.00"), [("CO", "45", CHARGE - D("50.00"))], None,
            one.service_date, "1"),
        Svc(two.service_code.code, CHARGE, D("0.00"), [("CO", "16", half), ("PR", "1", half)], None,
            two.service_date, "2")])], check="DENIED-LINE")
    send(resubmit_denied_lines(claim, actor=SYSTEM, reason="fixed the modifier"))
    assert check_ledger() == []
