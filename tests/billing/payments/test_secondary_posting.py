"""Case B (Posting rule 5): a secondary or tertiary payer's 835 on a claim we sent to it.

The line's open amount is the balance transferred from the primary; after the later payer adjudicates, the
patient owes exactly its PR, the rest of what was open is its payment and its adjustments (capped), and the
earlier payers' adjustments are not booked again.
"""

from __future__ import annotations

from decimal import Decimal

from billing.claims.statuses import ClaimStatus
from billing.core.db import db
from billing.coverage.models import PolicyRank
from billing.ledger.balances import claim_balance
from billing.ledger.postings import Adjustment
from billing.payments.invariants import check_ledger
from billing.payments.posting import later_payer_adjustments
from billing.payments.remittances import import_835
from billing.payments.secondary import generate_secondary_claim, live_secondary
from tests.billing.payments.test_families import SENT_ON, priced_claim, send
from tests.billing.payments.test_posting_cases import import_clp, svc
from tests.worlds import factories as f
from tests.worlds.payments import Clp, Payment, Svc, write_835
from tests.worlds.practice import SYSTEM

D = Decimal


def secondary_after(world, charge: str, primary_paid: str, contractual: str, patient: str):
    """A primary claim paid with a patient share, and the secondary claim that carries that share, sent."""
    claim = priced_claim(world, charge)
    second = f.PayerFactory(company=world.company)
    f.PolicyFactory(client=world.client, payer=second, rank=PolicyRank.SECONDARY)
    import_clp(world, Clp(claim.number, "1", D(charge), D(primary_paid), D(patient), services=[
        svc(claim.lines[0], primary_paid, ("CO", "45", contractual), ("PR", "2", patient))]))
    secondary = send(generate_secondary_claim(claim, actor=SYSTEM, posted_on=SENT_ON))
    return claim, secondary, second


def pay_secondary(secondary, payer, charge: str, paid: str, *adjustments, patient: str = "0.00"):
    line = secondary.lines[0]
    service = Svc(line.service_code.code, D(charge), D(paid), [(g, r, D(a)) for g, r, a in adjustments], None,
                  line.service_date, "1")
    era = write_835([Payment(D(paid), f"SEC-{secondary.id}", payer.name, payer.edi_payer_id,
                             [Clp(secondary.number, "2", D(charge), D(paid), D(patient), services=[service])])])
    result = import_835(era.encode(), filename="secondary.835", actor=SYSTEM)
    db.session.flush()
    assert (result.matched, result.unmatched) == (1, 0)
    return result


def test_case_b_a_transferred_30_paid_with_a_repeated_co45_does_not_go_below_zero(world):
    charge, primary_paid, contractual, patient = "73.48", "40.00", "3.48", "30.00"
    claim, secondary, payer = secondary_after(world, charge, primary_paid, contractual, patient)
    assert claim_balance(secondary.id).insurance == D(patient)  # the transferred balance is what is open
    # The secondary pays the $30 and repeats a CO-45 of $30; OA-23 carries the primary's share.
    oa23 = D(charge) - D("30.00") - D("30.00")
    pay_secondary(secondary, payer, charge, "30.00", ("CO", "45", "30.00"), ("OA", "23", str(oa23)))
    sums = claim_balance(secondary.id)
    assert (sums.insurance, sums.patient) == (D("0.00"), D("0.00"))  # not -30.00
    assert secondary.status is ClaimStatus.PAID
    assert claim_balance(claim.id).balance == D("0.00")
    assert check_ledger() == []


def test_case_b_a_transferred_77_likewise_ends_paid_at_zero(world):
    charge, primary_paid, contractual, patient = "250.00", "150.00", "23.00", "77.00"
    claim, secondary, payer = secondary_after(world, charge, primary_paid, contractual, patient)
    oa23 = D(charge) - D("77.00") - D("77.00")
    pay_secondary(secondary, payer, charge, "77.00", ("CO", "45", "77.00"), ("OA", "23", str(oa23)))
    sums = claim_balance(secondary.id)
    assert (sums.insurance, sums.patient) == (D("0.00"), D("0.00"))
    assert secondary.status is ClaimStatus.PAID
    assert claim_balance(claim.id).balance == D("0.00")
    assert check_ledger() == []


