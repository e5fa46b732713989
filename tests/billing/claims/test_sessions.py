"""Session locks, retraction, and cancel versus delete."""

from __future__ import annotations

from datetime import date, time

import pytest
from sqlalchemy import select

from billing.claims.models import Claim
from billing.claims.operations import retract_claim, void_claim
from billing.claims.queries import claim_locking
from billing.claims.sessions import (
    cancel_session,
    delete_session,
    deletion_refusal,
    finalize_session,
    locked_field_problems,
)
from billing.claims.statuses import ClaimStatus
from billing.core.audit import AuditAction, StatusChange
from billing.core.db import db, utcnow
from billing.core.errors import BillingError
from billing.coverage.models import RoundingRule
from billing.sessions.models import NoteStatus, TherapySession
from tests.worlds import factories as f
from tests.worlds.claims import walk_to
from tests.worlds.practice import SYSTEM

BILLED = "it was billed to insurance; cancel it with a session class instead"
FINALIZED = "its note is finalized; cancel it with a session class instead"


def _session_history(visit_id: int) -> list[StatusChange]:
    return list(
        db.session.scalars(
            select(StatusChange)
            .where(StatusChange.subject_type == "session", StatusChange.subject_id == visit_id)
            .order_by(StatusChange.id)
        )
    )


@pytest.fixture
def no_show(world):
    return f.SessionClassFactory(company=world.company, name="No-show")


def _billed(world, status: ClaimStatus = ClaimStatus.READY) -> tuple[TherapySession, Claim]:
    visit = world.visit()
    claim = walk_to(finalize_session(visit, actor=SYSTEM).created[0], status)
    return visit, claim


# Locks


@pytest.mark.parametrize("status", [s for s in ClaimStatus if s is not ClaimStatus.VOIDED])
def test_a_session_on_a_claim_that_is_not_voided_is_locked(world, status):
    visit, claim = _billed(world, status)
    assert claim_locking(visit.id) == claim
    problems = locked_field_problems(
        {"service_date": date(2026, 3, 3), "start_time": time(8, 0), "modifiers": "HN", "client": visit.client}, visit
    )
    assert [p.field for p in problems] == ["service_date", "start_time", "modifiers"]
    assert problems[0].message == (
        f"Locked by claim {claim.number} ({status.label}): the date cannot change. "
        "Retract the claim first (or correct it if it was sent)."
    )


def test_retracting_the_claim_releases_the_lock(world):
    visit, claim = _billed(world)
    retract_claim(claim, actor=SYSTEM)
    db.session.flush()
    assert claim_locking(visit.id) is None
    assert locked_field_problems({"service_date": date(2026, 3, 3)}, visit) == []


def test_a_session_never_billed_is_not_locked(world):
    visit = world.visit()
    assert claim_locking(visit.id) is None
    assert locked_field_problems({"service_date": date(2026, 3, 3)}, visit) == []


# Delete: only what was never billed or documented


def test_a_billed_session_cannot_be_deleted(world):
    visit, _claim = _billed(world)
    assert deletion_refusal(visit) == BILLED
    with pytest.raises(BillingError) as refused:
        delete_session(visit, actor=SYSTEM)
    assert refused.value.message == f"The session of 03/02/2026 cannot be deleted: {BILLED}."
    db.session.expire_all()
    assert db.session.get(TherapySession, visit.id) is not None
    assert [h.action for h in _session_history(visit.id)] == [AuditAction.SESSION_FINALIZED]


def test_a_session_stays_billed_after_its_claim_is_retracted(world):
    visit, claim = _billed(world)
    retract_claim(claim, actor=SYSTEM)
    assert deletion_refusal(visit) == BILLED


def test_a_session_with_a_finalized_note_cannot_be_deleted(world):
    code = world.code_with("97110", RoundingRule.CMS_8_MINUTE)
    visit = world.visit(minutes=5, service_code=code)  # finalized, but too short to bill
    assert finalize_session(visit, actor=SYSTEM).created == []
    assert deletion_refusal(visit) == FINALIZED
    with pytest.raises(BillingError, match=f"cannot be deleted: {FINALIZED}"):
        delete_session(visit, actor=SYSTEM)
    assert db.session.get(TherapySession, visit.id) is not None


