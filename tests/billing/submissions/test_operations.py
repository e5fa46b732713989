"""Batches: which claims go in, what a send does to them, and what a refused or repeated send leaves alone."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from billing.claims.operations import correct_claim, hold_claim, retract_claim, void_claim
from billing.claims.statuses import ClaimStatus
from billing.core.audit import AuditAction
from billing.core.db import db
from billing.core.errors import BillingError, ValidationFailed
from billing.edi.x837p_checks import validate_837
from billing.submissions.models import BatchStatus, SendMethod
from billing.submissions.operations import (
    BatchRefused,
    create_batches,
    mark_batch_sent,
    rebuild_batch,
    remove_claim_from_batch,
    send_batch,
)
from billing.submissions.queries import candidates, pending_batch_of
from tests.worlds.claims import history
from tests.worlds.practice import SYSTEM


def _one_batch(**kwargs):
    batches = create_batches(actor=SYSTEM, **kwargs)
    assert len(batches) == 1
    return batches[0]


def test_a_batch_holds_ready_claims_in_a_valid_file_until_it_is_sent(world):
    claim = world.ready_claim()
    batch = _one_batch()
    assert batch.status is BatchStatus.GENERATED
    assert [e.claim_id for e in batch.entries] == [claim.id]
    assert batch.claim_count == 1
    assert batch.total_charge == claim.total_charge
    assert validate_837(batch.content) == []
    assert claim.status is ClaimStatus.READY  # generation does not submit
    assert pending_batch_of(claim.id) is batch
    assert [h.action for h in history(claim)][-1] is AuditAction.CLAIM_BATCHED


def test_marking_sent_submits_every_claim_once_and_stamps_the_batch(world):
    claims = [world.ready_claim(), world.ready_claim(day=date(2026, 3, 3))]
    batch = _one_batch()
    mark_batch_sent(batch.id, actor=SYSTEM)
    assert {c.status for c in claims} == {ClaimStatus.SUBMITTED}
    assert batch.status is BatchStatus.SENT
    assert batch.sent_how is SendMethod.MANUAL
    assert batch.sent_at is not None
    assert batch.sent_by == SYSTEM.name
    assert all(history(c)[-1].action is AuditAction.CLAIM_SUBMITTED for c in claims)
    with pytest.raises(BillingError, match="already sent"):
        mark_batch_sent(batch.id, actor=SYSTEM)
    assert pending_batch_of(claims[0].id) is None


def test_a_claim_in_an_unsent_batch_is_not_offered_again(world):
    world.ready_claim()
    _one_batch()
    with pytest.raises(BillingError, match="no eligible claims"):
        create_batches(actor=SYSTEM)


def test_held_claims_and_claims_the_rules_block_are_listed_but_never_batched(world):
    ready = world.ready_claim()
    held = world.ready_claim(day=date(2026, 3, 3))
    hold_claim(held, reason="check auth", actor=SYSTEM)
    listed = {c.claim_id: c for c in candidates()}
    assert held.id not in listed  # Held is not a candidate at all
    batch = _one_batch()
    assert [e.claim_id for e in batch.entries] == [ready.id]


def test_choosing_an_ineligible_claim_is_refused_and_writes_nothing(world):
    held = world.ready_claim()
    hold_claim(held, reason="x", actor=SYSTEM)
    with pytest.raises(ValidationFailed, match=held.number):
        create_batches(actor=SYSTEM, claim_ids=[held.id])
    db.session.expire_all()  # the counter is bumped by a SQL UPDATE; read what the database holds
    assert db.session.get(type(world.clearinghouse), world.clearinghouse.id).last_control_number == 0
    assert pending_batch_of(held.id) is None


def test_control_numbers_are_unique_and_increasing(world):
    numbers = []
    for day in (2, 3, 4):
        world.ready_claim(day=date(2026, 3, day))
        numbers.append(_one_batch().control_number)
    assert numbers == sorted(set(numbers))
    assert len(numbers) == 3


def test_a_claim_with_a_problem_refuses_the_batch_and_names_the_claim(world):
    claim = world.ready_claim()
    world.policy.member_id = "AB*12"
    with pytest.raises(BatchRefused) as refused:
        create_batches(actor=SYSTEM)
    assert refused.value.errors[0].claim_number == claim.number
    assert "reserves" in refused.value.errors[0].message


def test_taking_the_claim_out_rebuilds_the_file_and_the_last_one_cancels_it(world):
    first = world.ready_claim()
    second = world.ready_claim(day=date(2026, 3, 3))
    batch = _one_batch()
    remove_claim_from_batch(batch, first, actor=SYSTEM)
    assert [e.claim_id for e in batch.entries] == [second.id]
    assert first.number not in batch.content
    assert second.number in batch.content
    assert validate_837(batch.content) == []
    remove_claim_from_batch(batch, second, actor=SYSTEM)
    assert batch.status is BatchStatus.CANCELLED
    assert pending_batch_of(second.id) is None
    assert [e.claim_id for e in _one_batch().entries] == [first.id, second.id]


def test_a_sent_batch_is_read_only(world):
    claim = world.ready_claim()
    batch = _one_batch()
    mark_batch_sent(batch.id, actor=SYSTEM)
    with pytest.raises(BillingError, match="read-only"):
        remove_claim_from_batch(batch, claim, actor=SYSTEM)


def test_retracting_a_batched_claim_needs_it_taken_out_first(world):
    claim = world.ready_claim()
    batch = _one_batch()
    with pytest.raises(BillingError, match="take it out of the batch first"):
        retract_claim(claim, actor=SYSTEM)
    assert claim.status is ClaimStatus.READY
    remove_claim_from_batch(batch, claim, actor=SYSTEM)
    retract_claim(claim, actor=SYSTEM)
    assert claim.status is ClaimStatus.VOIDED


def test_a_claim_changed_after_generation_stops_the_send_until_rebuilt(world):
    claim = world.ready_claim()
    batch = _one_batch()
    hold_claim(claim, reason="wrong auth", actor=SYSTEM)
    with pytest.raises(ValidationFailed, match="Held now"):
        mark_batch_sent(batch.id, actor=SYSTEM)
    assert claim.status is ClaimStatus.HELD
    assert batch.status is BatchStatus.GENERATED


def test_an_edited_claim_is_sent_only_after_a_rebuild(world):
    from billing.claims.operations import LineChange, edit_claim

    claim = world.ready_claim()
    batch = _one_batch()
    edit_claim(claim, actor=SYSTEM, lines=[LineChange(line_number=1, units=2)])
    db.session.flush()
    with pytest.raises(ValidationFailed, match="rebuild"):
        mark_batch_sent(batch.id, actor=SYSTEM)
    rebuild_batch(batch, actor=SYSTEM)
    assert batch.total_charge == claim.total_charge == Decimal("36.74")
    mark_batch_sent(batch.id, actor=SYSTEM)
    assert claim.status is ClaimStatus.SUBMITTED


def test_a_failed_upload_changes_nothing(world):
    claim = world.ready_claim()
    batch = _one_batch()

    def refuse(settings, name, content):
        from billing.submissions.sftp import SendFailed

        raise SendFailed("Could not connect to 127.0.0.1:1: Connection refused.")

    with pytest.raises(BillingError, match="Connection refused"):
        send_batch(batch.id, actor=SYSTEM, uploader=refuse)
    assert claim.status is ClaimStatus.READY
    assert batch.status is BatchStatus.GENERATED


def test_send_uploads_the_stored_file_byte_for_byte(world):
    world.ready_claim()
    batch = _one_batch()
    received = {}
    send_batch(batch.id, actor=SYSTEM, uploader=lambda s, name, content: received.update({name: content}))
    assert received == {batch.file_name: batch.content.encode("ascii")}
    assert batch.sent_how is SendMethod.SFTP


def test_a_void_after_submission_goes_out_as_frequency_8_with_the_payer_claim_number(world):
    claim = world.ready_claim()
    mark_batch_sent(_one_batch().id, actor=SYSTEM)
    claim.payer_claim_number = "PCN-778899"
    void_claim(claim, reason="billed the wrong client", actor=SYSTEM)
    assert claim.void_to_send
    batch = _one_batch()
    assert f"CLM*{claim.number}*" in batch.content
    assert ":B:8*" in batch.content
    assert "REF*F8*PCN-778899~" in batch.content
    mark_batch_sent(batch.id, actor=SYSTEM)
    assert claim.status is ClaimStatus.VOIDED
    assert not claim.void_to_send
    assert history(claim)[-1].action is AuditAction.CLAIM_VOID_SENT


def test_a_corrected_claim_goes_out_as_frequency_7(world):
    original = world.ready_claim()
    mark_batch_sent(_one_batch().id, actor=SYSTEM)
    corrected = correct_claim(original, actor=SYSTEM, reason="units", payer_claim_number="PCN-1")
    batch = _one_batch()
    assert [e.claim_id for e in batch.entries] == [corrected.id]
    assert ":B:7*" in batch.content
    assert "REF*F8*PCN-1~" in batch.content


def test_line_pointers_outside_the_diagnoses_are_refused_by_claim_and_line(world):
    claim = world.ready_claim()
    claim.lines[0].diagnosis_pointers = "1:3"  # the claim has two diagnoses
    db.session.flush()
    with pytest.raises(BatchRefused, match=claim.number) as refused:
        create_batches(actor=SYSTEM)
    assert "Line 1 points to diagnoses '1:3'" in refused.value.errors[0].message

