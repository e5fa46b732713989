"""The follow-up queue: sent claims the payer has not answered for longer than the payer's `follow_up_days`.

A Submitted claim is due for follow-up `follow_up_days` after the later of the day it was last sent and the
day the payer last said something about it (`last_heard_from_payer`). A biller's note can set the next
follow-up date: the claim leaves the queue until then, and comes back on that day if the payer is still
silent. A date set before the payer's latest word no longer counts (the payer's word restarts the clock).
A claim leaves for good when it is answered (Paid, Denied, Rejected...): only Submitted claims are followed up.

What decides each waiting claim's due day is kept by the database (billing/submissions/follow_up_clock.py), so the
queue and the front page's count read the due claims from indexes; `last_sent` and `last_heard_from_payer` work
the same clocks out from the history, for the claim pages and the checks.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import Select, func, or_, select, union_all

from billing.claims.models import Claim, claim_number
from billing.claims.queries import lock_claim
from billing.claims.statuses import ClaimStatus
from billing.core.audit import Actor, AuditAction, StatusChange, record_change
from billing.core.db import db, utcnow
from billing.core.errors import NotAllowed, Problem, raise_if
from billing.core.id_lists import any_of
from billing.core.time import practice_date, practice_timezone
from billing.coverage.models import Payer, PayerType
from billing.ledger.models import Adjudication
from billing.org.queries import Scope, by_location
from billing.people.models import Client, Role, User
from billing.submissions.claim_status_models import ClaimStatusResponse
from billing.submissions.claim_status_queries import answered_on, latest_answers
from billing.submissions.follow_up_models import NOTE_MAX, ClaimFollowUp, ClaimFollowUpClock, FollowUpNote
from billing.submissions.models import AckKind, Acknowledgment, ClaimAcknowledgment

CHUNK = 2000  # ids per IN list: well under SQLite's bound-parameter limit
#: Who can be working a claim: the people who may act on claims (admin_views.permissions, Area.CLAIMS).
ASSIGNABLE = frozenset({Role.BILLER, Role.ADMIN})
#: How far ahead a next follow-up date may be: a payer that needs longer is a case for an appeal, not a note.
MAX_AHEAD_DAYS = 365


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    return (ids[start:start + CHUNK] for start in range(0, len(ids), CHUNK))


def last_heard_from_payer(claim_ids: Iterable[int]) -> dict[int, date]:
    """Per claim, the latest day the payer said anything about it: an adjudication (835 or EOB, reversals too),
    a 277CA about it (an acceptance, a pended "more to come"; a rejection moves the claim out of Submitted), or a
    277 claim status answer (pending, finalized, denied; not "not found" or "cannot answer", which need a person).

    A 999 is the clearinghouse's word on the file, not the payer's on the claim, so it does not count.
    """
    heard: dict[int, date] = {}
    for ids in _chunks(list(claim_ids)):
        paid = (select(Adjudication.claim_id, func.max(Adjudication.paid_on))
                .where(any_of(Adjudication.claim_id, ids)).group_by(Adjudication.claim_id))
        acked = (select(ClaimAcknowledgment.claim_id, func.max(ClaimAcknowledgment.effective_on))
                 .join(Acknowledgment, Acknowledgment.id == ClaimAcknowledgment.acknowledgment_id)
                 .where(any_of(ClaimAcknowledgment.claim_id, ids), Acknowledgment.kind == AckKind.CLAIM,
                        ClaimAcknowledgment.effective_on.is_not(None))
                 .group_by(ClaimAcknowledgment.claim_id))
        for claim_id, day in [*db.session.execute(paid), *db.session.execute(acked), *answered_on(ids).items()]:
            heard[claim_id] = max(day, heard.get(claim_id, day))
    return heard


def last_sent(claim_ids: Iterable[int]) -> dict[int, date]:
    """Per claim, the practice's day it last became Submitted (a batch sent it, or a clawback reopened it)."""
    sent: dict[int, date] = {}
    for ids in _chunks(list(claim_ids)):
        query = (select(StatusChange.subject_id, func.max(StatusChange.at))
                 .where(StatusChange.subject_type == "claim", any_of(StatusChange.subject_id, ids),
                        StatusChange.to_status == ClaimStatus.SUBMITTED.value)
                 .group_by(StatusChange.subject_id))
        sent.update({claim_id: practice_date(moment) for claim_id, moment in db.session.execute(query)})
    return sent


