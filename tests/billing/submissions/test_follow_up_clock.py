"""The follow-up clock the database keeps per waiting claim (billing/submissions/follow_up_clock.py): each code path
that moves a clock moves the row, the ledger check finds a row that parted from the history, and the row is never
written by the application."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from billing.claims.statuses import ClaimStatus, transition
from billing.core.audit import AuditAction
from billing.core.db import db
from billing.core.derived import DerivedTable
from billing.core.time import practice_date
from billing.ledger.models import Adjudication, EntrySource
from billing.payments.invariants import CHECKS
from billing.payments.posting import post_adjudication
from billing.payments.reversals import reverse_adjudication
from billing.submissions.claim_status_models import ClaimStatusResponse, StatusOutcome, StatusResponseFile
from billing.submissions.follow_up import add_note, last_heard_from_payer, last_sent
from billing.submissions.follow_up_check import follow_up_clocks_kept
from billing.submissions.follow_up_models import ClaimFollowUpClock
from billing.submissions.models import AckKind, Acknowledgment, AckOutcome, ClaimAcknowledgment
from tests.worlds.claims import submitted_claim, walk_to
from tests.worlds.payments import full_payment
from tests.worlds.practice import SYSTEM

MANUAL = EntrySource.MANUAL


def _clock(claim) -> ClaimFollowUpClock | None:
    db.session.flush()
    db.session.expire_all()
    return db.session.get(ClaimFollowUpClock, claim.id)


def _adjudicated(claim, on: date, paid: Decimal = Decimal(0)) -> None:
    db.session.add(Adjudication(claim_id=claim.id, payer_id=claim.payer_id, source=MANUAL, status_code="1",
                                charge=claim.total_charge, paid=paid, patient_responsibility=Decimal(0), paid_on=on))
    db.session.flush()


def _acknowledged(claim, kind: AckKind, on: date | None) -> None:
    ack = Acknowledgment(kind=kind, file_name=f"ack-{kind.value}-{on}", sha256=f"{kind.value}{on}".ljust(64, "0"),
                         content="", imported_by="test")
    db.session.add(ack)
    db.session.flush()
    db.session.add(ClaimAcknowledgment(acknowledgment_id=ack.id, claim_id=claim.id, claim_reference=claim.number,
                                       outcome=AckOutcome.ACCEPTED, effective_on=on))
    db.session.flush()


def _answered_277(claim, outcome: StatusOutcome, on: date) -> None:
    name = f"277-{claim.id}-{on}-{outcome.value}"
    file = StatusResponseFile(file_name=name, sha256=name.ljust(64, "0"), content="",
                              imported_by="test")
    db.session.add(file)
    db.session.flush()
    db.session.add(ClaimStatusResponse(file_id=file.id, claim_id=claim.id, claim_reference=claim.number,
                                       outcome=outcome, heard_on=on))
    db.session.flush()


def test_sending_a_claim_starts_its_clock_and_an_answer_ends_it(world):
    ready = world.claim()
    assert _clock(ready) is None  # not waiting at a payer yet
    claim = walk_to(ready, ClaimStatus.SUBMITTED)
    clock = _clock(claim)
    assert clock is not None
    assert practice_date(clock.sent_at) == last_sent([claim.id])[claim.id]
    assert clock.since_at == max(clock.sent_at, claim.created_at)
    assert (clock.heard_on, clock.next_on, clock.payer_id, clock.location_id) == (
        None, None, claim.payer_id, claim.location_id)
    transition(claim, ClaimStatus.PAID, action=AuditAction.CLAIM_PAID, actor=SYSTEM, reason="paid")
    assert _clock(claim) is None
    assert follow_up_clocks_kept() == []


def test_an_835_payment_ends_the_clock_and_a_clawback_reopening_the_claim_starts_it_again(world):
    claim = submitted_claim(world)
    first_sent = _clock(claim).sent_at
    posted = post_adjudication(claim, full_payment(claim), actor=SYSTEM, source=MANUAL)
    db.session.flush()
    assert claim.status is ClaimStatus.PAID
    assert _clock(claim) is None
    reverse_adjudication(posted.adjudication, actor=SYSTEM, reason="payer letter", posted_on=date(2026, 4, 3),
                         source=MANUAL)
    db.session.flush()
    assert claim.status is ClaimStatus.SUBMITTED
    clock = _clock(claim)
    assert clock is not None
    assert clock.sent_at >= first_sent
    # The payment and its reversal are the payer's word: both are adjudications.
    assert clock.heard_on == last_heard_from_payer([claim.id])[claim.id]
    assert follow_up_clocks_kept() == []


def test_the_payers_word_moves_heard_on_but_a_999_and_a_277_not_found_do_not(world):
    claim = walk_to(world.claim(), ClaimStatus.SUBMITTED)
    day = practice_date(_clock(claim).since_at)
    _acknowledged(claim, AckKind.IMPLEMENTATION, day + timedelta(days=1))
    assert _clock(claim).heard_on is None
    _acknowledged(claim, AckKind.CLAIM, day + timedelta(days=2))
    assert _clock(claim).heard_on == day + timedelta(days=2)
    _adjudicated(claim, day + timedelta(days=4))
    assert claim.status is ClaimStatus.SUBMITTED
    assert _clock(claim).heard_on == day + timedelta(days=4)
    _answered_277(claim, StatusOutcome.NOT_FOUND, day + timedelta(days=9))
    assert _clock(claim).heard_on == day + timedelta(days=4)
    _answered_277(claim, StatusOutcome.PENDING, day + timedelta(days=7))
    assert _clock(claim).heard_on == day + timedelta(days=7)
    _adjudicated(claim, day + timedelta(days=5))  # an older word changes nothing
    assert _clock(claim).heard_on == day + timedelta(days=7)
    assert follow_up_clocks_kept() == []


def test_a_next_date_stands_until_the_payer_speaks_after_the_day_it_was_set(world):
    claim = walk_to(world.claim(), ClaimStatus.SUBMITTED)
    today = practice_date(_clock(claim).since_at)
    add_note(claim, "Called; in process.", next_follow_up_on=today + timedelta(days=30), actor=SYSTEM, today=today)
    assert _clock(claim).next_on == today + timedelta(days=30)
    add_note(claim, "No date this time.", next_follow_up_on=None, actor=SYSTEM, today=today)
    assert _clock(claim).next_on == today + timedelta(days=30)
    _adjudicated(claim, today)  # the payer's word on the day it was set: the date still stands
    assert _clock(claim).next_on == today + timedelta(days=30)
    _adjudicated(claim, today + timedelta(days=1))
    assert _clock(claim).next_on is None
    assert follow_up_clocks_kept() == []


def test_the_check_names_a_claim_whose_kept_clock_parted_from_its_history(world):
    claim = walk_to(world.claim(), ClaimStatus.SUBMITTED)
    other = walk_to(world.claim(day=claim.service_date - timedelta(days=1)), ClaimStatus.SUBMITTED)
    assert CHECKS["follow-up-clock"] is follow_up_clocks_kept
    db.session.flush()
    db.session.execute(text("UPDATE claim_follow_up_clock SET heard_on = :day WHERE claim_id = :id"),
                       {"day": date(2020, 1, 1), "id": claim.id})
    db.session.execute(text("DELETE FROM claim_follow_up_clock WHERE claim_id = :id"), {"id": other.id})
    violations = follow_up_clocks_kept()
    assert sorted(v.subject for v in violations) == sorted([claim.number, other.number])
    assert all(v.check == "follow-up-clock" for v in violations)


def test_the_application_never_writes_a_clock(world):
    claim = walk_to(world.claim(), ClaimStatus.SUBMITTED)
    clock = _clock(claim)
    clock.heard_on = date(2020, 1, 1)
    with pytest.raises(DerivedTable), db.session.begin_nested():
        db.session.flush()


def test_only_waiting_claims_have_a_clock(world):
    claim = walk_to(world.claim(), ClaimStatus.SUBMITTED)
    ready = world.claim(day=claim.service_date - timedelta(days=1))
    db.session.flush()
    kept = set(db.session.scalars(select(ClaimFollowUpClock.claim_id)))
    assert claim.id in kept
    assert ready.id not in kept