def test_case_b_the_patient_owes_exactly_the_secondary_payers_pr(world):
    charge, primary_paid, contractual, patient = "73.48", "40.00", "3.48", "30.00"
    _claim, secondary, payer = secondary_after(world, charge, primary_paid, contractual, patient)
    paid, pr = D("20.00"), D("5.00")
    oa23 = D(charge) - paid - pr - D("30.00")
    pay_secondary(secondary, payer, charge, str(paid), ("PR", "2", str(pr)), ("CO", "45", "30.00"),
                  ("OA", "23", str(oa23)), patient=str(pr))
    sums = claim_balance(secondary.id)
    assert sums.patient == pr
    assert sums.insurance == D("0.00")
    contractual_booked = D(patient) - paid - pr  # what was open less the payment and the PR
    assert sums.adjustments == contractual_booked
    assert secondary.status is ClaimStatus.PAID
    assert check_ledger() == []


def test_later_payer_adjustments_cap_in_order_and_skip_oa23():
    booked = later_payer_adjustments(D("30.00"), D("10.00"), [
        Adjustment("OA", "23", D("40.00")), Adjustment("CO", "45", D("15.00")), Adjustment("CO", "253", D("9.00")),
        Adjustment("PR", "1", D("2.00"))])
    assert [(a.group, a.reason, a.amount) for a in booked] == [
        ("PR", "1", D("2.00")), ("CO", "45", D("15.00")), ("CO", "253", D("3.00"))]


def test_later_payer_oa23_closes_only_what_its_own_reasons_left_open():
    # Open $250 (the primary sent it all to the patient); the secondary pays $32.50, PR-2 $108.75, CO-45 $54.38
    # and reports OA-23 $54.37: the insurance side closes at 250 - 32.50 - 108.75 - 54.38 = 54.37 of OA-23.
    booked = later_payer_adjustments(D("250.00"), D("32.50"), [
        Adjustment("PR", "2", D("108.75")), Adjustment("OA", "23", D("80.00")), Adjustment("CO", "45", D("54.38"))])
    assert [(a.group, a.reason, a.amount) for a in booked] == [
        ("PR", "2", D("108.75")), ("CO", "45", D("54.38")), ("OA", "23", D("54.37"))]


# --- Crossovers (rule 4): CLP02 19/20/21 -----------------------------------------------------------------------

def test_crossover_clp02_19_makes_the_next_payers_claim_submitted_and_never_sent(world):
    from billing.claims.family import FamilyRole, family_of
    from billing.submissions.queries import candidates
    from tests.worlds.claims import history

    claim = priced_claim(world, "73.48")
    second = f.PayerFactory(company=world.company)
    f.PolicyFactory(client=world.client, payer=second, rank=PolicyRank.SECONDARY)
    patient = D("30.00")
    result = import_clp(world, Clp(claim.number, "19", D("73.48"), D("40.00"), patient, services=[
        svc(claim.lines[0], "40.00", ("CO", "45", "3.48"), ("PR", "2", "30.00"))]), check="CHK-X")
    assert (result.matched, result.unmatched) == (1, 0)
    assert claim.status is ClaimStatus.PAID
    members = family_of(claim)
    assert [m.role for m in members] == [FamilyRole.ORIGINAL, FamilyRole.CROSSOVER]
    crossover = members[1].claim
    assert (crossover.status, crossover.payer_id, crossover.forwarded_by_payer_id, crossover.primary_claim_id) == (
        ClaimStatus.SUBMITTED, second.id, world.payer.id, claim.id)
    assert claim_balance(crossover.id).insurance == patient  # the balance transferred, as for a secondary
    assert claim_balance(claim.id).balance == D("0.00")
    assert any("crossover: forwarded by" in (h.reason or "") and "CHK-X" in (h.reason or "")
               for h in history(crossover))
    assert crossover.id not in {c.claim_id for c in candidates(None)}  # no 837 is ever made for it
    # The secondary payer answers with the primary's claim number: the money is the crossover claim's.
    line = claim.lines[0]
    sec = Svc(line.service_code.code, D("73.48"), patient, [("OA", "23", D("43.48"))], None, line.service_date, "1")
    era = write_835([Payment(patient, "SEC-X", second.name, second.edi_payer_id,
                             [Clp(claim.number, "2", D("73.48"), patient, services=[sec])])])
    answer = import_835(era.encode(), filename="crossover.835", actor=SYSTEM)
    db.session.flush()
    assert (answer.matched, answer.unmatched) == (1, 0)
    assert crossover.status is ClaimStatus.PAID
    assert claim_balance(crossover.id).balance == D("0.00")
    assert check_ledger() == []