@dataclass(frozen=True)
class FollowUpRow:
    claim_id: int
    number: str
    client: str
    payer: str
    service_date: date
    total_charge: Decimal
    sent_on: date | None
    last_heard_on: date | None
    due_on: date
    assignee: str | None
    assignee_id: int | None
    last_note: str | None
    #: The newest 277 answer in words ("Pending: in process ..."), when the payer was asked.
    payer_says: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {"claim_id": self.claim_id, "claim": self.number, "client": self.client, "payer": self.payer,
                "service_date": self.service_date.isoformat(), "total_charge": str(self.total_charge),
                "sent_on": _iso(self.sent_on), "last_heard_on": _iso(self.last_heard_on),
                "due_on": self.due_on.isoformat(), "assignee": self.assignee, "assignee_id": self.assignee_id,
                "last_note": self.last_note, "payer_says": self.payer_says}


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def due_on(since: date, follow_up_days: int, next_follow_up_on: date | None, next_set_on: date | None) -> date:
    """When a silent claim is due: the biller's next date if set since the payer's last word, else the payer's
    follow-up days after that word (or the sending)."""
    if next_follow_up_on is not None and next_set_on is not None and next_set_on >= since:
        return next_follow_up_on
    return since + timedelta(days=follow_up_days)


def _day_starts(day: date) -> datetime:
    """The UTC moment the practice's `day` begins."""
    return datetime.combine(day, time.min, practice_timezone()).astimezone(UTC)


def _due_branches(scope: Scope, today: date) -> list[Select[tuple[int]]]:
    """SELECTs of the ids of the claims due for follow-up on `today`, one per way of being due, disjoint.

    Each reads one of claim_follow_up_clock's partial indexes (billing/submissions/follow_up_clock.py): the claims
    whose standing next date has come, and per payer follow-up days, the claims silent since the start of
    (today - days + 1) whose payer's last word is that old too.
    """
    clock = ClaimFollowUpClock
    paid_by_payer = [Payer.payer_type != PayerType.SELF_PAY, by_location(clock.location_id, scope)]
    branches = [select(clock.claim_id).join(Payer, Payer.id == clock.payer_id)
                .where(clock.next_on.is_not(None), clock.next_on <= today, *paid_by_payer)]
    all_days = db.session.scalars(select(Payer.follow_up_days).where(Payer.payer_type != PayerType.SELF_PAY)
                                  .distinct()).all()
    for days in sorted(all_days):
        heard_by = today - timedelta(days=days)
        branches.append(
            select(clock.claim_id).join(Payer, Payer.id == clock.payer_id)
            .where(Payer.follow_up_days == days, clock.next_on.is_(None),
                   clock.since_at < _day_starts(heard_by + timedelta(days=1)),
                   or_(clock.heard_on.is_(None), clock.heard_on <= heard_by), *paid_by_payer))
    return branches


def _due_day(since_at: datetime, heard_on: date | None, next_on: date | None, days: int) -> date:
    """A due claim's due day from its kept clocks: the next date while it counts (the clock keeps it only then),
    else the payer's follow-up days after the later of the sending and the payer's last word."""
    if next_on is not None:
        return next_on
    return max(d for d in (practice_date(since_at), heard_on) if d is not None) + timedelta(days=days)


@dataclass(frozen=True)
class FollowUpQueue:
    """The claims due for follow-up today in the queue's order (the longest overdue first, then by claim), sorted
    from their kept clocks alone; the rows a person reads are built a page at a time (`rows`)."""

    order: list[tuple[date, int]]  # (due day, claim id)

    def __len__(self) -> int:
        return len(self.order)

    @property
    def claim_ids(self) -> list[int]:
        return [claim_id for _due, claim_id in self.order]

    def rows(self, first: int = 0, size: int | None = None) -> list[FollowUpRow]:
        """Rows `first` to `first + size` (all from `first` without a size), with names, notes and answers."""
        return _rows(self.claim_ids[first:None if size is None else first + size])


