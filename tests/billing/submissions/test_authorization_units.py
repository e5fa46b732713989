"""Authorization units: remaining drops when claims are submitted, and comes back when they stop standing.

Nothing is stored: what an authorization has used is the sum of units on live submitted claims,
so a void or a replacement gives units back without anyone touching a counter.
"""

from __future__ import annotations

from datetime import date

import pytest

from billing.claims.operations import correct_claim, retract_claim, void_claim
from billing.claims.queries import authorization_units_used
from billing.submissions.operations import create_batches, mark_batch_sent, remove_claim_from_batch
from billing.submissions.queries import authorization_balances
from tests.worlds import factories as f
from tests.worlds.practice import SYSTEM


@pytest.fixture
def auth(world):
    return f.AuthorizationFactory(client=world.client, policy=world.policy, units_approved=40,
                                  service_codes=[world.code])  # fmt: skip


def remaining(auth) -> int:
    [balance] = authorization_balances([auth.id])
    return balance.remaining


def send_all() -> None:
    for batch in create_batches(actor=SYSTEM):
        mark_batch_sent(batch.id, actor=SYSTEM)


def test_generating_a_batch_uses_nothing_and_sending_it_uses_the_units(world, auth):
    claim = world.ready_claim()
    assert [ln.authorization_id for ln in claim.lines] == [auth.id]
    batch = create_batches(actor=SYSTEM)[0]
    assert remaining(auth) == 40
    mark_batch_sent(batch.id, actor=SYSTEM)
    assert remaining(auth) == 36
    [balance] = authorization_balances([auth.id])
    assert (balance.approved, balance.submitted) == (40, 4)


def test_a_submitted_claim_voided_later_gives_its_units_back(world, auth):
    kept = world.ready_claim()
    voided = world.ready_claim(day=date(2026, 3, 3))
    send_all()
    assert remaining(auth) == 32
    voided.payer_claim_number = "ICN-9"
    void_claim(voided, reason="duplicate", actor=SYSTEM)
    assert remaining(auth) == 36
    send_all()  # the frequency-8 void goes out; it uses nothing
    assert remaining(auth) == 36
    assert kept.status.value == "submitted"


def test_a_corrected_claim_replaces_the_original_units_instead_of_adding_to_them(world, auth):
    original = world.ready_claim()
    send_all()
    assert remaining(auth) == 36
    corrected = correct_claim(original, actor=SYSTEM, reason="units", payer_claim_number="ICN-1")
    assert [ln.authorization_id for ln in corrected.lines] == [auth.id]
    send_all()
    assert remaining(auth) == 36  # the correction stands in for the original, never both
    void_claim(corrected, reason="billed in error", actor=SYSTEM)
    assert remaining(auth) == 36  # the original stands again once its replacement is void


def test_a_claim_retracted_from_a_batch_never_used_units_and_frees_them_for_billing(world, auth):
    claim = world.ready_claim()
    batch = create_batches(actor=SYSTEM)[0]
    assert authorization_units_used([auth.id]) == {auth.id: 4}  # held against new claims while in billing
    remove_claim_from_batch(batch, claim, actor=SYSTEM)
    retract_claim(claim, actor=SYSTEM)
    assert remaining(auth) == 40
    assert authorization_units_used([auth.id]).get(auth.id, 0) == 0