def test_crossover_without_a_next_rank_policy_flags_the_claim(world):
    from tests.billing.payments.test_posting_cases import flags

    claim = priced_claim(world, "73.48")
    import_clp(world, Clp(claim.number, "19", D("73.48"), D("40.00"), D("30.00"), services=[
        svc(claim.lines[0], "40.00", ("CO", "45", "3.48"), ("PR", "2", "30.00"))]), check="CHK-Y")
    assert claim.needs_review
    assert any("no next-rank policy" in r for r in flags(claim))
    assert claim_balance(claim.id).patient == D("30.00")  # stays with the patient until a biller decides
    assert check_ledger() == []


def test_a_crossover_refused_because_a_denied_line_is_withheld_says_why_on_the_claim(world):
    """The payer forwarded the claim, but the next payer is billed for a line only once the primary settled it:
    nothing is made yet, and the flag says the payer forwarded it and what the biller must settle first."""
    from tests.billing.payments.test_posting_cases import flags

    claim = priced_claim(world, "100.00", "50.00")
    second = f.PayerFactory(company=world.company)
    f.PolicyFactory(client=world.client, payer=second, rank=PolicyRank.SECONDARY)
    paid, denied = claim.lines
    import_clp(world, Clp(claim.number, "19", D("150.00"), D("80.00"), D("0.00"), services=[
        svc(paid, "80.00", ("CO", "45", "20.00")), svc(denied, "0.00", ("CO", "16", "50.00"))]), check="CHK-W")
    assert live_secondary(claim) is None
    crossover_flags = [r for r in flags(claim) if "crossover" in r]
    assert len(crossover_flags) == 1
    assert "no claim was made for it" in crossover_flags[0]
    assert "line 2" in crossover_flags[0]
    assert claim.needs_review
    assert check_ledger() == []


def test_case_b_record_payment_preview_agrees_with_the_posting(world):
    from billing.ledger.postings import ClaimPosting, LinePosting
    from billing.payments.preview import preview_posting
    from tests.worlds.payments import PAID_ON

    charge, primary_paid, contractual, patient = "73.48", "40.00", "3.48", "30.00"
    _claim, secondary, _payer = secondary_after(world, charge, primary_paid, contractual, patient)
    oa23 = D(charge) - D("30.00") - D("30.00")
    posting = ClaimPosting(PAID_ON, (LinePosting(1, D("30.00"), (
        Adjustment("CO", "45", D("30.00")), Adjustment("OA", "23", oa23))),), status_code="2")
    preview = preview_posting(secondary, posting)
    assert (preview.insurance_after, preview.patient_after) == (D("0.00"), D("0.00"))
    assert preview.status_after is ClaimStatus.PAID


def test_voiding_the_secondary_hands_its_balance_back_to_the_primary(world):
    """$30 of patient share went to the secondary; voiding that claim makes the family owe the $30 again, and a
    new secondary claim can be billed for it."""
    from billing.claims.operations import void_claim

    claim, secondary, _payer = secondary_after(world, "73.48", "40.00", "3.48", "30.00")
    assert claim_balance(claim.id).patient == D("0.00")  # moved to the secondary
    void_claim(secondary, reason="billed to the wrong plan", actor=SYSTEM)
    db.session.flush()
    assert claim_balance(secondary.id).balance == D("0.00")
    assert claim_balance(claim.id).patient == D("30.00")
    again = generate_secondary_claim(claim, actor=SYSTEM, posted_on=SENT_ON)
    db.session.flush()
    assert claim_balance(claim.id).patient == D("0.00")
    assert again.id != secondary.id
