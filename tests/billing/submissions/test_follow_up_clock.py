"""The follow-up clock the database keeps per waiting claim (billing/submissions/follow_up_clock.py): each code path
that moves a clock moves the row, the ledger check finds a row that parted from the history, and the row is never
written by the application."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from importlib import import_module

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from billing.claims.statuses import ClaimStatus, transition
from billing.core.audit import AuditAction, StatusChange
from billing.core.db import db, utcnow
from billing.core.derived import DerivedTable
from billing.core.time import practice_date
from billing.ledger.models import Adjudication, EntrySource
from billing.org.queries import Scope
from billing.payments.invariants import CHECKS
from billing.payments.posting import post_adjudication
from billing.payments.reversals import reverse_adjudication
from billing.submissions import follow_up_clock as clock_sql
from billing.submissions.claim_status_models import ClaimStatusResponse, StatusOutcome, StatusResponseFile
from billing.submissions.follow_up import (
    add_note,
    due_on,
    follow_up_count,
    follow_up_queue,
    last_heard_from_payer,
    last_sent,
)
from billing.submissions.follow_up_check import follow_up_clocks_kept
from billing.submissions.follow_up_models import ClaimFollowUp, ClaimFollowUpClock
from billing.submissions.models import AckKind, Acknowledgment, AckOutcome, ClaimAcknowledgment
from tests.worlds.claims import submitted_claim, walk_to
from tests.worlds.payments import full_payment
from tests.worlds.practice import SYSTEM, build_world

MANUAL = EntrySource.MANUAL
FILES = itertools.count()  # file names (and their sha256) are unique


def _clock(claim) -> ClaimFollowUpClock | None:
    db.session.flush()
    db.session.expire_all()
    return db.session.get(ClaimFollowUpClock, claim.id)


def _adjudicated(claim, on: date, paid: Decimal = Decimal(0)) -> None:
    db.session.add(Adjudication(claim_id=claim.id, payer_id=claim.payer_id, source=MANUAL, status_code="1",
                                charge=claim.total_charge, paid=paid, patient_responsibility=Decimal(0), paid_on=on))
    db.session.flush()


def _acknowledged(claim, kind: AckKind, on: date | None) -> None:
    name = f"ack-{kind.value}-{next(FILES)}"
    ack = Acknowledgment(kind=kind, file_name=name, sha256=name.ljust(64, "0"), content="", imported_by="test")
    db.session.add(ack)
    db.session.flush()
    db.session.add(ClaimAcknowledgment(acknowledgment_id=ack.id, claim_id=claim.id, claim_reference=claim.number,
                                       outcome=AckOutcome.ACCEPTED, effective_on=on))
    db.session.flush()


def _answered_277(claim, outcome: StatusOutcome, on: date) -> None:
    name = f"277-{next(FILES)}"
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


# --- the queue and the count against the history, worked out apart -------------------------------------------------

MINUTES = st.integers(min_value=0, max_value=60 * 24 * 60)  # up to 60 days after the first sending, to the minute
DAYS = st.integers(min_value=-5, max_value=60)
HISTORY = st.fixed_dictionaries({
    "created": MINUTES,
    "resent": st.lists(MINUTES, max_size=2),
    "paid_on": st.lists(DAYS, max_size=2),
    "acks": st.lists(st.tuples(st.sampled_from(list(AckKind)), DAYS), max_size=2),
    "answers": st.lists(st.tuples(st.sampled_from(list(StatusOutcome)), DAYS), max_size=2),
    "note": st.none() | st.tuples(MINUTES, st.integers(min_value=0, max_value=60)),
    "answered": st.booleans(),
})


def _expected(claims, days: int, today: date) -> dict[int, date]:
    """Per claim due on `today`, its due day, from the history alone (the rule as follow_up.due_on states it)."""
    ids = [c.id for c in claims if c.status is ClaimStatus.SUBMITTED]
    sent, heard = last_sent(ids), last_heard_from_payer(ids)
    due = {}
    for claim in claims:
        if claim.status is not ClaimStatus.SUBMITTED:
            continue
        since = max(d for d in (sent.get(claim.id), heard.get(claim.id), practice_date(claim.created_at)) if d)
        state = db.session.get(ClaimFollowUp, claim.id)
        next_on, set_at = (state.next_follow_up_on, state.next_set_at) if state else (None, None)
        day = due_on(since, days, next_on, practice_date(set_at) if set_at else None)
        if day <= today:
            due[claim.id] = day
    return due


def _lived(world, claim, history, start) -> None:
    """Give `claim` (Submitted now) the history drawn: its creation, later sendings, the payer's words, a note."""
    claim.created_at = start + timedelta(minutes=history["created"])
    for minutes in history["resent"]:
        db.session.add(StatusChange(actor="test", subject_type="claim", subject_id=claim.id, to_status="submitted",
                                    action=AuditAction.CLAIM_REOPENED, at=start + timedelta(minutes=minutes)))
    first_day = practice_date(start)
    for offset in history["paid_on"]:
        _adjudicated(claim, first_day + timedelta(days=offset))
    for kind, offset in history["acks"]:
        _acknowledged(claim, kind, first_day + timedelta(days=offset))
    for outcome, offset in history["answers"]:
        _answered_277(claim, outcome, first_day + timedelta(days=offset))
    if history["note"] is not None:
        minutes, ahead = history["note"]
        set_at = start + timedelta(minutes=minutes)
        add_note(claim, "Called.", next_follow_up_on=practice_date(set_at) + timedelta(days=ahead), actor=SYSTEM,
                 today=practice_date(set_at))
        db.session.get(ClaimFollowUp, claim.id).next_set_at = set_at
    if history["answered"]:
        transition(claim, ClaimStatus.DENIED, action=AuditAction.CLAIM_DENIED, actor=SYSTEM, reason="denied")
    db.session.flush()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(histories=st.lists(HISTORY, min_size=1, max_size=4), days=st.integers(min_value=1, max_value=45))
