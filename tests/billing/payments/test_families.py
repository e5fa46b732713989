"""Claim families (Posting rule 6): money for any member posts against it; one service, one open charge.

Audit cases E, F, G, H. Every money assertion compares with amounts worked out here from the file's numbers.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from billing.claims.family import FamilyRole, family_of
from billing.claims.operations import correct_claim, void_claim
from billing.claims.statuses import ClaimStatus
from billing.core.audit import AuditAction
from billing.core.db import db
from billing.coverage.models import PolicyRank
from billing.ledger.balances import claim_balance, line_balances, standing_adjudication
from billing.ledger.charges import post_submission_charges
from billing.ledger.models import EntryKind
from billing.payments.invariants import check_ledger
from billing.payments.models import UnmatchedClaim
from billing.payments.remittances import import_835
from billing.payments.secondary import generate_secondary_claim, resubmit_denied_lines
from tests.billing.payments.test_posting_cases import entries, flags, hundred_dollar_claim, import_clp, svc
from tests.worlds import factories as f
from tests.worlds.claims import history, submitted_claim, walk_to
from tests.worlds.payments import Clp, Payment, Svc, write_835
from tests.worlds.practice import SYSTEM

D = Decimal
SENT_ON = date(2026, 4, 20)


def priced_claim(world, *charges: str):
    """A Submitted claim whose lines are charged as given, its charges in the ledger (sent)."""
    claim = submitted_claim(world, lines=len(charges), charged=False)
    for line, charge in zip(claim.lines, charges, strict=True):
        line.charge = D(charge)
    claim.total_charge = sum((D(c) for c in charges), D("0.00"))
    db.session.flush()
    post_submission_charges([claim], actor=SYSTEM, posted_on=date(2026, 3, 2))
    db.session.flush()
    return claim


def send(claim):
    """The claim goes out: Submitted, its charges posted (and what it replaces withdrawn)."""
    walk_to(claim, ClaimStatus.SUBMITTED)
    post_submission_charges([claim], actor=SYSTEM, posted_on=SENT_ON)
    db.session.flush()
    return claim


def reversal_svc(line, paid, *adjustments) -> Svc:
    """An SVC of a CLP02 = 22 loop: the original's amounts negated."""
    return Svc(line.service_code.code, -line.charge, -D(paid), [(g, r, -D(a)) for g, r, a in adjustments], None,
               line.service_date, str(line.line_number))


def unmatched_count() -> int:
    return len(list(db.session.scalars(db.select(UnmatchedClaim))))


# --- family bookkeeping -------------------------------------------------------------------------------------

def test_family_of_lists_every_member_with_its_role(world):
    claim = hundred_dollar_claim(world)
    one, two = claim.lines
    import_clp(world, Clp(claim.number, "1", D("200.00"), D("80.00"), services=[
        svc(one, "80.00", ("CO", "45", "20.00")), svc(two, "0.00", ("CO", "16", "100.00"))]))
    f.PolicyFactory(client=world.client, payer=f.PayerFactory(company=world.company), rank=PolicyRank.SECONDARY)
    resubmission = resubmit_denied_lines(claim, actor=SYSTEM, reason="modifier added")
    corrected = correct_claim(claim, actor=SYSTEM, reason="wrong place of service")
    db.session.flush()
    members = family_of(corrected)
    assert [(m.claim.id, m.role) for m in members] == [
        (claim.id, FamilyRole.ORIGINAL), (resubmission.id, FamilyRole.RESUBMISSION),
        (corrected.id, FamilyRole.CORRECTED)]
    assert resubmission.resubmission_of_id == claim.id
    assert {m.claim.family_root_id for m in members} == {claim.id}


