"""Sessions and their claims stay consistent: a session whose claim was retracted or voided is billed again on a
new claim; a cancelled session takes its unsent claim with it; one at the payer is refused with the way forward."""

from __future__ import annotations

from datetime import time, timedelta
from decimal import Decimal

import pytest

from billing.claims.operations import resubmit_claim, retract_claim, void_claim
from billing.claims.queries import claim_history, claim_locking
from billing.claims.sessions import bill_again, cancel_session, finalize_session, finalize_sessions
from billing.claims.statuses import ClaimStatus, transition
from billing.core.audit import AuditAction, StatusChange
from billing.core.db import db
from billing.core.errors import BillingError, Conflict, NotAllowed
from billing.ledger.balances import claim_balance
from billing.payments.invariants import check_ledger
from billing.sessions.models import TherapySession
from billing.submissions.models import BatchStatus
from billing.submissions.operations import create_batches
from billing.submissions.queries import pending_batch_of
from tests.worlds import factories as f
from tests.worlds.claims import submitted_claim, walk_to
from tests.worlds.practice import DAY, RATE, SYSTEM
from tests.worlds.submissions import build_submission_world

D = Decimal
ONE_HOUR = RATE * 4  # a one-hour session is 4 units at the world's rate


@pytest.fixture
def no_show(world):
    return f.SessionClassFactory(company=world.company, name="No-show", billable=False)


def _session_actions(visit: TherapySession) -> list[AuditAction]:
    rows = db.session.query(StatusChange).filter_by(subject_type="session", subject_id=visit.id).order_by(
        StatusChange.id)
    return [row.action for row in rows]


# --- Bill again -------------------------------------------------------------------------------------------------

def test_a_retracted_sessions_finalize_points_to_bill_again_which_builds_a_new_original(world):
    visit = world.visit()
    first = finalize_session(visit, actor=SYSTEM).created[0]
    retract_claim(first, actor=SYSTEM)
    db.session.flush()
    with pytest.raises(Conflict, match=r"already finalized\. Its claim was retracted or voided: use Bill again"):
        finalize_session(visit, actor=SYSTEM)

    result = bill_again(visit, actor=SYSTEM)
    db.session.flush()
    [again] = result.created
    assert again.id != first.id
    assert (again.status, again.frequency_code, again.original_claim_id) == (ClaimStatus.READY, "1", None)
    assert again.family_root_id == first.family_root_id
    assert [ln.session_id for ln in again.lines] == [visit.id]
    assert again.total_charge == ONE_HOUR
    assert claim_locking(visit.id) == again
    assert _session_actions(visit)[-1] is AuditAction.SESSION_BILLED_AGAIN
    assert [h.action for h in claim_history(again.id)] == [AuditAction.CLAIM_CREATED]
    # Billed once: a second Bill again is refused and changes nothing.
    with pytest.raises(Conflict, match=f"billed on claim {again.number}"):
        bill_again(visit, actor=SYSTEM)


def test_a_voided_claims_session_is_billed_again_with_no_money_left_behind(world):
    claim = submitted_claim(world)
    visit = claim.lines[0].session
    void_claim(claim, reason="billed under the wrong policy", actor=SYSTEM)
    again = bill_again(visit, actor=SYSTEM).created[0]
    db.session.flush()
    assert claim.void_to_send  # the payer is still sent the void of the first claim
    assert claim_balance(claim.id).balance == D("0.00")  # its charge was withdrawn when it was voided
    assert claim_balance(again.id).balance == D("0.00")  # the new one is charged when it is sent
    assert check_ledger() == []


def test_bill_again_is_refused_for_a_draft_and_for_a_session_never_taken_off_its_claim(world):
    draft = world.visit()
    with pytest.raises(NotAllowed, match="is not finalized"):
        bill_again(draft, actor=SYSTEM)
    visit = world.visit(start=time(13, 0))
    claim = finalize_session(visit, actor=SYSTEM).created[0]
    with pytest.raises(Conflict, match=f"billed on claim {claim.number}"):
        bill_again(visit, actor=SYSTEM)