def test_the_queue_and_its_count_are_what_the_history_says(app, histories, days):
    with db.session.begin_nested() as example:
        world = build_world()
        world.payer.follow_up_days = days
        start = utcnow()
        claims = [walk_to(world.claim(day=date(2026, 3, 2) + timedelta(days=n)), ClaimStatus.SUBMITTED)
                  for n in range(len(histories))]
        for claim, history in zip(claims, histories, strict=True):
            _lived(world, claim, history, start)
        # Each waiting claim's due day, and the days either side of it: where an off-by-one would show.
        due_days = _expected(claims, days, date.max).values()
        looks = sorted({due + timedelta(days=step) for due in due_days for step in (-1, 0, 1)}
                       | {practice_date(start)})
        for today in looks:
            expected = _expected(claims, days, today)
            rows = follow_up_queue(Scope(), today=today)
            assert {row.claim_id: row.due_on for row in rows} == expected, today
            assert follow_up_count(Scope(), today=today) == len(expected)
        assert follow_up_clocks_kept() == []
        example.rollback()


# --- cost -------------------------------------------------------------------------------------------------------


def _statements(count_queries, work) -> list[str]:
    """The statements `work` sent (a copy: the counter goes on counting until the test ends)."""
    counter = count_queries()
    work()
    return list(counter.statements)