def test_a_secondary_claim_joins_the_primary_family(world):
    claim = priced_claim(world, "73.48")
    f.PolicyFactory(client=world.client, payer=f.PayerFactory(company=world.company), rank=PolicyRank.SECONDARY)
    import_clp(world, Clp(claim.number, "1", D("73.48"), D("50.00"), D("10.00"), services=[
        svc(claim.lines[0], "50.00", ("CO", "45", "13.48"), ("PR", "2", "10.00"))]))
    secondary = generate_secondary_claim(claim, actor=SYSTEM, posted_on=SENT_ON)
    db.session.flush()
    assert [(m.claim.id, m.role, m.parent_id) for m in family_of(claim)] == [
        (claim.id, FamilyRole.ORIGINAL, None), (secondary.id, FamilyRole.SECONDARY, claim.id)]


def test_the_secondary_payer_answering_with_the_primary_number_posts_to_the_secondary_claim(world):
    """Rule 6/9: CLP01 names our primary claim, but the payer is the secondary's: the money is the secondary's."""
    claim = priced_claim(world, "73.48")
    second = f.PayerFactory(company=world.company)
    f.PolicyFactory(client=world.client, payer=second, rank=PolicyRank.SECONDARY)
    import_clp(world, Clp(claim.number, "1", D("73.48"), D("50.00"), D("10.00"), services=[
        svc(claim.lines[0], "50.00", ("CO", "45", "13.48"), ("PR", "2", "10.00"))]))
    secondary = send(generate_secondary_claim(claim, actor=SYSTEM, posted_on=SENT_ON))
    line = claim.lines[0]
    sec_svc = Svc(line.service_code.code, line.charge, D("10.00"), [("OA", "23", D("63.48"))], None,
                  line.service_date, "1")
    era = write_835([Payment(D("10.00"), "SEC-1", second.name, second.edi_payer_id,
                             [Clp(claim.number, "2", D("73.48"), D("10.00"), services=[sec_svc])])])
    result = import_835(era.encode(), filename="sec.835", actor=SYSTEM)
    db.session.flush()
    assert (result.matched, result.unmatched) == (1, 0)
    assert standing_adjudication(secondary.id).payer_id == second.id
    assert secondary.status is ClaimStatus.PAID
    assert claim_balance(secondary.id).balance == D("0.00")
    assert claim_balance(claim.id).balance == D("0.00")
    assert check_ledger() == []


# --- Case E: a resubmitted denied line leaves nothing open on the original -----------------------------------

def test_case_e_a_denied_line_with_co45_and_a_denial_leaves_nothing_open_once_resubmitted(world):
    claim = hundred_dollar_claim(world)
    one, two = claim.lines
    import_clp(world, Clp(claim.number, "1", D("200.00"), D("80.00"), services=[
        svc(one, "80.00", ("CO", "45", "20.00")), svc(two, "0.00", ("CO", "45", "2.00"), ("CO", "16", "98.00"))]))
    assert claim_balance(claim.id).insurance == D("100.00")  # the denied line stays open (rule 3)
    copy = send(resubmit_denied_lines(claim, actor=SYSTEM, reason="added the modifier"))
    assert claim_balance(claim.id).balance == D("0.00")
    assert line_balances(claim.id)[two.id].balance == D("0.00")
    assert claim_balance(copy.id).insurance == two.charge
    assert check_ledger() == []


def test_case_e_a_patient_share_beside_the_denial_is_taken_back_with_the_charge(world):
    """PR-1 on a denied line moved $20 to the patient; the resubmission bills the line again, so the original
    keeps nothing open (the payer adjudicates the patient's share on the resubmission)."""
    claim = hundred_dollar_claim(world)
    one, two = claim.lines
    import_clp(world, Clp(claim.number, "1", D("200.00"), D("80.00"), D("20.00"), services=[
        svc(one, "80.00", ("CO", "45", "20.00")), svc(two, "0.00", ("PR", "1", "20.00"), ("CO", "16", "80.00"))]))
    assert claim_balance(claim.id).balance == D("100.00")  # 80 open on the payer, 20 on the patient
    copy = send(resubmit_denied_lines(claim, actor=SYSTEM, reason="authorization number added"))
    assert claim_balance(claim.id).balance == D("0.00")
    assert claim_balance(copy.id).balance == D("100.00")
    assert check_ledger() == []


