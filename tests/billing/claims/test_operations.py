"""What billers do to claims: hold, void, retract, edit, correct, resubmit, with their refusals."""

from __future__ import annotations

import re
from datetime import time
from decimal import Decimal

import pytest
from sqlalchemy import select

from billing.claims.models import Claim
from billing.claims.operations import (
    LineChange,
    correct_claim,
    edit_claim,
    hold_claim,
    release_claim,
    resubmit_claim,
    retract_claim,
    void_claim,
)
from billing.claims.queries import claim_locking, live_claim_filter
from billing.claims.sessions import finalize_session, finalize_sessions
from billing.claims.statuses import ClaimStatus
from billing.core.audit import AuditAction
from billing.core.db import db
from billing.core.errors import BillingError, ValidationFailed
from tests.worlds import factories as f
from tests.worlds.claims import history, walk_to
from tests.worlds.practice import SYSTEM

SENT = [ClaimStatus.SUBMITTED, ClaimStatus.DENIED, ClaimStatus.PAID]
UNSENT = [ClaimStatus.READY, ClaimStatus.HELD]


def _live_ids() -> set[int]:
    return set(db.session.scalars(select(Claim.id).where(live_claim_filter())))


# Hold and release


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_hold_needs_a_reason(world, reason):
    claim = world.claim()
    with pytest.raises(ValidationFailed, match="A hold needs a reason") as refused:
        hold_claim(claim, reason=reason, actor=SYSTEM)
    assert refused.value.problems[0].field == "reason"
    assert (claim.status, claim.hold_reason, len(history(claim))) == (ClaimStatus.READY, None, 1)


def test_hold_and_release_write_history(world):
    claim = world.claim()
    hold_claim(claim, reason="  check the authorization ", actor=SYSTEM)
    assert (claim.status, claim.hold_reason) == (ClaimStatus.HELD, "check the authorization")
    release_claim(claim, actor=SYSTEM)
    assert (claim.status, claim.hold_reason) == (ClaimStatus.READY, None)
    assert [(h.action, h.to_status, h.reason) for h in history(claim)[1:]] == [
        (AuditAction.CLAIM_HELD, "held", "check the authorization"),
        (AuditAction.CLAIM_RELEASED, "ready", "check the authorization"),
    ]


@pytest.mark.parametrize("status", [s for s in ClaimStatus if s is not ClaimStatus.HELD])
def test_only_a_held_claim_is_released(world, status):
    claim = walk_to(world.claim(), status)
    with pytest.raises(BillingError, match=f"is {status.label}, not Held; there is nothing to release"):
        release_claim(claim, actor=SYSTEM)
    assert claim.status is status


# Void


@pytest.mark.parametrize("reason", ["", "  ", None])
def test_void_needs_a_reason(world, reason):
    claim = world.claim()
    with pytest.raises(ValidationFailed, match="A void needs a reason"):
        void_claim(claim, reason=reason, actor=SYSTEM)
    assert (claim.status, claim.void_reason, len(history(claim))) == (ClaimStatus.READY, None, 1)


@pytest.mark.parametrize(("status", "to_send"), [*((s, True) for s in SENT), *((s, False) for s in UNSENT)])
def test_voiding_a_claim_the_payer_has_marks_a_frequency_8_void_to_send(world, status, to_send):
    claim = walk_to(world.claim(), status)
    void_claim(claim, reason="billed in error", actor=SYSTEM)
    assert (claim.status, claim.void_reason, claim.void_to_send) == (ClaimStatus.VOIDED, "billed in error", to_send)
    row = history(claim)[-1]
    assert (row.action, row.from_status, row.to_status, row.reason) == (
        AuditAction.CLAIM_VOIDED,
        status.value,
        "voided",
        "billed in error",
    )


def test_a_voided_claim_cannot_be_voided_again(world):
    claim = walk_to(world.claim(), ClaimStatus.VOIDED)
    with pytest.raises(BillingError, match="is Voided; it cannot become Voided"):
        void_claim(claim, reason="again", actor=SYSTEM)


# Retract


@pytest.mark.parametrize("status", UNSENT)
def test_retract_voids_an_unsent_claim_and_unlocks_its_sessions(world, status):
    visit = world.visit()
    claim = walk_to(finalize_session(visit, actor=SYSTEM).created[0], status)
    assert claim_locking(visit.id) == claim

    retract_claim(claim, actor=SYSTEM)
    db.session.flush()

    assert (claim.status, claim.void_reason, claim.void_to_send) == (ClaimStatus.VOIDED, "retracted", False)
    assert claim_locking(visit.id) is None
    row = history(claim)[-1]
    assert (row.action, row.from_status, row.to_status, row.reason) == (
        AuditAction.CLAIM_RETRACTED,
        status.value,
        "voided",
        "retracted",
    )


