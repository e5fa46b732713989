"""The follow-up queue: who is in it and when, notes as history, assignment, and the front page's count.

Days are counted from the claim's own sending day as the database recorded it, never from the clock.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from billing.claims.statuses import ClaimStatus, transition
from billing.core.audit import AuditAction
from billing.core.db import db
from billing.core.errors import NotAllowed, ValidationFailed
from billing.ledger.models import Adjudication, EntrySource
from billing.org.queries import Scope
from billing.people.models import Role
from billing.submissions.follow_up import add_note, assign, follow_up_count, follow_up_queue, last_sent, notes_of
from billing.submissions.follow_up_models import NotesAreAppendOnly
from billing.submissions.models import AckKind, Acknowledgment, AckOutcome, ClaimAcknowledgment
from tests.worlds import factories as f
from tests.worlds.claims import history, walk_to
from tests.worlds.practice import SYSTEM, build_world


@pytest.fixture
def world():
    world = build_world()
    world.payer.follow_up_days = 20
    return world


def _sent(world):
    claim = walk_to(world.claim(), ClaimStatus.SUBMITTED)
    return claim, last_sent([claim.id])[claim.id]


def _queue(today, **kwargs):
    """The queue's claims; the front page's count, worked out apart from the rows, is always its length."""
    ids = [row.claim_id for row in follow_up_queue(Scope(), today=today, **kwargs)]
    if not kwargs:
        assert follow_up_count(Scope(), today=today) == len(ids)
    return ids


def _answered(claim, on):
    db.session.add(Adjudication(claim_id=claim.id, payer_id=claim.payer_id, source=EntrySource.MANUAL,
                                status_code="1", charge=claim.total_charge, paid=Decimal(0),
                                patient_responsibility=Decimal(0), paid_on=on))
    db.session.flush()


def test_a_silent_submitted_claim_joins_after_the_payers_follow_up_days(world):
    claim, sent = _sent(world)
    world.claim(day=claim.service_date - timedelta(days=1))  # Ready: never sent
    assert _queue(sent + timedelta(days=19)) == []
    assert _queue(sent + timedelta(days=20)) == [claim.id]
    [row] = follow_up_queue(Scope(), today=sent + timedelta(days=20))
    assert (row.sent_on, row.due_on, row.assignee, row.last_note) == (sent, sent + timedelta(days=20), None, None)


def test_the_payers_word_restarts_the_clock_and_an_answer_takes_the_claim_out(world):
    claim, sent = _sent(world)
    _answered(claim, sent + timedelta(days=5))
    assert _queue(sent + timedelta(days=24)) == []
    assert _queue(sent + timedelta(days=25)) == [claim.id]
    transition(claim, ClaimStatus.PAID, action=AuditAction.CLAIM_PAID, actor=SYSTEM, reason="paid")
    assert _queue(sent + timedelta(days=100)) == []


def _acknowledged(claim, kind, on, outcome=AckOutcome.ACCEPTED):
    ack = Acknowledgment(kind=kind, file_name=f"ack-{kind.value}-{on}", sha256=f"{kind.value}{on}".ljust(64, "0"),
                         content="", imported_by="test")
    db.session.add(ack)
    db.session.flush()
    db.session.add(ClaimAcknowledgment(acknowledgment_id=ack.id, claim_id=claim.id, claim_reference=claim.number,
                                       outcome=outcome, effective_on=on))
    db.session.flush()


def test_a_277ca_is_the_payers_word_and_restarts_the_clock_but_a_999_is_not(world):
    claim, sent = _sent(world)
    _acknowledged(claim, AckKind.IMPLEMENTATION, sent + timedelta(days=1))  # the clearinghouse on the file
    assert _queue(sent + timedelta(days=20)) == [claim.id]
    _acknowledged(claim, AckKind.CLAIM, sent + timedelta(days=3), AckOutcome.INFORMATION)  # pended by the payer
    assert _queue(sent + timedelta(days=22)) == []
    assert _queue(sent + timedelta(days=23)) == [claim.id]


def test_a_note_with_a_next_date_takes_the_claim_out_until_that_day(world):
    claim, sent = _sent(world)
    today = sent + timedelta(days=21)
    note = add_note(claim, "Called payer, claim in process.", next_follow_up_on=today + timedelta(days=7),
                    actor=SYSTEM, today=today)
    assert _queue(today) == []
    assert _queue(today + timedelta(days=7)) == [claim.id]
    [row] = follow_up_queue(Scope(), today=today + timedelta(days=7))
    assert row.last_note == "Called payer, claim in process."
    assert [n.id for n in notes_of(claim)] == [note.id]
    assert [h.action for h in history(claim)][-1] is AuditAction.FOLLOW_UP_NOTED


def test_a_next_date_set_before_the_payers_latest_word_no_longer_counts(world):
    claim, sent = _sent(world)
    add_note(claim, "Call back in two months.", next_follow_up_on=sent + timedelta(days=60), actor=SYSTEM,
             today=sent)
    _answered(claim, sent + timedelta(days=3))  # the payer spoke after the note (a reversal reopened it, say)
    assert _queue(sent + timedelta(days=23)) == [claim.id]


def test_notes_are_append_only_and_checked(world):
    claim, sent = _sent(world)
    note = add_note(claim, "First call.", next_follow_up_on=None, actor=SYSTEM, today=sent)
    note.text = "rewritten"
    with pytest.raises(NotesAreAppendOnly), db.session.begin_nested():
        db.session.flush()
    with pytest.raises(ValidationFailed) as refused:
        add_note(claim, "  ", next_follow_up_on=sent - timedelta(days=1), actor=SYSTEM, today=sent)
    assert [p.field for p in refused.value.problems] == ["text", "next_follow_up_on"]


def test_only_a_submitted_claim_is_followed_up(world):
    ready = world.claim()
    with pytest.raises(NotAllowed, match="only a claim waiting at the payer"):
        add_note(ready, "x", next_follow_up_on=None, actor=SYSTEM, today=ready.service_date)


def test_assignment_to_a_biller_filters_the_queue_and_an_accountant_is_refused(world):
    claim, sent = _sent(world)
    other, _ = _sent(world)
    biller = f.UserFactory(role=Role.BILLER, name="Bea Biller")
    assign(claim, biller, actor=SYSTEM)
    today = sent + timedelta(days=20)
    assert _queue(today, assignee_id=biller.id) == [claim.id]
    assert sorted(_queue(today)) == sorted([claim.id, other.id])
    assert follow_up_queue(Scope(), today=today, assignee_id=biller.id)[0].assignee == "Bea Biller"
    with pytest.raises(ValidationFailed) as refused:
        assign(claim, f.UserFactory(role=Role.ACCOUNTANT), actor=SYSTEM)
    assert [p.field for p in refused.value.problems] == ["assignee"]
    assign(claim, None, actor=SYSTEM)
    assert _queue(today, assignee_id=biller.id) == []