# --- Case F: a one-line reversal reverses only that line ------------------------------------------------------

def test_case_f_a_one_line_reversal_reverses_only_that_line(world):
    claim = hundred_dollar_claim(world)
    one, two = claim.lines
    import_clp(world, Clp(claim.number, "1", D("200.00"), D("160.00"), services=[
        svc(one, "80.00", ("CO", "45", "20.00")), svc(two, "80.00", ("CO", "45", "20.00"))]))
    assert claim.status is ClaimStatus.PAID
    reversal = Clp(claim.number, "22", D("-100.00"), D("-80.00"),
                   services=[reversal_svc(two, "80.00", ("CO", "45", "20.00"))])
    result = import_clp(world, reversal, check="CHK-F", amount=D("-80.00"))
    assert (result.matched, result.unmatched, result.reversals) == (1, 0, 1)
    lines = line_balances(claim.id)
    assert lines[one.id].insurance == D("100.00") - D("80.00") - D("20.00")
    assert lines[two.id].insurance == D("100.00")  # the reversed line reopens
    reversed_two = [e for e in entries(claim, EntryKind.INSURANCE_PAYMENT, EntryKind.CONTRACTUAL) if e.reverses_id]
    assert sorted(e.amount for e in reversed_two) == [D("-80.00"), D("-20.00")]
    assert {e.claim_line_id for e in reversed_two} == {two.id}
    assert claim.status is ClaimStatus.SUBMITTED  # the payer owes line 2 again
    assert claim.needs_review
    assert standing_adjudication(claim.id).status_code == "1"  # the payment still stands for line 1
    assert check_ledger() == []


# --- Case G: a corrected claim for a paid claim withdraws the original's charges ------------------------------

def test_case_g_a_corrected_claim_for_a_paid_claim_withdraws_the_originals_charges(world):
    claim = hundred_dollar_claim(world)
    for line in claim.lines:
        line.charge = D("144.00")
    claim.total_charge = D("288.00")
    db.session.flush()
    one, two = claim.lines
    paid = D("115.20")  # 80% of 144.00 a line, 28.80 contractual
    import_clp(world, Clp(claim.number, "1", D("288.00"), paid * 2, services=[
        svc(one, "115.20", ("CO", "45", "28.80")), svc(two, "115.20", ("CO", "45", "28.80"))]))
    assert claim.status is ClaimStatus.PAID
    corrected = send(correct_claim(claim, actor=SYSTEM, reason="wrong rendering provider"))
    # A/R holds the service once: the correction's $288, and the original shows what the payer must take back.
    assert claim_balance(corrected.id).insurance == D("288.00")
    assert claim_balance(claim.id).insurance == -(paid * 2)
    assert claim.needs_review
    assert any(f"replaced by corrected claim {corrected.number}" in r and "reversal" in r for r in flags(claim))
    assert check_ledger() == []
    takeback = Clp(claim.number, "22", D("-288.00"), -(paid * 2), services=[
        reversal_svc(one, "115.20", ("CO", "45", "28.80")), reversal_svc(two, "115.20", ("CO", "45", "28.80"))])
    result = import_clp(world, takeback, check="CHK-G", amount=-(paid * 2))
    assert (result.matched, result.unmatched) == (1, 0)
    assert claim_balance(claim.id).balance == D("0.00")  # nets to zero
    assert claim_balance(corrected.id).insurance == D("288.00")
    assert check_ledger() == []


# --- Case H: money for a voided or replaced claim -------------------------------------------------------------

def test_case_h_a_late_payment_on_a_voided_claim_posts_and_flags(world):
    claim = priced_claim(world, "73.48")
    void_claim(claim, reason="billed in error", actor=SYSTEM)
    db.session.flush()
    assert claim_balance(claim.id).balance == D("0.00")
    line = claim.lines[0]
    result = import_clp(world, Clp(claim.number, "1", D("73.48"), D("66.00"), services=[
        svc(line, "66.00", ("CO", "45", "7.48"))]), check="CHK-H1")
    assert (result.matched, result.unmatched) == (1, 0)
    assert unmatched_count() == 0
    assert claim_balance(claim.id).paid_by_payer == D("66.00")
    assert claim.status is ClaimStatus.VOIDED
    assert claim.needs_review
    assert any("was voided" in r for r in flags(claim))
    assert check_ledger() == []