@pytest.mark.parametrize("status", SENT)
def test_a_sent_claim_cannot_be_retracted(world, status):
    claim = walk_to(world.claim(), status)
    rows = len(history(claim))
    with pytest.raises(BillingError) as refused:
        retract_claim(claim, actor=SYSTEM)
    assert refused.value.message == (
        f"Claim {claim.number} was sent to the payer and cannot be retracted; void it or create a corrected claim."
    )
    assert (claim.status, len(history(claim))) == (status, rows)


def test_a_voided_claim_cannot_be_retracted(world):
    claim = walk_to(world.claim(), ClaimStatus.VOIDED)
    with pytest.raises(BillingError, match="is Voided and cannot be retracted"):
        retract_claim(claim, actor=SYSTEM)


# Edit


@pytest.fixture
def two_line_claim(world):
    [claim] = finalize_sessions([world.visit(), world.visit(start=time(13, 0), minutes=30)], actor=SYSTEM).created
    return claim


@pytest.mark.parametrize("status", UNSENT)
def test_edit_before_submission_changes_lines_and_recomputes_the_total(world, two_line_claim, status):
    claim = walk_to(two_line_claim, status)
    other_provider = f.ProviderFactory(company=world.company)
    assert claim.total_charge == Decimal("110.22")

    edit_claim(
        claim,
        actor=SYSTEM,
        lines=[LineChange(line_number=2, units=3, modifiers="hn, 95", diagnosis_pointers="2:1")],
        place_of_service="12",
        rendering_provider_id=other_provider.id,
    )
    db.session.flush()

    second = claim.lines[1]
    assert (second.units, second.modifiers, second.diagnosis_pointers) == (3, "HN:95", "2:1")
    assert second.charge == Decimal("55.11")
    assert claim.total_charge == Decimal("128.59")  # 4 + 3 units x 18.37
    assert claim.place_of_service == "12"
    assert [ln.place_of_service for ln in claim.lines] == ["12", "12"]
    assert claim.rendering_provider_id == other_provider.id
    assert claim.status is status
    row = history(claim)[-1]
    assert (row.action, row.from_status, row.to_status) == (AuditAction.CLAIM_EDITED, status.value, status.value)
    assert row.data["before"]["total_charge"] == "110.22"
    assert row.data["after"]["total_charge"] == "128.59"
    assert row.data["after"]["lines"][1] == {
        "line": 2,
        "units": 3,
        "modifiers": "HN:95",
        "charge": "55.11",
        "authorization_id": None,
        "pointers": "2:1",
    }


def test_edit_can_set_an_authorization(world, two_line_claim):
    auth = f.AuthorizationFactory(client=world.client, policy=world.policy, service_codes=[world.code])
    edit_claim(two_line_claim, actor=SYSTEM, lines=[LineChange(line_number=1, authorization_id=auth.id)])
    assert two_line_claim.lines[0].authorization_id == auth.id


@pytest.mark.parametrize(
    ("change", "place", "message"),
    [
        (LineChange(line_number=3, units=1), None, "has no line 3"),
        (LineChange(line_number=1, units=0), None, "line 1: units must be a positive whole number"),
        (LineChange(line_number=1, modifiers="HN:95:GT:59:76"), None, "At most 4 modifiers"),
        (LineChange(line_number=1, modifiers="H!"), None, "Modifiers are two letters or digits each"),
        (LineChange(line_number=1, diagnosis_pointers="3"), None, "point at 1 to 4 of the claim's diagnoses (1-2)"),
        (LineChange(line_number=1, diagnosis_pointers=""), None, "point at 1 to 4"),
        (LineChange(line_number=1), "00", "'00' is not a place-of-service code"),
    ],
)
def test_bad_edits_are_refused_and_change_nothing(two_line_claim, change, place, message):
    claim = two_line_claim
    rows = len(history(claim))
    with pytest.raises(ValidationFailed, match=re.escape(message)):
        edit_claim(claim, actor=SYSTEM, lines=[change], place_of_service=place)
    assert [(ln.units, ln.modifiers, ln.diagnosis_pointers) for ln in claim.lines] == [(4, "", "1:2"), (2, "", "1:2")]
    assert (claim.place_of_service, claim.total_charge, len(history(claim))) == ("11", Decimal("110.22"), rows)