# --- Cancel -------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("status", [ClaimStatus.SUBMITTED, ClaimStatus.PAID, ClaimStatus.DENIED])
def test_cancelling_while_the_claim_is_at_the_payer_is_refused_with_the_way_forward(world, no_show, status):
    visit = world.visit()
    claim = walk_to(finalize_session(visit, actor=SYSTEM).created[0], status)
    with pytest.raises(NotAllowed) as refused:
        cancel_session(visit, session_class=no_show, actor=SYSTEM)
    assert refused.value.message == (
        f"Claim {claim.number} ({status.label}) is at the payer with this session on it, so cancelling here would "
        f"leave it billed there. Void claim {claim.number} (the payer is sent a void) or correct it without this "
        "session, then cancel the session."
    )
    assert not visit.is_cancelled
    assert claim.status is status


def test_a_denied_claim_put_back_to_ready_was_sent_so_its_session_is_not_cancelled_either(world, no_show):
    claim = submitted_claim(world)
    visit = claim.lines[0].session
    transition(claim, ClaimStatus.DENIED, action=AuditAction.CLAIM_DENIED, actor=SYSTEM, reason="test")
    resubmit_claim(claim, actor=SYSTEM)
    with pytest.raises(NotAllowed, match=f"Claim {claim.number} \\(Ready\\) was sent to the payer"):
        cancel_session(visit, session_class=no_show, actor=SYSTEM)
    assert claim.status is ClaimStatus.READY


def test_a_cancelled_sessions_claim_in_an_unsent_batch_leaves_the_batch_and_is_voided_unsent():
    world = build_submission_world()
    no_show = f.SessionClassFactory(company=world.company, name="No-show", billable=False)
    claim = world.ready_claim()
    visit = claim.lines[0].session
    [batch] = create_batches(actor=SYSTEM)
    assert pending_batch_of(claim.id) == batch

    outcome = cancel_session(visit, session_class=no_show, actor=SYSTEM, reason="client did not come")
    db.session.flush()
    assert outcome == f"claim {claim.number} was withdrawn (voided without sending)"
    assert pending_batch_of(claim.id) is None
    assert batch.status is BatchStatus.CANCELLED  # its only claim left
    assert (claim.status, claim.void_to_send, claim.void_reason) == (ClaimStatus.VOIDED, False, "retracted")
    actions = [h.action for h in claim_history(claim.id)]
    assert actions[-2:] == [AuditAction.CLAIM_UNBATCHED, AuditAction.CLAIM_RETRACTED]
    assert claim_history(claim.id)[-1].reason == "Session of 03/02/2026 cancelled as No-show"
    assert visit.is_cancelled
    assert claim_locking(visit.id) is None
    assert check_ledger() == []


def test_cancelling_one_of_two_sessions_takes_only_its_line_off_the_claim(world, no_show):
    morning, afternoon = world.visit(start=time(9, 0)), world.visit(start=time(13, 0), minutes=30)
    [claim] = finalize_sessions([morning, afternoon], actor=SYSTEM).created
    assert len(claim.lines) == 2
    outcome = cancel_session(afternoon, session_class=no_show, actor=SYSTEM)
    db.session.flush()
    assert outcome == f"its line was taken off claim {claim.number}"
    assert claim.status is ClaimStatus.READY
    assert [(ln.line_number, ln.session_id) for ln in claim.lines] == [(1, morning.id)]
    assert claim.total_charge == ONE_HOUR
    edited = claim_history(claim.id)[-1]
    assert (edited.action, edited.reason) == (AuditAction.CLAIM_EDITED,
                                             "Session of 03/02/2026 cancelled as No-show: its line taken off")
    assert claim_locking(afternoon.id) is None
    assert claim_locking(morning.id) == claim


def test_a_billable_session_class_keeps_the_claim(world):
    late = f.SessionClassFactory(company=world.company, name="Late cancel", billable=True)
    visit = world.visit()
    claim = finalize_session(visit, actor=SYSTEM).created[0]
    assert cancel_session(visit, session_class=late, actor=SYSTEM) is None
    assert claim.status is ClaimStatus.READY
    assert claim_locking(visit.id) == claim


def test_a_refused_cancel_changes_nothing(world, no_show):
    visit = world.visit(day=DAY + timedelta(days=1))
    claim = walk_to(finalize_session(visit, actor=SYSTEM).created[0], ClaimStatus.SUBMITTED)
    before = len(claim_history(claim.id))
    with db.session.begin_nested(), pytest.raises(BillingError):
        cancel_session(visit, session_class=no_show, actor=SYSTEM)
    assert len(claim_history(claim.id)) == before
    assert _session_actions(visit) == [AuditAction.SESSION_FINALIZED]