def due_for_follow_up(scope: Scope, *, today: date, assignee_id: int | None = None) -> FollowUpQueue:
    """The claims due for follow-up today in the scope; optionally one person's."""
    clock = ClaimFollowUpClock
    due_ids = union_all(*_due_branches(scope, today)).subquery()
    query = (select(clock.claim_id, clock.since_at, clock.heard_on, clock.next_on, Payer.follow_up_days)
             .join(Payer, Payer.id == clock.payer_id).where(clock.claim_id.in_(select(due_ids.c[0]))))
    if assignee_id is not None:
        query = (query.join(ClaimFollowUp, ClaimFollowUp.claim_id == clock.claim_id)
                 .where(ClaimFollowUp.assignee_id == assignee_id))
    return FollowUpQueue(sorted((_due_day(since_at, heard_on, next_on, days), claim_id)
                                for claim_id, since_at, heard_on, next_on, days in db.session.execute(query)))


def follow_up_queue(scope: Scope, *, today: date, assignee_id: int | None = None) -> list[FollowUpRow]:
    """Submitted claims due for follow-up today, the longest overdue first, every row; optionally one person's."""
    return due_for_follow_up(scope, today=today, assignee_id=assignee_id).rows()


def _rows(ids: list[int]) -> list[FollowUpRow]:
    """The queue's rows for the claims `ids`, in that order (one answered meanwhile is left out)."""
    clock = ClaimFollowUpClock
    details = {}
    for chunk in _chunks(ids):
        details.update((row[0], row) for row in db.session.execute(
            select(clock.claim_id, clock.sent_at, clock.since_at, clock.heard_on, clock.next_on, Client.last_name,
                   Client.first_name, Payer.name, Payer.follow_up_days, Claim.service_date, Claim.total_charge)
            .join(Claim, Claim.id == clock.claim_id)
            .join(Client, Client.id == Claim.client_id)
            .join(Payer, Payer.id == clock.payer_id)
            .where(any_of(clock.claim_id, chunk))))
    states, notes, answers = _states(ids), _last_notes(ids), latest_answers(ids)
    rows = []
    for claim_id in (i for i in ids if i in details):
        _id, sent_at, since_at, heard_on, next_on, last, first, payer, days, service_date, total = details[claim_id]
        state = states.get(claim_id)
        rows.append(FollowUpRow(
            claim_id, claim_number(claim_id), f"{last}, {first}", payer, service_date, total,
            practice_date(sent_at) if sent_at else None, heard_on, _due_day(since_at, heard_on, next_on, days),
            state.assignee.name if state and state.assignee else None, state.assignee_id if state else None,
            notes.get(claim_id), _says(answers[claim_id]) if claim_id in answers else None))
    return rows


def _says(answer: ClaimStatusResponse) -> str:
    return f"{answer.outcome.label} ({answer.heard_on:%m/%d/%Y}): {answer.message}"[:300]


def follow_up_count(scope: Scope, *, today: date) -> int:
    """The front page's count (billing/worklist.py): the queue's length, counted from the kept clocks' indexes
    (no names, notes, assignees or 277 answers read or rows built for a number)."""
    return db.session.scalar(select(func.count()).select_from(union_all(*_due_branches(scope, today)).subquery())) or 0


def _states(ids: list[int]) -> dict[int, ClaimFollowUp]:
    states: dict[int, ClaimFollowUp] = {}
    for chunk in _chunks(ids):
        states.update((s.claim_id, s) for s in db.session.scalars(
            select(ClaimFollowUp).where(any_of(ClaimFollowUp.claim_id, chunk))))
    return states