def test_case_h_a_recoupment_of_a_replaced_claims_payment_posts_against_it(world):
    claim = priced_claim(world, "73.48")
    line = claim.lines[0]
    import_clp(world, Clp(claim.number, "1", D("73.48"), D("45.00"), services=[
        svc(line, "45.00", ("CO", "45", "28.48"))]))
    corrected = send(correct_claim(claim, actor=SYSTEM, reason="wrong units"))
    assert claim_balance(claim.id).insurance == D("-45.00")
    result = import_clp(world, Clp(claim.number, "22", D("-73.48"), D("-45.00"), services=[
        reversal_svc(line, "45.00", ("CO", "45", "28.48"))]), check="CHK-H2", amount=D("-45.00"))
    assert (result.matched, result.unmatched) == (1, 0)
    assert claim_balance(claim.id).balance == D("0.00")
    assert claim_balance(corrected.id).insurance == D("73.48")
    assert any(f"replaced by corrected claim {corrected.number}" in r for r in flags(claim))
    assert check_ledger() == []


def test_case_h_a_payment_on_the_original_after_a_correction_posts_there_flagged(world):
    claim = priced_claim(world, "150.00")
    corrected = send(correct_claim(claim, actor=SYSTEM, reason="wrong diagnosis", payer_claim_number="ICN-H3"))
    assert claim_balance(claim.id).balance == D("0.00")  # withdrawn when the correction went out
    result = import_clp(world, Clp(claim.number, "1", D("150.00"), D("150.00"), services=[
        svc(claim.lines[0], "150.00")]), check="CHK-H3")
    assert (result.matched, result.unmatched) == (1, 0)
    assert claim_balance(claim.id).paid_by_payer == D("150.00")
    assert claim_balance(claim.id).insurance == D("-150.00")  # owed back to the payer, flagged
    assert claim.needs_review
    assert claim_balance(corrected.id).insurance == D("150.00")
    flagged = [h for h in history(claim) if h.action is AuditAction.CLAIM_FLAGGED]
    assert any(corrected.number in (h.reason or "") for h in flagged)
    assert check_ledger() == []


def test_a_ready_claim_that_was_never_sent_still_refuses_money(world):
    claim = priced_claim(world, "73.48")
    corrected = correct_claim(claim, actor=SYSTEM, reason="wrong units", payer_claim_number="ICN-R")  # Ready
    db.session.flush()
    line = corrected.lines[0]
    result = import_clp(world, Clp(corrected.number, "1", D("73.48"), D("66.00"), services=[
        svc(line, "66.00", ("CO", "45", "7.48"))]), check="CHK-R")
    assert (result.matched, result.unmatched) == (0, 1)


def test_case_h_an_unmatched_payment_can_be_matched_to_a_voided_claim(world):
    from billing.payments.matching import match_unmatched

    claim = priced_claim(world, "73.48")
    void_claim(claim, reason="duplicate", actor=SYSTEM)
    db.session.flush()
    line = claim.lines[0]
    clp = Clp("C-UNKNOWN", "1", D("73.48"), D("66.00"), services=[svc(line, "66.00", ("CO", "45", "7.48"))])
    result = import_clp(world, clp, check="CHK-H4")
    assert (result.matched, result.unmatched) == (0, 1)
    item = db.session.scalars(db.select(UnmatchedClaim)).one()
    match_unmatched(item, claim, actor=SYSTEM)
    db.session.flush()
    assert claim_balance(claim.id).paid_by_payer == D("66.00")
    assert claim.needs_review
    assert any("was voided" in r for r in flags(claim))
    assert check_ledger() == []
