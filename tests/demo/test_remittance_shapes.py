"""The demo shows every remittance shape a biller meets (issue 13, item 11), posted as the Posting rules say.

The demo gives each shape to every n-th claim that fits it (demo/billing_history.py, `SHAPE_EVERY`), first
claim included, in claim id order; a claim takes the first shape that picks it (crossover, secondary, line
denial, copay). The counts below follow from how many answered claims fit each shape on TODAY's demo, which
the test counts itself; the amounts are recomputed here from the payers' rates, not read from the postings.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from sqlalchemy import func, select

from billing.claims.models import Claim
from billing.claims.queries import claim_history
from billing.claims.statuses import ClaimStatus
from billing.core.db import db
from billing.coverage.models import InsurancePolicy, PayerType, PolicyRank
from billing.ledger.balances import claim_balances
from billing.ledger.models import Adjudication, AdjudicationAdjustment, EntryKind, LedgerEntry
from billing.payments.denials import denied_lines_of, in_denied_work
from billing.payments.models import EraFile
from billing.submissions.models import BatchClaim, BatchStatus, SubmissionBatch
from demo.seed import seed_demo
from exports.filters import ReportFilters
from exports.reports.revenue import interest_rows

TODAY = date(2026, 3, 18)
CENT = Decimal("0.01")

pytestmark = pytest.mark.slow  # seeds the whole demo with its billing history


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _coinsurance(charge: Decimal, allowed_share: str) -> Decimal:
    """What the demo payers leave to the patient: 20% of what they allow."""
    return _money(_money(charge * Decimal(allowed_share)) * Decimal("0.20"))


def _sum(claim_id: int, kind: EntryKind) -> Decimal:
    return db.session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0))
                             .where(LedgerEntry.claim_id == claim_id, LedgerEntry.kind == kind))


def _paid_on(claim_id: int, status_code: str) -> date:
    return db.session.scalar(select(Adjudication.paid_on)
                             .where(Adjudication.claim_id == claim_id, Adjudication.status_code == status_code))


def _every(n: int, of: int) -> int:
    """How many of `of` claims in a row get a shape given to every n-th, the first included."""
    return math.ceil(of / n)


def test_the_demo_shows_every_remittance_shape(app):
    """One seed for all the shapes (seeding costs seconds); each shape is checked by its own function below."""
    seed_demo(today=TODAY)
    db.session.flush()
    answered = list(db.session.scalars(
        select(Claim).where(Claim.payer_rank == PolicyRank.PRIMARY,
                            Claim.id.in_(select(Adjudication.claim_id))).order_by(Claim.id)))
    a_medicare_crossover_goes_to_the_next_payer_without_an_837(answered)
    a_secondary_claim_is_sent_and_paid_after_its_primary(answered)
    a_paid_claim_with_one_line_denied_is_in_the_denied_work(answered)
    a_copay_at_claim_level_beside_the_service_lines(answered)
    the_payers_interest_is_its_own_line_in_revenue()


def _with_next_payer() -> set[int]:
    secondary = select(InsurancePolicy.client_id).where(InsurancePolicy.rank == PolicyRank.SECONDARY)
    return set(db.session.scalars(secondary))


def _of(claims: Iterable[Claim], kind: PayerType) -> list[Claim]:
    return [c for c in claims if c.payer.payer_type is kind]


def a_medicare_crossover_goes_to_the_next_payer_without_an_837(answered: list[Claim]) -> None:
    # 28 answered Medicare claims are of clients with a second policy: every 4th is forwarded (CLP02 = 19).
    eligible = [c for c in _of(answered, PayerType.MEDICARE) if c.client_id in _with_next_payer()]
    assert len(eligible) == 28
    crossovers = db.session.scalars(select(Claim).where(Claim.forwarded_by_payer_id.is_not(None))).all()
    assert len(crossovers) == _every(4, 28) == 7
    for crossover in crossovers:
        primary = db.session.get(Claim, crossover.primary_claim_id)
        assert primary in eligible
        assert crossover.forwarded_by_payer_id == primary.payer_id
        assert crossover.payer_rank is PolicyRank.SECONDARY
        assert db.session.scalar(select(BatchClaim.id).where(BatchClaim.claim_id == crossover.id)) is None
        assert any("crossover: forwarded by Medicare Part B (NGS)" in (h.reason or "")
                   for h in claim_history(crossover.id))
        # Medicare allows 90% of the charge and leaves 20% of that: the next payer is billed exactly that.
        passed = sum(_coinsurance(ln.charge, "0.90") for ln in primary.lines)
        assert _sum(primary.id, EntryKind.TRANSFER_TO_SECONDARY) == passed
        assert _sum(crossover.id, EntryKind.CHARGE) == passed
        assert claim_balances([primary.id])[primary.id].balance == 0
    # The next payer answers two weeks after Medicare, under the claim number Medicare forwarded (ours, the
    # primary's); the crossovers Medicare paid on March 6 and 13 are not answered yet on the 18th.
    by_status = {s: [c for c in crossovers if c.status is s] for s in (ClaimStatus.PAID, ClaimStatus.SUBMITTED)}
    assert (len(by_status[ClaimStatus.PAID]), len(by_status[ClaimStatus.SUBMITTED])) == (5, 2)
    files = "".join(f.content.decode() for f in db.session.scalars(select(EraFile)))
    for crossover in by_status[ClaimStatus.PAID]:
        primary_paid = _paid_on(crossover.primary_claim_id, "19")
        assert _paid_on(crossover.id, "2") == primary_paid + timedelta(days=14) <= TODAY
        assert f"CLP*{db.session.get(Claim, crossover.primary_claim_id).number}*2*" in files
        assert _sum(crossover.id, EntryKind.INSURANCE_PAYMENT) == _sum(crossover.id, EntryKind.CHARGE)
        assert claim_balances([crossover.id])[crossover.id].balance == 0
    for crossover in by_status[ClaimStatus.SUBMITTED]:
        assert _paid_on(crossover.primary_claim_id, "19") + timedelta(days=14) > TODAY
        owed = claim_balances([crossover.id])[crossover.id]
        assert (owed.insurance, owed.patient) == (_sum(crossover.id, EntryKind.CHARGE), 0)


def a_secondary_claim_is_sent_and_paid_after_its_primary(answered: list[Claim]) -> None:
    # 140 answered commercial claims are of clients with a second policy: every 50th is billed on to it.
    eligible = [c for c in _of(answered, PayerType.COMMERCIAL) if c.client_id in _with_next_payer()]
    assert len(eligible) == 140
    secondaries = db.session.scalars(
        select(Claim).where(Claim.payer_rank == PolicyRank.SECONDARY, Claim.forwarded_by_payer_id.is_(None))).all()
    assert len(secondaries) == _every(50, 140) == 3
    for secondary in secondaries:
        primary = db.session.get(Claim, secondary.primary_claim_id)
        assert primary in eligible
        assert (primary.status, secondary.status) == (ClaimStatus.PAID, ClaimStatus.PAID)
        assert (secondary.policy.rank, secondary.policy.client_id) == (PolicyRank.SECONDARY, primary.client_id)
        # Billed the day the primary paid, sent in an 837 of its own, paid two weeks after the primary.
        [batch] = db.session.scalars(select(SubmissionBatch).join(BatchClaim, BatchClaim.batch_id == SubmissionBatch.id)
                                     .where(BatchClaim.claim_id == secondary.id)).all()
        primary_paid = _paid_on(primary.id, "1")
        assert batch.status is BatchStatus.SENT
        assert db.session.scalar(select(func.min(LedgerEntry.posted_on)).where(
            LedgerEntry.claim_id == secondary.id, LedgerEntry.kind == EntryKind.CHARGE)) == primary_paid
        assert _paid_on(secondary.id, "2") == primary_paid + timedelta(days=14)
        # A commercial payer allows 92% and leaves 20% of it to the patient; the secondary pays all of that.
        passed = sum(_coinsurance(ln.charge, "0.92") for ln in primary.lines)
        assert _sum(secondary.id, EntryKind.CHARGE) == _sum(secondary.id, EntryKind.INSURANCE_PAYMENT) == passed
        owed = claim_balances([primary.id, secondary.id])
        assert (owed[primary.id].balance, owed[secondary.id].balance) == (0, 0)


def a_paid_claim_with_one_line_denied_is_in_the_denied_work(answered: list[Claim]) -> None:
    # 22 answered claims have two lines (PT visits ending with manual therapy); 2 of them are picked first as
    # a crossover or a secondary, and every 4th of the other 20 has its last line denied.
    two_lines = [c for c in answered if len(c.lines) > 1]
    assert len(two_lines) == 22
    assert len([c for c in two_lines if db.session.scalar(
        select(Claim.id).where(Claim.primary_claim_id == c.id))]) == 2
    denied_work = set(db.session.scalars(select(Claim.id).where(in_denied_work(), Claim.status == ClaimStatus.PAID)))
    found = denied_lines_of(denied_work)
    assert len(found) == _every(4, 20) == 5
    for claim_id, [denied] in found.items():
        claim = db.session.get(Claim, claim_id)
        assert claim in two_lines
        assert claim.needs_review
        assert denied.line.line_number == len(claim.lines)
        assert [f"{c.group}-{c.code}" for c in denied.carcs] in (["CO-16"], ["CO-50"])
        assert [r.code for r in denied.rarcs] in (["MA130"], ["N115"])
        assert denied.open_amount == denied.line.charge
        assert claim_balances([claim_id])[claim_id].insurance == denied.line.charge
        assert _sum(claim_id, EntryKind.INSURANCE_PAYMENT) > 0


def a_copay_at_claim_level_beside_the_service_lines(answered: list[Claim]) -> None:
    # 323 answered commercial claims; 3 are secondaries' primaries and 4 have a denied line: every 25th of the
    # other 316 carries its copay as a claim-level CAS (loop 2100), CLP04 = the lines' SVC03 - 20.00.
    commercial = _of(answered, PayerType.COMMERCIAL)
    assert len(commercial) == 323
    assert len([c for c in commercial if any(ln.denial_state is not None for ln in c.lines)]) == 4
    copays = db.session.execute(
        select(Adjudication, AdjudicationAdjustment)
        .join(AdjudicationAdjustment, AdjudicationAdjustment.adjudication_id == Adjudication.id)
        .where(AdjudicationAdjustment.adjudication_line_id.is_(None))).all()
    assert len(copays) == _every(25, 323 - 3 - 4) == 13
    for adjudication, cas in copays:
        claim = db.session.get(Claim, adjudication.claim_id)
        assert claim in commercial
        assert claim.status is ClaimStatus.PAID
        assert (cas.group_code, cas.reason_code, cas.amount) == ("PR", "3", Decimal("20.00"))
        allowed = sum(_money(ln.charge * Decimal("0.92")) for ln in claim.lines)
        assert adjudication.paid == allowed - Decimal("20.00")  # CLP04, posted exactly (rule 1)
        assert _sum(claim.id, EntryKind.INSURANCE_PAYMENT) == adjudication.paid
        owed = claim_balances([claim.id])[claim.id]
        assert (owed.insurance, owed.patient) == (0, Decimal("20.00"))


def the_payers_interest_is_its_own_line_in_revenue() -> None:
    [row] = interest_rows(ReportFilters())
    assert row[4] == "L6 interest owed"
    assert row[-1] == Decimal("3.17")
