"""Case O: a void waiting for the payer's claim number (ICN) blocks only itself.

Batches leave it out and name it; a biller enters the ICN (the next batch sends the void with REF*F8) or
marks the void not needed (it stops waiting). Refusals change nothing.
"""

from __future__ import annotations

from datetime import date

import pytest

from billing.claims.operations import set_payer_claim_number, void_claim, void_not_needed
from billing.claims.statuses import ClaimStatus
from billing.core.audit import AuditAction
from billing.core.errors import NotAllowed, NothingToDo, ValidationFailed
from billing.submissions.jobs import submit_ready_claims
from billing.submissions.models import BatchStatus
from billing.submissions.operations import create_batches, mark_batch_sent
from billing.submissions.queries import candidates, waiting_voids
from tests.worlds.claims import history, walk_to
from tests.worlds.practice import SYSTEM


def waiting_void(world, day=date(2026, 3, 2)):
    """A claim the payer has, voided before anyone knew the payer's claim number: it waits to be sent."""
    claim = walk_to(world.ready_claim(day=day), ClaimStatus.SUBMITTED)
    void_claim(claim, reason="billed the wrong client", actor=SYSTEM)
    assert claim.void_to_send
    assert claim.payer_claim_number is None
    return claim


def two_ready(world):
    return [world.ready_claim(day=date(2026, 3, 3)), world.ready_claim(day=date(2026, 3, 4))]


def test_case_o_a_batch_sends_the_two_ready_claims_and_names_the_void_waiting_for_its_icn(world):
    void = waiting_void(world)
    ready = two_ready(world)
    [batch] = create_batches(actor=SYSTEM)
    assert sorted(e.claim_id for e in batch.entries) == sorted(c.id for c in ready)
    assert f"CLM*{void.number}*" not in batch.content
    [left_out] = waiting_voids()
    assert left_out.number == void.number
    assert "payer's claim number (ICN)" in left_out.describe()
    assert left_out.describe().startswith(f"{void.number}: void waiting")
    listed = {c.number: c for c in candidates()}
    assert listed[void.number].awaits_payer_number
    assert not listed[void.number].eligible
    assert void.void_to_send  # still waiting, untouched


def test_case_o_with_only_a_waiting_void_there_is_nothing_to_submit_and_the_refusal_names_it(world):
    void = waiting_void(world)
    with pytest.raises(NothingToDo, match=f"Waiting for the payer's claim number \\(ICN\\): {void.number}"):
        create_batches(actor=SYSTEM)


def test_case_o_a_void_whose_icn_x12_would_break_is_left_out_too(world):
    void = waiting_void(world)
    void.payer_claim_number = "ICN*1"  # e.g. imported from elsewhere
    ready = two_ready(world)
    [batch] = create_batches(actor=SYSTEM)
    assert len(batch.entries) == len(ready)
    [left_out] = waiting_voids()
    assert "reserves" in left_out.reason


def test_case_o_the_nightly_job_sends_the_two_and_names_the_void(world):
    void = waiting_void(world)
    two_ready(world)
    world.clearinghouse.sftp_host = None  # generated for a manual upload: the job's report is what we check
    report = submit_ready_claims(actor=SYSTEM)
    assert report.failed == []
    assert len(report.done) == 1
    assert "2 claims generated" in report.done[0]
    assert report.blocked == [waiting_voids()[0].describe()]
    assert f"LEFT OUT {void.number}: void waiting for the payer's claim number" in report.summary()


def test_case_o_entering_the_icn_lets_the_void_go_out_in_the_next_batch_with_ref_f8(world):
    void = waiting_void(world)
    ready = two_ready(world)
    mark_batch_sent(create_batches(actor=SYSTEM)[0].id, actor=SYSTEM)
    assert all(c.status is ClaimStatus.SUBMITTED for c in ready)

    set_payer_claim_number(void, "  2026031800123  ", actor=SYSTEM, reason="from the EOB of March 18")
    assert void.payer_claim_number == "2026031800123"
    row = history(void)[-1]
    assert row.action is AuditAction.CLAIM_PAYER_NUMBER_SET
    assert row.actor == SYSTEM.name
    assert row.at is not None
    assert row.data == {"field": "payer_claim_number", "from": None, "to": "2026031800123",
                        "why": "from the EOB of March 18"}  # fmt: skip
    assert row.reason == "Payer claim number (none) -> 2026031800123: from the EOB of March 18"
    assert waiting_voids() == []

    [batch] = create_batches(actor=SYSTEM)
    assert [e.claim_id for e in batch.entries] == [void.id]
    assert f"CLM*{void.number}*" in batch.content
    assert ":B:8*" in batch.content
    assert "REF*F8*2026031800123~" in batch.content
    mark_batch_sent(batch.id, actor=SYSTEM)
    assert batch.status is BatchStatus.SENT
    assert not void.void_to_send
    assert history(void)[-1].action is AuditAction.CLAIM_VOID_SENT