def _last_notes(ids: list[int]) -> dict[int, str]:
    notes: dict[int, str] = {}
    for chunk in _chunks(ids):
        newest = (select(func.max(FollowUpNote.id)).where(any_of(FollowUpNote.claim_id, chunk))
                  .group_by(FollowUpNote.claim_id))
        notes.update({claim_id: text for claim_id, text in db.session.execute(
            select(FollowUpNote.claim_id, FollowUpNote.text).where(any_of(FollowUpNote.id, newest)))})
    return notes


def notes_of(claim: Claim) -> list[FollowUpNote]:
    """A claim's follow-up notes, newest first (the claim page)."""
    return list(db.session.scalars(
        select(FollowUpNote).where(FollowUpNote.claim_id == claim.id).order_by(FollowUpNote.id.desc())))


def follow_up_of(claim: Claim) -> ClaimFollowUp | None:
    return db.session.get(ClaimFollowUp, claim.id)


# --- operations: flush only; the caller's unit of work commits ----------------------------------------------------

def _followed(claim: Claim, actor: Actor) -> ClaimFollowUp:
    lock_claim(claim)  # two billers noting the same claim: one after the other, one state row
    if claim.status is not ClaimStatus.SUBMITTED:
        raise NotAllowed(f"Claim {claim.number} is {claim.status.label}: only a claim waiting at the payer "
                         "(Submitted) is followed up.")
    state = db.session.get(ClaimFollowUp, claim.id)
    if state is None:
        state = ClaimFollowUp(claim_id=claim.id, updated_by=actor.name)
        db.session.add(state)
    return state


def note_problems(text: str | None, next_follow_up_on: date | None, today: date) -> list[Problem]:
    problems = []
    if not (text or "").strip():
        problems.append(Problem("text", "Write what happened (who you spoke to, what the payer said)."))
    elif len(text or "") > NOTE_MAX or "\x00" in (text or ""):
        problems.append(Problem("text", f"A note is at most {NOTE_MAX:,} characters (no NUL)."))
    if next_follow_up_on is not None and not today <= next_follow_up_on <= today + timedelta(days=MAX_AHEAD_DAYS):
        problems.append(Problem("next_follow_up_on", f"The next follow-up date is from today to "
                                                     f"{MAX_AHEAD_DAYS} days ahead."))
    return problems


def add_note(claim: Claim, text: str, *, next_follow_up_on: date | None, actor: Actor, today: date) -> FollowUpNote:
    """Append a note; a next follow-up date takes the claim out of the queue until that day."""
    raise_if(note_problems(text, next_follow_up_on, today))
    state = _followed(claim, actor)
    now = utcnow()
    note = FollowUpNote(claim_id=claim.id, text=text.strip(), next_follow_up_on=next_follow_up_on,
                        written_at=now, written_by=actor.name)
    db.session.add(note)
    before = state.next_follow_up_on
    if next_follow_up_on is not None:
        state.next_follow_up_on, state.next_set_at = next_follow_up_on, now
    state.updated_at, state.updated_by = now, actor.name
    record_change("claim", claim.id, AuditAction.FOLLOW_UP_NOTED, actor=actor, before=_iso(before),
                  after=_iso(state.next_follow_up_on), reason=text.strip()[:500])
    db.session.flush()
    return note


def assign(claim: Claim, user: User | None, *, actor: Actor) -> ClaimFollowUp:
    """Say who works this claim's follow-up (None: nobody)."""
    if user is not None and (not user.active or user.role not in ASSIGNABLE):
        raise_if([Problem("assignee", f"{user.name} cannot work claims: choose an active biller or admin.")])
    state = _followed(claim, actor)
    before = state.assignee.email if state.assignee else None
    state.assignee_id, state.assignee = (user.id, user) if user else (None, None)
    state.updated_at, state.updated_by = utcnow(), actor.name
    record_change("claim", claim.id, AuditAction.FOLLOW_UP_ASSIGNED, actor=actor, before=before,
                  after=user.email if user else None)
    db.session.flush()
    return state


def assignable_users() -> list[User]:
    return list(db.session.scalars(
        select(User).where(User.active.is_(True), User.role.in_(ASSIGNABLE)).order_by(User.name)))