@pytest.mark.parametrize("status", [*SENT, ClaimStatus.VOIDED])
def test_edit_after_submission_is_refused_pointing_to_a_corrected_claim(two_line_claim, status):
    claim = walk_to(two_line_claim, status)
    rows = len(history(claim))
    with pytest.raises(BillingError) as refused:
        edit_claim(claim, actor=SYSTEM, lines=[LineChange(line_number=1, units=1)])
    assert refused.value.message == (
        f"Claim {claim.number} is {status.label} and read-only; create a corrected claim to change it."
    )
    assert (claim.lines[0].units, claim.total_charge, len(history(claim))) == (4, Decimal("110.22"), rows)


# Corrected claims


@pytest.mark.parametrize("status", SENT)
def test_correct_claim_creates_a_linked_frequency_7_copy(two_line_claim, status):
    original = walk_to(two_line_claim, status)
    original_rows = [(h.action, h.to_status) for h in history(original)]

    copy = correct_claim(original, actor=SYSTEM, reason="wrong units", payer_claim_number=" 2026123456789 ")
    db.session.flush()

    assert (copy.frequency_code, copy.original_claim_id, copy.payer_claim_number) == ("7", original.id, "2026123456789")
    assert copy.status is ClaimStatus.READY
    assert copy.id != original.id
    fields = ("line_number", "session_id", "service_code_id", "units", "rate", "charge", "diagnosis_pointers")
    assert [tuple(getattr(ln, k) for k in fields) for ln in copy.lines] == [
        tuple(getattr(ln, k) for k in fields) for ln in original.lines
    ]
    assert {ln.id for ln in copy.lines}.isdisjoint({ln.id for ln in original.lines})
    assert [d.code for d in copy.diagnoses] == ["F840", "F900"]
    assert copy.total_charge == original.total_charge == Decimal("110.22")
    # The original keeps its status and its history, plus one row saying what replaced it.
    assert original.status is status
    assert original.payer_claim_number == "2026123456789"
    assert [(h.action, h.to_status) for h in history(original)] == [
        *original_rows,
        (AuditAction.CLAIM_CORRECTED, status.value),
    ]
    assert history(original)[-1].data == {"corrected_by": copy.number}
    [opened] = history(copy)
    assert (opened.action, opened.to_status, opened.reason) == (
        AuditAction.CLAIM_CREATED,
        "ready",
        f"Corrects {original.number}: wrong units",
    )


def test_the_correction_is_live_and_the_original_is_not(two_line_claim):
    original = walk_to(two_line_claim, ClaimStatus.DENIED)
    assert original.id in _live_ids()
    copy = correct_claim(original, actor=SYSTEM, reason="fix", payer_claim_number="PCN1")
    db.session.flush()
    assert copy.id in _live_ids()
    assert original.id not in _live_ids()
    assert claim_locking(original.lines[0].session_id) == copy

    void_claim(copy, reason="wrong fix", actor=SYSTEM)  # voiding the correction makes the original live again
    db.session.flush()
    assert original.id in _live_ids()
    assert copy.void_to_send is False


def test_the_correction_is_editable_and_the_original_stays_as_it_was(two_line_claim):
    original = walk_to(two_line_claim, ClaimStatus.SUBMITTED)
    copy = correct_claim(original, actor=SYSTEM, reason="fix", payer_claim_number="PCN1")
    edit_claim(copy, actor=SYSTEM, lines=[LineChange(line_number=1, units=5)])
    assert (copy.lines[0].units, copy.total_charge) == (5, Decimal("128.59"))
    assert (original.lines[0].units, original.total_charge) == (4, Decimal("110.22"))


def test_a_correction_uses_the_payer_claim_number_on_file(two_line_claim):
    original = walk_to(two_line_claim, ClaimStatus.PAID)
    original.payer_claim_number = "ON-FILE-1"
    assert correct_claim(original, actor=SYSTEM, reason="fix").payer_claim_number == "ON-FILE-1"


@pytest.mark.parametrize("number", [None, "", "   "])
def test_a_correction_requires_the_payer_claim_number(two_line_claim, number):
    original = walk_to(two_line_claim, ClaimStatus.DENIED)
    with pytest.raises(ValidationFailed, match="REF\\*F8") as refused:
        correct_claim(original, actor=SYSTEM, reason="fix", payer_claim_number=number)
    assert refused.value.problems[0].field == "payer_claim_number"
    assert db.session.scalar(select(Claim).where(Claim.original_claim_id == original.id)) is None