def test_a_draft_never_billed_session_is_deleted_leaving_a_history_row(world):
    visit = world.visit()
    visit_id = visit.id
    assert deletion_refusal(visit) is None

    delete_session(visit, actor=SYSTEM)

    db.session.expire_all()
    assert db.session.get(TherapySession, visit_id) is None
    [row] = _session_history(visit_id)
    assert (row.action, row.actor) == (AuditAction.SESSION_DELETED, SYSTEM.name)
    assert row.data == {
        "client_id": world.client.id,
        "provider_id": world.provider.id,
        "service_code_id": world.code.id,
        "service_date": "2026-03-02",
        "start_time": "09:00:00",
        "end_time": "10:00:00",
        "note_status": "draft",
    }


# Cancel: keeps the session, its history and its money


def test_cancel_keeps_the_session_with_its_class_and_writes_history(world, no_show):
    visit = world.visit()
    cancel_session(visit, session_class=no_show, actor=SYSTEM, reason="client did not come")
    db.session.flush()
    db.session.expire_all()

    kept = db.session.get(TherapySession, visit.id)
    assert kept.is_cancelled
    assert kept.session_class == no_show
    assert kept.cancelled_at is not None
    [row] = _session_history(visit.id)
    assert (row.action, row.to_status, row.reason) == (AuditAction.SESSION_CANCELLED, "No-show", "client did not come")


def test_a_cancelled_session_cannot_be_cancelled_again(world, no_show):
    visit = world.visit(session_class=no_show, cancelled_at=utcnow())
    with pytest.raises(BillingError, match=r"is already cancelled \(No-show\)"):
        cancel_session(visit, session_class=no_show, actor=SYSTEM)
    assert _session_history(visit.id) == []


@pytest.mark.parametrize("status", [ClaimStatus.READY, ClaimStatus.HELD])
def test_cancelling_a_session_withdraws_its_unsent_claim(world, no_show, status):
    visit, claim = _billed(world, status)
    withdrawn = cancel_session(visit, session_class=no_show, actor=SYSTEM)
    db.session.flush()
    assert withdrawn == f"claim {claim.number} was withdrawn (voided without sending)"
    assert (claim.status, claim.void_to_send) == (ClaimStatus.VOIDED, False)
    assert visit.is_cancelled
    assert visit.note_status is NoteStatus.FINALIZED  # the note stays; the session keeps its history
    assert deletion_refusal(visit) == BILLED


@pytest.mark.parametrize("status", [ClaimStatus.SUBMITTED, ClaimStatus.PAID, ClaimStatus.DENIED])
def test_cancelling_a_session_the_payer_was_billed_for_is_refused_until_the_claim_is_voided(world, no_show, status):
    visit, claim = _billed(world, status)
    with pytest.raises(BillingError, match=r"is at the payer with this session on it.*Void claim .* or correct it"):
        cancel_session(visit, session_class=no_show, actor=SYSTEM)
    assert not visit.is_cancelled
    void_claim(claim, reason="the client did not come", actor=SYSTEM, money_confirmed=True)
    db.session.flush()
    cancel_session(visit, session_class=no_show, actor=SYSTEM)
    assert visit.is_cancelled


def test_a_voided_claim_does_not_block_cancelling(world, no_show):
    visit, claim = _billed(world)
    void_claim(claim, reason="billed in error", actor=SYSTEM)
    db.session.flush()
    cancel_session(visit, session_class=no_show, actor=SYSTEM)
    assert visit.is_cancelled


def test_a_cancelled_session_is_neither_finalized_nor_billed(world, no_show):
    visit = world.visit()
    cancel_session(visit, session_class=no_show, actor=SYSTEM)
    with pytest.raises(BillingError, match="a cancelled session is not finalized"):
        finalize_session(visit, actor=SYSTEM)
    assert claim_locking(visit.id) is None
