"""Denied lines (posting rule 3) after posting: their state, the claim's status, and the work on each line.

Money assertions use amounts worked out here from the remittance's own numbers.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from billing.claims.line_denials import LineDenialState
from billing.claims.operations import correct_claim
from billing.claims.statuses import ClaimStatus
from billing.core.audit import AuditAction
from billing.core.codes import carcs, rarcs
from billing.core.db import db
from billing.core.errors import Invalid, NotAllowed, NothingToDo
from billing.ledger.balances import claim_balance, line_balances, standing_adjudication
from billing.ledger.models import EntryKind, EntrySource, LedgerEntry
from billing.ledger.postings import Adjustment, ClaimPosting, LinePosting
from billing.payments.denials import denied_lines_of
from billing.payments.invariants import check_ledger
from billing.payments.operations import (
    appeal_denied_line,
    bill_patient_for_denied_line,
    record_manual_payment,
    write_off_denied_line,
)
from billing.payments.remittances import import_835
from billing.payments.reversals import reverse_adjudication
from billing.payments.secondary import denied_lines, resubmit_denied_lines
from tests.worlds.claims import history, hundred_dollar_claim
from tests.worlds.payments import PAID_ON, Clp, Payment, Svc, write_835
from tests.worlds.practice import SYSTEM

D = Decimal
HUNDRED = D("100.00")
TODAY = PAID_ON




def svc(line, paid, *adjustments, remarks=()) -> Svc:
    return Svc(line.service_code.code, line.charge, D(paid), [(g, r, D(a)) for g, r, a in adjustments], None,
               line.service_date, str(line.line_number), list(remarks))


def import_clp(world, clp: Clp, *, check: str = "CHK-D"):
    payment = Payment(clp.paid, check, world.payer.name, world.payer.edi_payer_id, [clp])
    import_835(write_835([payment]).encode(), filename=f"{check}.835", actor=SYSTEM)
    db.session.flush()


def case_d(world, group: str = "CO", reason: str = "16"):
    """Line 1 paid 80 with CO-45 20; line 2 (charge 100) paid nothing, group-reason 100, remark N290."""
    claim = hundred_dollar_claim(world)
    one, two = claim.lines
    import_clp(world, Clp(claim.number, "1", D("200.00"), D("80.00"), services=[
        svc(one, "80.00", ("CO", "45", "20.00")), svc(two, "0.00", (group, reason, "100.00"), remarks=["N290"])]))
    return claim


def manual_case_d(world):
    claim = hundred_dollar_claim(world)
    record_manual_payment(claim, ClaimPosting(PAID_ON, (
        LinePosting(1, D("80.00"), (Adjustment("CO", "45", D("20.00")),)),
        LinePosting(2, D("0.00"), (Adjustment("CO", "16", D("100.00")),)))), actor=SYSTEM)
    db.session.flush()
    return claim


def entries(claim, kind: EntryKind) -> list[LedgerEntry]:
    return list(db.session.scalars(select(LedgerEntry).where(LedgerEntry.claim_id == claim.id,
                                                              LedgerEntry.kind == kind)))


def line_changes(claim) -> list[tuple[int, str | None, str | None]]:
    return [(h.data["line"], h.from_status, h.to_status) for h in history(claim)
            if h.action is AuditAction.LINE_DENIAL]


def test_case_d_a_co16_line_on_a_paid_claim_is_open_and_the_claim_is_paid(world):
    claim = case_d(world)
    one, two = claim.lines
    assert claim.status is ClaimStatus.PAID  # adjudicated and paid; the denied line stays open
    assert (one.denial_state, two.denial_state) == (None, LineDenialState.OPEN)
    assert two.denied_on == PAID_ON
    assert line_balances(claim.id)[two.id].insurance == HUNDRED  # nothing ledgered against the denial
    assert claim_balance(claim.id).insurance == D("200.00") - D("80.00") - D("20.00")
    assert line_changes(claim) == [(2, None, "open")]
    [denied] = denied_lines_of([claim.id])[claim.id]
    assert [(c.group, c.code, c.description) for c in denied.carcs] == [("CO", "16", carcs()["16"].description)]
    assert [(c.code, c.description) for c in denied.rarcs] == [("N290", rarcs()["N290"].description)]
    assert denied.open_amount == HUNDRED
    assert check_ledger() == []


def test_case_d_manual_record_payment_opens_the_denied_line_too(world):
    claim = manual_case_d(world)
    assert claim.status is ClaimStatus.PAID
    assert claim.lines[1].denial_state is LineDenialState.OPEN
    assert check_ledger() == []


def test_a_zero_paid_line_wholly_to_the_patient_is_not_denied(world):
    claim = hundred_dollar_claim(world)
    one, two = claim.lines
    import_clp(world, Clp(claim.number, "1", D("200.00"), D("80.00"), HUNDRED, services=[
        svc(one, "80.00", ("CO", "45", "20.00")), svc(two, "0.00", ("PR", "1", "100.00"))]))
    assert (one.denial_state, two.denial_state) == (None, None)
    assert claim.status is ClaimStatus.PAID
    assert denied_lines_of([claim.id]) == {}
    assert denied_lines(standing_adjudication(claim.id)) == []


def test_write_off_needs_a_reason_and_posts_once(world):
    claim = case_d(world)
    with pytest.raises(Invalid):
        write_off_denied_line(claim, 2, reason="  ", actor=SYSTEM, posted_on=TODAY)
    assert entries(claim, EntryKind.WRITE_OFF) == []
    entry = write_off_denied_line(claim, 2, reason="timely filing passed", actor=SYSTEM, posted_on=TODAY)
    assert (entry.amount, entry.claim_line_id) == (HUNDRED, claim.lines[1].id)  # charge 100, paid 0
    with pytest.raises(NothingToDo):
        write_off_denied_line(claim, 2, reason="timely filing passed", actor=SYSTEM, posted_on=TODAY)
    assert [e.amount for e in entries(claim, EntryKind.WRITE_OFF)] == [HUNDRED]
    assert claim.lines[1].denial_state is LineDenialState.WRITTEN_OFF
    assert claim_balance(claim.id).insurance == D("0.00")
    assert line_changes(claim)[-1] == (2, "open", "written_off")
    assert denied_lines_of([claim.id]) == {}  # out of the Denied work
    assert check_ledger() == []


def test_a_paid_line_is_not_written_off_as_a_denied_line(world):
    claim = case_d(world)
    with pytest.raises(NotAllowed):
        write_off_denied_line(claim, 1, reason="x", actor=SYSTEM, posted_on=TODAY)


def test_bill_patient_is_refused_for_a_co_denial_without_override(world):
    claim = case_d(world)
    with pytest.raises(NotAllowed, match="CO"):
        bill_patient_for_denied_line(claim, 2, actor=SYSTEM, posted_on=TODAY)
    assert entries(claim, EntryKind.PATIENT_RESPONSIBILITY) == []
    assert claim.lines[1].denial_state is LineDenialState.OPEN


def test_bill_patient_for_a_co_denial_with_an_override_moves_the_line_to_the_patient(world):
    claim = case_d(world)
    entry = bill_patient_for_denied_line(claim, 2, actor=SYSTEM, posted_on=TODAY,
                                         override_reason="signed waiver on file")
    assert entry.amount == HUNDRED
    sums = claim_balance(claim.id)
    assert (sums.insurance, sums.patient) == (D("0.00"), HUNDRED)
    change = [h for h in history(claim) if h.action is AuditAction.LINE_DENIAL][-1]
    assert (change.to_status, change.reason, change.data["override"]) == (
        "billed_to_patient", "signed waiver on file", "signed waiver on file")
    assert check_ledger() == []


def test_bill_patient_for_a_non_co_denial_needs_no_override(world):
    claim = case_d(world, group="PI", reason="96")
    entry = bill_patient_for_denied_line(claim, 2, actor=SYSTEM, posted_on=TODAY)
    assert entry.amount == HUNDRED
    assert claim.lines[1].denial_state is LineDenialState.BILLED_TO_PATIENT


def test_an_appealed_line_stays_in_the_denied_work(world):
    claim = case_d(world)
    appeal_denied_line(claim, 2, actor=SYSTEM, reason="portal appeal 12/01")
    assert claim.lines[1].denial_state is LineDenialState.APPEALED
    assert [d.line.line_number for d in denied_lines_of([claim.id])[claim.id]] == [2]
    with pytest.raises(NothingToDo):
        appeal_denied_line(claim, 2, actor=SYSTEM, reason="again")


def test_later_money_on_the_denied_line_makes_it_paid_later(world):
    claim = manual_case_d(world)
    record_manual_payment(claim, ClaimPosting(PAID_ON, (
        LinePosting(2, D("70.00"), (Adjustment("CO", "45", D("30.00")),)),)), actor=SYSTEM, mode="add")
    db.session.flush()
    assert claim.lines[1].denial_state is LineDenialState.PAID_LATER
    assert claim_balance(claim.id).insurance == D("0.00")
    assert claim.status is ClaimStatus.PAID
    assert check_ledger() == []


def test_reversing_the_denying_payment_clears_the_line_and_reopens_the_claim(world):
    claim = case_d(world)
    reverse_adjudication(standing_adjudication(claim.id), actor=SYSTEM, reason="payer recoupment",
                         posted_on=TODAY, source=EntrySource.MANUAL)
    db.session.flush()
    assert claim.lines[1].denial_state is LineDenialState.CLEARED
    assert claim.status is ClaimStatus.SUBMITTED  # the payer owes the whole claim again
    assert claim_balance(claim.id).insurance == D("200.00")


def test_resubmitting_marks_the_denied_lines_resubmitted_on_the_new_claim(world):
    claim = case_d(world)
    copy = resubmit_denied_lines(claim, actor=SYSTEM, reason="added the rendering NPI")
    assert claim.lines[1].denial_state is LineDenialState.RESUBMITTED
    change = [h for h in history(claim) if h.action is AuditAction.LINE_DENIAL][-1]
    assert change.data["claim"] == copy.number
    with pytest.raises(NothingToDo):
        resubmit_denied_lines(claim, actor=SYSTEM, reason="again")


def test_resubmission_uses_the_posting_test_a_zero_paid_contractual_line_is_denied(world):
    """A line paid nothing whose charge went to CO-45 only is denied by rule 3 (not a patient share)."""
    claim = hundred_dollar_claim(world)
    one, two = claim.lines
    import_clp(world, Clp(claim.number, "1", D("200.00"), D("80.00"), services=[
        svc(one, "80.00", ("CO", "45", "20.00")), svc(two, "0.00", ("CO", "45", "100.00"))]))
    assert [ln.line_number for ln in denied_lines(standing_adjudication(claim.id))] == [2]
    copy = resubmit_denied_lines(claim, actor=SYSTEM, reason="wrong code")
    assert [ln.charge for ln in copy.lines] == [HUNDRED]


def test_a_corrected_claim_marks_the_open_denied_lines_corrected(world):
    claim = case_d(world)
    correct_claim(claim, actor=SYSTEM, reason="rendering NPI fixed")
    assert claim.lines[1].denial_state is LineDenialState.CORRECTED


def test_a_claim_wide_write_off_that_empties_the_denied_line_closes_it(world):
    from billing.payments.operations import write_off

    claim = case_d(world)
    write_off(claim, reason="small practice policy", actor=SYSTEM, posted_on=TODAY)
    db.session.flush()
    assert claim.lines[1].denial_state is LineDenialState.WRITTEN_OFF
    assert denied_lines_of([claim.id]) == {}


def test_a_bounced_patient_check_does_not_reopen_a_paid_claim_whose_denied_line_is_open(world):
    """The reversal leaves the payer owing only the denied line, which is the biller's to work: still Paid."""
    from billing.payments.operations import record_patient_payment
    from billing.payments.reversals import reverse_entries

    claim = hundred_dollar_claim(world)
    one, two = claim.lines
    import_clp(world, Clp(claim.number, "1", D("200.00"), D("70.00"), D("10.00"), services=[
        svc(one, "70.00", ("CO", "45", "20.00"), ("PR", "2", "10.00")), svc(two, "0.00", ("CO", "16", "100.00"))]))
    assert claim.status is ClaimStatus.PAID
    [check] = record_patient_payment(claim, D("10.00"), actor=SYSTEM, posted_on=TODAY)
    reverse_entries(claim, [check], actor=SYSTEM, reason="check bounced", posted_on=TODAY)
    db.session.flush()
    sums = claim_balance(claim.id)
    assert (sums.insurance, sums.patient) == (HUNDRED, D("10.00"))
    assert claim.status is ClaimStatus.PAID
    assert two.denial_state is LineDenialState.OPEN
    assert check_ledger() == []