def test_a_correction_requires_a_reason(two_line_claim):
    original = walk_to(two_line_claim, ClaimStatus.DENIED)
    with pytest.raises(ValidationFailed, match="A corrected claim needs a reason"):
        correct_claim(original, actor=SYSTEM, reason=" ", payer_claim_number="PCN1")


def test_a_second_live_correction_is_refused(two_line_claim):
    original = walk_to(two_line_claim, ClaimStatus.DENIED)
    first = correct_claim(original, actor=SYSTEM, reason="fix", payer_claim_number="PCN1")
    db.session.flush()
    with pytest.raises(BillingError, match=f"Claim {original.number} already has a corrected claim in progress"):
        correct_claim(original, actor=SYSTEM, reason="again", payer_claim_number="PCN1")
    assert db.session.scalars(select(Claim.id).where(Claim.original_claim_id == original.id)).all() == [first.id]

    retract_claim(first, actor=SYSTEM)  # once the first correction is withdrawn, a new one may start
    db.session.flush()
    second = correct_claim(original, actor=SYSTEM, reason="again", payer_claim_number="PCN1")
    assert second.original_claim_id == original.id


def test_a_claim_replaced_by_a_live_correction_is_not_voided(two_line_claim):
    """Voiding the middle of a correction chain would revive the first claim and bill its sessions twice."""
    first = walk_to(two_line_claim, ClaimStatus.SUBMITTED)
    second = walk_to(correct_claim(first, actor=SYSTEM, reason="fix", payer_claim_number="PCN1"),
                     ClaimStatus.SUBMITTED)
    third = correct_claim(second, actor=SYSTEM, reason="fix again")
    db.session.flush()
    with pytest.raises(BillingError, match=f"replaced by corrected claim {third.number}; void {third.number}"):
        void_claim(second, reason="billed in error", actor=SYSTEM)
    assert second.status is ClaimStatus.SUBMITTED
    void_claim(third, reason="billed in error", actor=SYSTEM)  # the live one may go; the chain stays consistent
    db.session.flush()
    live = set(db.session.scalars(select(Claim.id).where(live_claim_filter())))
    assert live & {first.id, second.id, third.id} == {second.id}


@pytest.mark.parametrize("status", [*UNSENT, ClaimStatus.VOIDED])
def test_an_unsent_claim_is_edited_not_corrected(two_line_claim, status):
    claim = walk_to(two_line_claim, status)
    with pytest.raises(BillingError, match="was not sent to the payer; edit it instead of correcting it"):
        correct_claim(claim, actor=SYSTEM, reason="fix", payer_claim_number="PCN1")


# Resubmit


def test_resubmit_puts_a_denied_claim_back_to_ready(world):
    claim = walk_to(world.claim(), ClaimStatus.DENIED)
    resubmit_claim(claim, actor=SYSTEM, reason="payer fixed eligibility")
    assert claim.status is ClaimStatus.READY
    row = history(claim)[-1]
    assert (row.action, row.from_status, row.to_status, row.reason) == (
        AuditAction.CLAIM_RESUBMITTED,
        "denied",
        "ready",
        "payer fixed eligibility",
    )


@pytest.mark.parametrize("status", [s for s in ClaimStatus if s is not ClaimStatus.DENIED])
def test_only_a_denied_claim_is_resubmitted(world, status):
    claim = walk_to(world.claim(), status)
    rows = len(history(claim))
    with pytest.raises(BillingError) as refused:
        resubmit_claim(claim, actor=SYSTEM)
    assert refused.value.message == f"Only denied claims are resubmitted; claim {claim.number} is {status.label}."
    assert (claim.status, len(history(claim))) == (status, rows)


def test_a_denied_claim_replaced_by_a_live_correction_is_not_resubmitted(two_line_claim):
    """Resubmitting it too would bill the payer twice for the same sessions."""
    original = walk_to(two_line_claim, ClaimStatus.DENIED)
    copy = correct_claim(original, actor=SYSTEM, reason="fix", payer_claim_number="PCN1")
    db.session.flush()
    with pytest.raises(BillingError) as refused:
        resubmit_claim(original, actor=SYSTEM)
    assert refused.value.message == (
        f"Claim {original.number} was replaced by corrected claim {copy.number}; "
        "resubmitting it too would bill the same services twice."
    )
    assert (original.status, len(history(original))) == (ClaimStatus.DENIED, 4)

    void_claim(copy, reason="the denial was the payer's mistake", actor=SYSTEM)
    db.session.flush()
    resubmit_claim(original, actor=SYSTEM)
    assert original.status is ClaimStatus.READY
