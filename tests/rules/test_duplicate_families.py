"""The duplicate rule's fact ignores the claim's own family (corrections, resubmissions of denied lines, a claim
billing a voided claim's sessions again, secondary claims) and still catches a real duplicate."""

from __future__ import annotations

from datetime import time, timedelta
from decimal import Decimal

import pytest

from billing.claims.operations import correct_claim, void_claim
from billing.claims.sessions import bill_again
from billing.claims.statuses import ClaimStatus
from billing.core.db import db
from billing.ledger.models import EntrySource
from billing.ledger.postings import Adjustment, ClaimPosting, LinePosting
from billing.payments.posting import post_adjudication
from billing.payments.secondary import resubmit_denied_lines
from rules.facts import load_facts
from tests.worlds import factories as f
from tests.worlds.claims import submitted_claim
from tests.worlds.practice import DAY, SYSTEM, build_world

TODAY = DAY + timedelta(days=100)
PAID_ON = DAY + timedelta(days=20)


def _duplicate(claim) -> bool:
    db.session.flush()
    return load_facts([claim.id], TODAY)[claim.id].duplicate_claim


@pytest.fixture
def world():
    return build_world()


def _second_visit_claim(world, claim):
    """Another original claim (another provider, same client, code and day) billing the same service."""
    other = world.claim(start=time(15, 0), provider=f.ProviderFactory(company=world.company))
    assert other.family_root_id != claim.family_root_id
    return other


def test_a_corrected_claim_is_no_duplicate_of_the_claim_it_replaces(world):
    original = submitted_claim(world)
    correction = correct_claim(original, actor=SYSTEM, reason="wrong modifier", payer_claim_number="ICN-1")
    assert correction.family_root_id == original.family_root_id
    assert _duplicate(correction) is False
    # A real duplicate beside the family is still caught, from either side.
    other = _second_visit_claim(world, original)
    assert _duplicate(other) is True
    assert _duplicate(correction) is True


def test_a_resubmission_of_denied_lines_is_no_duplicate_of_the_denied_claim(world):
    claim = submitted_claim(world, lines=2)
    one, two = claim.lines
    post_adjudication(claim, ClaimPosting(PAID_ON, (
        LinePosting(1, Decimal("50.00"), (Adjustment("CO", "45", one.charge - Decimal("50.00")),)),
        LinePosting(2, Decimal("0.00"), (Adjustment("CO", "197", two.charge),)),
    ), payer_claim_number="ICN-2"), actor=SYSTEM, source=EntrySource.MANUAL)
    copy = resubmit_denied_lines(claim, actor=SYSTEM, reason="added the authorization")
    assert copy.status is ClaimStatus.READY
    assert claim.status is not ClaimStatus.VOIDED
    assert _duplicate(copy) is False
    assert _duplicate(_second_visit_claim(world, claim)) is True


def test_a_claim_billing_a_voided_claims_session_again_is_no_duplicate(world):
    claim = submitted_claim(world)
    visit = claim.lines[0].session
    void_claim(claim, reason="billed to the wrong payer", actor=SYSTEM)
    again = bill_again(visit, actor=SYSTEM).created[0]
    assert again.family_root_id == claim.family_root_id
    assert again.frequency_code == "1"
    assert _duplicate(again) is False
    assert _duplicate(_second_visit_claim(world, claim)) is True


def test_two_unrelated_originals_for_the_same_service_are_duplicates(world):
    first = world.claim(start=time(9, 0))
    second = _second_visit_claim(world, first)
    assert (_duplicate(first), _duplicate(second)) == (True, True)