def test_the_count_and_the_queue_cost_the_same_statements_for_3_and_30_waiting_claims(world, count_queries):
    world.payer.follow_up_days = 20
    today = practice_date(utcnow()) + timedelta(days=20)

    def waiting(n: int, first_day: date) -> None:
        for k in range(n):
            walk_to(world.claim(day=first_day + timedelta(days=k)), ClaimStatus.SUBMITTED)
        db.session.flush()

    def costs() -> tuple[list[str], list[str], int]:
        count = _statements(count_queries, lambda: follow_up_count(Scope(), today=today))
        queue = _statements(count_queries, lambda: follow_up_queue(Scope(), today=today))
        return count, queue, follow_up_count(Scope(), today=today)

    waiting(3, date(2026, 3, 2))
    few_count, few_queue, few = costs()
    waiting(27, date(2026, 4, 1))
    many_count, many_queue, many = costs()
    assert (few, many) == (3, 30)
    assert len(few_count) == len(many_count) <= 2  # the payers' follow-up days, then one count
    assert len(few_queue) == len(many_queue)


def test_the_triggers_of_schemas_made_from_the_models_are_the_migrations_own():
    """create_all schemas get their triggers from the module; the migration froze the same SQL. A change to either
    needs a new migration that replaces the triggers."""
    migration = import_module("migrations.versions.b6e2d8f4a1c3_claim_follow_up_clock")
    assert [s for _, s in clock_sql.sqlite_statements()] == migration.SQLITE_TRIGGERS
    assert [s for _, s in clock_sql.postgresql_statements()] == migration.POSTGRESQL_STATEMENTS
    assert (clock_sql.backfill("sqlite"), clock_sql.backfill("postgresql")) == (
        migration.SQLITE_BACKFILL, migration.POSTGRESQL_BACKFILL)


def test_the_migrations_backfill_writes_the_rows_the_triggers_keep(world):
    sent = walk_to(world.claim(), ClaimStatus.SUBMITTED)
    noted = walk_to(world.claim(day=sent.service_date - timedelta(days=1)), ClaimStatus.SUBMITTED)
    today = practice_date(_clock(noted).since_at)
    add_note(noted, "Called.", next_follow_up_on=today + timedelta(days=9), actor=SYSTEM, today=today)
    _adjudicated(sent, today)
    world.claim(day=sent.service_date - timedelta(days=2))  # Ready: no row
    db.session.flush()
    kept = db.session.execute(text("SELECT * FROM claim_follow_up_clock ORDER BY claim_id")).all()
    migration = import_module("migrations.versions.b6e2d8f4a1c3_claim_follow_up_clock")
    db.session.execute(text("DELETE FROM claim_follow_up_clock"))
    postgresql = db.session.connection().dialect.name == "postgresql"
    db.session.execute(text(migration.POSTGRESQL_BACKFILL if postgresql else migration.SQLITE_BACKFILL))
    assert db.session.execute(text("SELECT * FROM claim_follow_up_clock ORDER BY claim_id")).all() == kept
    assert len(kept) == 2
    assert follow_up_clocks_kept() == []


def test_the_migration_gives_next_dates_already_set_their_day_as_the_application_does(world, monkeypatch):
    claim = walk_to(world.claim(), ClaimStatus.SUBMITTED)
    today = practice_date(_clock(claim).since_at)
    add_note(claim, "Called.", next_follow_up_on=today + timedelta(days=9), actor=SYSTEM, today=today)
    state = db.session.get(ClaimFollowUp, claim.id)
    state.next_set_at = datetime(2026, 12, 5, 3, 30, tzinfo=UTC)  # 9:30 p.m. on the 4th in Chicago
    db.session.flush()
    written = (state.next_set_on, state.next_set_day_ends_at)
    assert written == (date(2026, 12, 4), datetime(2026, 12, 5, 6, 0, tzinfo=UTC))
    db.session.execute(text("UPDATE claim_follow_up SET next_set_on = NULL, next_set_day_ends_at = NULL"))
    migration = import_module("migrations.versions.b6e2d8f4a1c3_claim_follow_up_clock")
    monkeypatch.setattr(migration.op, "get_bind", lambda: db.session.connection(), raising=False)
    migration._set_days(db.session.connection().dialect.name == "postgresql")
    db.session.expire_all()
    state = db.session.get(ClaimFollowUp, claim.id)
    assert (state.next_set_on, state.next_set_day_ends_at) == written