def test_case_o_marking_the_void_not_needed_takes_it_off_the_queue(world):
    void = waiting_void(world)
    void_not_needed(void, reason="never reached the payer: the 999 rejected the batch", actor=SYSTEM)
    assert not void.void_to_send
    assert void.status is ClaimStatus.VOIDED
    assert waiting_voids() == []
    assert void.number not in {c.number for c in candidates()}
    row = history(void)[-1]
    assert row.action is AuditAction.CLAIM_VOID_NOT_NEEDED
    assert row.reason == "never reached the payer: the 999 rejected the batch"
    with pytest.raises(NothingToDo):
        create_batches(actor=SYSTEM)


@pytest.mark.parametrize(("icn", "why"), [
    ("", "missing"), ("   ", "missing"), ("ICN*12", "reserves"), ("ICN~12", "reserves"), ("ICN:1", "reserves"),
    ("X" * 51, "at most 50"), ("ÍCN12", "ASCII"), ("ICN\t12", "ASCII"),
])  # fmt: skip
def test_case_o_an_unusable_icn_is_refused_and_changes_nothing(world, icn, why):
    void = waiting_void(world)
    before = len(history(void))
    with pytest.raises(ValidationFailed, match=why) as refused:
        set_payer_claim_number(void, icn, actor=SYSTEM)
    assert refused.value.problems[0].field == "payer_claim_number"
    assert void.payer_claim_number is None
    assert void.void_to_send
    assert len(history(void)) == before


def test_case_o_fifty_characters_fit_ref02(world):
    void = waiting_void(world)
    set_payer_claim_number(void, "9" * 50, actor=SYSTEM)
    assert void.payer_claim_number == "9" * 50


def test_case_o_not_needed_needs_a_reason(world):
    void = waiting_void(world)
    before = len(history(void))
    with pytest.raises(ValidationFailed, match="reason"):
        void_not_needed(void, reason="  ", actor=SYSTEM)
    assert void.void_to_send
    assert len(history(void)) == before


def test_case_o_only_a_void_waiting_to_be_sent_takes_an_icn_or_a_waiver(world):
    ready = world.ready_claim()
    retracted_day = world.ready_claim(day=date(2026, 3, 5))
    void_claim(retracted_day, reason="never sent", actor=SYSTEM)  # voided before sending: nothing to tell the payer
    for claim in (ready, retracted_day):
        before = (claim.status, claim.payer_claim_number, claim.void_to_send, len(history(claim)))
        with pytest.raises(NotAllowed, match="not a void waiting to be sent"):
            set_payer_claim_number(claim, "ICN-1", actor=SYSTEM)
        with pytest.raises(NotAllowed, match="not a void waiting to be sent"):
            void_not_needed(claim, reason="no record", actor=SYSTEM)
        assert (claim.status, claim.payer_claim_number, claim.void_to_send, len(history(claim))) == before


def test_case_o_a_void_in_an_unsent_batch_is_taken_out_first(world):
    void = waiting_void(world)
    set_payer_claim_number(void, "ICN-1", actor=SYSTEM)
    create_batches(actor=SYSTEM)
    with pytest.raises(NotAllowed, match="take it out of the batch first"):
        set_payer_claim_number(void, "ICN-2", actor=SYSTEM)
    with pytest.raises(NotAllowed, match="take it out of the batch first"):
        void_not_needed(void, reason="payer has no record", actor=SYSTEM)
    assert void.payer_claim_number == "ICN-1"
    assert void.void_to_send
