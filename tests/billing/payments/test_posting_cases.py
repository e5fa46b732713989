"""Audit cases against the posting rules (docs/guides/payments.md, "How a remittance lands on a claim"):
each test is named for its case letter.

Every money assertion compares with amounts worked out here from the file's own numbers, never with what the
code computed; after an import the ledger must be sound (`check_ledger() == []`) where the rules say so.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from billing.claims.statuses import ClaimStatus
from billing.core.audit import AuditAction
from billing.core.db import db
from billing.ledger.balances import claim_balance, line_balances, standing_adjudication
from billing.ledger.models import ADJUSTMENTS, EntryKind, LedgerEntry
from billing.ledger.postings import Adjustment, ClaimPosting, LinePosting
from billing.payments.invariants import check_ledger
from billing.payments.models import Remittance
from billing.payments.operations import record_manual_payment
from billing.payments.remittances import import_835
from tests.worlds.claims import history, hundred_dollar_claim
from tests.worlds.payments import PAID_ON, Clp, Payment, Svc, write_835
from tests.worlds.practice import SYSTEM

D = Decimal
HUNDRED = D("100.00")




def svc(line, paid, *adjustments) -> Svc:
    return Svc(line.service_code.code, line.charge, D(paid), [(g, r, D(a)) for g, r, a in adjustments], None,
               line.service_date, str(line.line_number))


def import_clp(world, clp: Clp, *, check: str = "CHK-A", amount: Decimal | None = None):
    payment = Payment(clp.paid if amount is None else amount, check, world.payer.name, world.payer.edi_payer_id,
                      [clp])
    result = import_835(write_835([payment]).encode(), filename=f"{check}.835", actor=SYSTEM)
    db.session.flush()
    return result


def entries(claim, *kinds: EntryKind) -> list[LedgerEntry]:
    return list(db.session.scalars(select(LedgerEntry).where(LedgerEntry.claim_id == claim.id,
                                                              LedgerEntry.kind.in_(kinds))))


def total(claim, *kinds: EntryKind) -> Decimal:
    return sum((e.amount for e in entries(claim, *kinds)), D("0.00"))


def flags(claim) -> list[str]:
    return [h.reason or "" for h in history(claim) if h.action is AuditAction.CLAIM_FLAGGED]


# --- Case A: claim-level CAS beside service lines: the payment posted is CLP04 ---------------------------------

def test_case_a_claim_level_cas_beside_lines_posts_clp04(world):
    claim = hundred_dollar_claim(world)
    one, two = claim.lines
    clp = Clp(claim.number, "1", D("200.00"), D("156.80"),
              services=[svc(one, "80.00", ("CO", "45", "20.00")), svc(two, "80.00", ("CO", "45", "20.00"))],
              adjustments=[("CO", "253", D("3.20"))])
    result = import_clp(world, clp)
    assert (result.matched, result.unmatched, result.balanced) == (1, 0, True)
    charge, clp04 = D("200.00"), D("156.80")
    adjustments = D("20.00") + D("20.00") + D("3.20")
    assert charge - clp04 == adjustments  # the file balances: 43.20
    assert total(claim, EntryKind.INSURANCE_PAYMENT) == clp04
    assert total(claim, *ADJUSTMENTS) == adjustments
    sums = claim_balance(claim.id)
    assert (sums.insurance, sums.patient) == (charge - clp04 - adjustments, D("0.00"))
    assert sums.insurance == D("0.00")
    assert claim.status is ClaimStatus.PAID
    assert not claim.needs_review
    # Spread by the fixed rule (by SVC03, equal here): each line carries half the CO-253 and is settled.
    assert {e.claim_line_id for e in entries(claim, EntryKind.CONTRACTUAL) if e.reason_code == "253"} == {one.id,
                                                                                                          two.id}
    assert not any(e.claim_line_id is None for e in entries(claim, *ADJUSTMENTS, EntryKind.INSURANCE_PAYMENT))
    by_line = line_balances(claim.id)
    assert [by_line[ln.id].balance for ln in claim.lines] == [D("0.00"), D("0.00")]
    # The adjudication keeps what the payer said: CLP04 and the CO-253 at claim level.
    adjudication = standing_adjudication(claim.id)
    assert adjudication.paid == clp04
    assert [(a.group_code, a.reason_code, a.amount) for a in adjudication.adjustments
            if a.adjudication_line_id is None] == [("CO", "253", D("3.20"))]
    assert result.paid_total == clp04
    assert check_ledger() == []


def test_case_a_unequal_lines_share_the_claim_level_cas_to_the_cent(world):
    """Shares follow SVC03; the last paid line takes what rounding left; nothing is lost or counted twice."""
    claim = hundred_dollar_claim(world, lines=3)
    first, second, third = claim.lines
    # SVC03 90 / 60 / 30 (sum 180); claim-level CO-253 of 1.00 is shared 0.50 / 0.33 / 0.17.
    clp = Clp(claim.number, "1", D("300.00"), D("179.00"),
              services=[svc(first, "90.00", ("CO", "45", "10.00")), svc(second, "60.00", ("CO", "45", "40.00")),
                        svc(third, "30.00", ("CO", "45", "70.00"))],
              adjustments=[("CO", "253", D("1.00"))])
    import_clp(world, clp)
    assert total(claim, EntryKind.INSURANCE_PAYMENT) == D("180.00") - D("1.00")
    sequestration = {e.claim_line_id: e.amount for e in entries(claim, EntryKind.CONTRACTUAL) if e.reason_code == "253"}
    assert sequestration == {first.id: D("0.50"), second.id: D("0.33"), third.id: D("0.17")}
    assert claim_balance(claim.id).insurance == D("0.00")
    assert claim.status is ClaimStatus.PAID
    assert check_ledger() == []


def test_case_a_claim_level_pr_moves_to_the_patient(world):
    claim = hundred_dollar_claim(world)
    one, two = claim.lines
    copay = D("10.00")
    clp04 = D("80.00") + D("80.00") - copay
    clp = Clp(claim.number, "1", D("200.00"), clp04, copay,
              services=[svc(one, "80.00", ("CO", "45", "20.00")), svc(two, "80.00", ("CO", "45", "20.00"))],
              adjustments=[("PR", "3", copay)])
    import_clp(world, clp)
    assert total(claim, EntryKind.INSURANCE_PAYMENT) == D("150.00")
    assert total(claim, EntryKind.PATIENT_RESPONSIBILITY) == copay
    sums = claim_balance(claim.id)
    assert (sums.insurance, sums.patient) == (D("0.00"), copay)
    assert claim.status is ClaimStatus.PAID
    assert not claim.needs_review
    assert check_ledger() == []


# --- Case C: a CLP02 that disagrees with the claim's rank ----------------------------------------------------------

def test_case_c_clp02_2_on_a_primary_claim_posts_the_money_and_writes_nothing_off(world):
    claim = hundred_dollar_claim(world)
    one, two = claim.lines
    clp = Clp(claim.number, "2", D("200.00"), D("40.00"),
              services=[svc(one, "20.00", ("OA", "23", "80.00")), svc(two, "20.00", ("OA", "23", "80.00"))])
    result = import_clp(world, clp)
    assert (result.matched, result.balanced) == (1, True)
    assert total(claim, EntryKind.INSURANCE_PAYMENT) == D("40.00")
    assert entries(claim, *ADJUSTMENTS) == []  # OA-23 is not ledgered on our primary claim
    assert claim_balance(claim.id).insurance == D("200.00") - D("40.00")
    assert claim.status is ClaimStatus.SUBMITTED
    assert claim.needs_review
    assert any("CLP02 2" in reason and "primary" in reason for reason in flags(claim))
    remittance = db.session.scalars(select(Remittance)).one()
    assert any(claim.number in w and "CLP02 2" in w for w in remittance.warnings or [])
    assert check_ledger() == []


def test_case_c_clp02_2_paying_nothing_leaves_the_whole_charge_open(world):
    claim = hundred_dollar_claim(world)
    one, two = claim.lines
    clp = Clp(claim.number, "2", D("200.00"), D("0.00"),
              services=[svc(one, "0.00", ("OA", "23", "100.00")), svc(two, "0.00", ("OA", "23", "100.00"))])
    import_clp(world, clp, amount=D("0.00"))
    assert entries(claim, EntryKind.INSURANCE_PAYMENT, *ADJUSTMENTS) == []
    assert claim_balance(claim.id).insurance == D("200.00")
    assert claim.status is not ClaimStatus.PAID
    assert claim.needs_review
    assert check_ledger() == []


# --- Case J: a level that does not balance is imported and flagged -------------------------------------------------

def test_case_j_an_unbalanced_line_is_imported_and_flagged(world):
    claim = hundred_dollar_claim(world)
    one, two = claim.lines
    # Line 1: 100 - 80 = 20 but its CAS say 15 (5.00 unexplained); the claim is short the same 5.00.
    clp = Clp(claim.number, "1", D("200.00"), D("160.00"),
              services=[svc(one, "80.00", ("CO", "45", "15.00")), svc(two, "80.00", ("CO", "45", "20.00"))])
    result = import_clp(world, clp)
    assert result.matched == 1
    assert total(claim, EntryKind.INSURANCE_PAYMENT) == D("160.00")
    gap = D("200.00") - D("160.00") - D("15.00") - D("20.00")
    assert claim_balance(claim.id).insurance == gap == D("5.00")
    assert claim.needs_review
    assert claim.status is ClaimStatus.SUBMITTED
    assert any("line 1" in reason and "5.00" in reason for reason in flags(claim))
    remittance = db.session.scalars(select(Remittance)).one()
    assert any(claim.number in w and "line 1" in w and "5.00" in w for w in remittance.warnings or [])
    assert any(claim.number in w for w in result.warnings)
    assert check_ledger() == []


def test_case_j_an_unbalanced_claim_posts_clp04_and_is_flagged(world):
    claim = hundred_dollar_claim(world)
    one, two = claim.lines
    # Lines balance (80 + 20 each) but CLP04 is 150 with no claim-level CAS: 200 - 150 = 50, CAS only 40.
    clp = Clp(claim.number, "1", D("200.00"), D("150.00"),
              services=[svc(one, "80.00", ("CO", "45", "20.00")), svc(two, "80.00", ("CO", "45", "20.00"))])
    import_clp(world, clp)
    assert total(claim, EntryKind.INSURANCE_PAYMENT) == D("150.00")
    assert claim_balance(claim.id).insurance == D("200.00") - D("150.00") - D("40.00")
    assert claim.needs_review
    remittance = db.session.scalars(select(Remittance)).one()
    assert any(claim.number in w and "claim does not balance" in w and "10.00" in w for w in remittance.warnings)
    assert check_ledger() == []


def test_case_j_an_unbalanced_check_is_flagged_on_the_remittance(world):
    claim = hundred_dollar_claim(world)
    one, two = claim.lines
    clp = Clp(claim.number, "1", D("200.00"), D("160.00"),
              services=[svc(one, "80.00", ("CO", "45", "20.00")), svc(two, "80.00", ("CO", "45", "20.00"))])
    result = import_clp(world, clp, amount=D("150.00"))
    remittance = db.session.scalars(select(Remittance)).one()
    assert not result.balanced
    assert not remittance.balanced
    assert any("BPR02" in w and "10.00" in w for w in remittance.warnings)
    assert not claim.needs_review  # the claim itself balanced
    assert claim.status is ClaimStatus.PAID
    assert [v.check for v in check_ledger()] == ["remittance-balance"]


# --- Case D: a denied line on a paid claim stays open and is flagged -----------------------------------------------

def test_case_d_a_co16_line_on_a_paid_claim_stays_open_and_is_flagged(world):
    claim = hundred_dollar_claim(world)
    one, two = claim.lines
    clp = Clp(claim.number, "1", D("200.00"), D("80.00"),
              services=[svc(one, "80.00", ("CO", "45", "20.00")), svc(two, "0.00", ("CO", "16", "100.00"))])
    import_clp(world, clp)
    assert total(claim, EntryKind.INSURANCE_PAYMENT) == D("80.00")
    assert [e.reason_code for e in entries(claim, *ADJUSTMENTS)] == ["45"]  # CO-16 recorded, not ledgered
    by_line = line_balances(claim.id)
    assert (by_line[one.id].insurance, by_line[two.id].insurance) == (D("0.00"), D("100.00"))
    assert claim.needs_review
    assert any("line 2" in reason and "CO-16" in reason for reason in flags(claim))
    adjudication = standing_adjudication(claim.id)
    assert [(a.group_code, a.reason_code) for a in adjudication.adjustments] == [("CO", "45"), ("CO", "16")]
    assert check_ledger() == []


def test_case_d_manual_record_payment_keeps_a_denied_line_open_too(world):
    claim = hundred_dollar_claim(world)
    posting = ClaimPosting(PAID_ON, (LinePosting(1, D("80.00"), (Adjustment("CO", "45", D("20.00")),)),
                                     LinePosting(2, D("0.00"), (Adjustment("CO", "16", D("100.00")),))))
    record_manual_payment(claim, posting, actor=SYSTEM)
    db.session.flush()
    assert total(claim, EntryKind.INSURANCE_PAYMENT) == D("80.00")
    assert claim_balance(claim.id).insurance == D("200.00") - D("80.00") - D("20.00")
    assert claim.needs_review
    assert any("line 2" in reason and "CO-16" in reason for reason in flags(claim))
    assert check_ledger() == []


def test_case_d_a_line_wholly_to_the_patient_is_not_denied(world):
    claim = hundred_dollar_claim(world)
    one, two = claim.lines
    clp = Clp(claim.number, "1", D("200.00"), D("80.00"), D("100.00"),
              services=[svc(one, "80.00", ("CO", "45", "20.00")), svc(two, "0.00", ("PR", "1", "100.00"))])
    import_clp(world, clp)
    sums = claim_balance(claim.id)
    assert (sums.insurance, sums.patient) == (D("0.00"), D("100.00"))
    assert claim.status is ClaimStatus.PAID
    assert not claim.needs_review
    assert check_ledger() == []


def test_case_d_record_payment_preview_shows_the_denied_line_open(world):
    from billing.payments.preview import preview_posting

    claim = hundred_dollar_claim(world)
    posting = ClaimPosting(PAID_ON, (LinePosting(1, D("80.00"), (Adjustment("CO", "45", D("20.00")),)),
                                     LinePosting(2, D("0.00"), (Adjustment("CO", "16", D("100.00")),))))
    preview = preview_posting(claim, posting)
    assert preview.insurance_after == D("200.00") - D("80.00") - D("20.00")
    assert preview.status_after is ClaimStatus.PAID  # rule 3: paid, its denied line stays open


def test_case_d_resubmitting_the_denied_line_moves_its_open_charge_to_the_resubmission(world):
    """Rule 6: when the resubmission is charged, the denied line it repeats leaves A/R (a linked reversal)."""
    from datetime import date

    from billing.ledger.charges import post_submission_charges
    from billing.payments.secondary import resubmit_denied_lines
    from tests.worlds.claims import walk_to

    claim = hundred_dollar_claim(world)
    posting = ClaimPosting(PAID_ON, (LinePosting(1, D("80.00"), (Adjustment("CO", "45", D("20.00")),)),
                                     LinePosting(2, D("0.00"), (Adjustment("CO", "16", D("100.00")),))))
    record_manual_payment(claim, posting, actor=SYSTEM)
    copy = walk_to(resubmit_denied_lines(claim, actor=SYSTEM, reason="added the modifier"), ClaimStatus.SUBMITTED)
    assert claim_balance(claim.id).insurance == D("100.00")  # open until the resubmission is charged
    post_submission_charges([copy], actor=SYSTEM, posted_on=date(2026, 4, 10))
    db.session.flush()
    assert claim_balance(claim.id).insurance == D("0.00")
    assert claim_balance(copy.id).insurance == copy.lines[0].charge
    assert check_ledger() == []
