"""What billing does with sessions: finalize puts them on claims; a claim locks what it billed.

Sessions sit below claims, so every session operation that looks at a claim lives here: finalize (which bills),
cancel with a class and delete (both refused while a claim bills the session), and the edit checks that keep a
billed session's facts frozen.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import exists, or_, select, update
from sqlalchemy.orm.attributes import set_committed_value

from billing.claims import hooks
from billing.claims.building import BillingResult, bill_sessions
from billing.claims.models import ClaimLine
from billing.claims.queries import claim_locking, ever_billed, live_line_filter
from billing.claims.statuses import EDITABLE, SENT
from billing.core.audit import Actor, AuditAction, Change, record_change, record_changes
from billing.core.db import chunked, db, utcnow
from billing.core.errors import Conflict, NotAllowed, Problem
from billing.core.time import practice_today
from billing.sessions.checks import session_field_problems
from billing.sessions.models import NoteStatus, SessionClass, TherapySession

CHUNK = 2000  # sessions per billing batch: bounded memory, few queries per batch


def finalize_session(visit: TherapySession, *, actor: Actor) -> BillingResult:
    """Finalize the note and, in the same transaction, put the session on a claim."""
    return finalize_sessions([visit], actor=actor)


def finalize_sessions(visits: Sequence[TherapySession], *, actor: Actor) -> BillingResult:
    for visit in visits:
        _check_finalizable(visit)
    now = utcnow()
    db.session.flush()  # pending edits to these sessions go first; the UPDATE below is one statement
    table = TherapySession.__table__
    for chunk in chunked([v.id for v in visits], CHUNK):
        db.session.execute(
            update(table).where(table.c.id.in_(chunk)).values(note_status=NoteStatus.FINALIZED, finalized_at=now)
        )
    for visit in visits:  # what the UPDATE wrote, without marking the sessions dirty again
        set_committed_value(visit, "note_status", NoteStatus.FINALIZED)
        set_committed_value(visit, "finalized_at", now)
    record_changes(
        "session",
        [Change(v.id, AuditAction.SESSION_FINALIZED, before=NoteStatus.DRAFT.value, after=NoteStatus.FINALIZED.value)
         for v in visits],
        actor=actor,
    )
    db.session.flush()
    return bill_sessions([v for v in visits if _billable(v)], actor=actor)


def _check_finalizable(visit: TherapySession) -> None:
    label = f"The session of {visit.service_date:%m/%d/%Y}"
    if visit.note_status is NoteStatus.FINALIZED:
        raise Conflict(f"{label} is already finalized.")
    if visit.is_cancelled:
        raise NotAllowed(f"{label} was cancelled ({visit.session_class}); a cancelled session is not finalized.")
    if not (visit.note_text or "").strip():
        raise NotAllowed(f"{label} has no note yet; write the note before finalizing it.")
    if visit.service_date > practice_today():
        raise NotAllowed(f"{label} is in the future; finalize it after it happens.")


def _billable(visit: TherapySession) -> bool:
    return not visit.is_cancelled or bool(visit.session_class and visit.session_class.billable)


def unbilled_sessions() -> Iterator[list[TherapySession]]:
    """Finalized, billable sessions with no live claim line, in chunks (for `flask claims generate`)."""
    query = (
        select(TherapySession)
        .where(
            TherapySession.note_status == NoteStatus.FINALIZED,
            or_(
                TherapySession.session_class_id.is_(None),
                TherapySession.session_class.has(SessionClass.billable.is_(True)),
            ),
            ~exists().where(ClaimLine.session_id == TherapySession.id, live_line_filter()),
        )
        .order_by(TherapySession.client_id, TherapySession.service_date, TherapySession.start_time)
    )
    ids = list(db.session.scalars(query.with_only_columns(TherapySession.id)))
    for chunk in chunked(ids, CHUNK):
        yield list(
            db.session.scalars(
                select(TherapySession)
                .where(TherapySession.id.in_(chunk))
                .order_by(TherapySession.client_id, TherapySession.service_date, TherapySession.start_time)
            )
        )


def generate_claims(*, actor: Actor) -> BillingResult:
    """Claims for every finalized session that has none. Running it twice creates nothing new."""
    result = BillingResult()
    for chunk in unbilled_sessions():
        result.merge(bill_sessions(chunk, actor=actor))
        db.session.flush()
        # Keep memory flat over 100,000 sessions: what the result holds stays readable (ids, statuses).
        db.session.expunge_all()
    return result


def cancel_session(
    visit: TherapySession, *, session_class: SessionClass, actor: Actor, reason: str | None = None
) -> None:
    """Mark a session cancelled (no-show, late cancel...): it stays, with its history and money."""
    if visit.is_cancelled:
        raise Conflict(
            f"The session of {visit.service_date:%m/%d/%Y} is already cancelled ({visit.session_class})."
        )
    claim = claim_locking(visit.id)
    if claim is not None and claim.status in EDITABLE:
        raise NotAllowed(
            f"Claim {claim.number} ({claim.status.label}) bills this session; retract the claim first, then cancel."
        )
    if claim is not None and claim.status in SENT:
        # The payer has the bill: a session cancelled here would still be billed there.
        raise NotAllowed(
            f"Claim {claim.number} ({claim.status.label}) bills this session at the payer; void the claim first "
            "(the payer is sent a void), then cancel."
        )
    visit.session_class_id, visit.cancelled_at = session_class.id, utcnow()
    visit.session_class = session_class
    record_change(
        "session", visit.id, AuditAction.SESSION_CANCELLED, actor=actor, after=session_class.name, reason=reason
    )


def deletion_refusal(visit: TherapySession) -> str | None:
    """Why this session may not be deleted, or None when it may. Money on its claims is the ledger's to say."""
    if (refusal := hooks.session_money_refusal.first(visit.id)) is not None:
        return refusal
    if ever_billed(visit.id):
        return "it was billed to insurance; cancel it with a session class instead"
    if visit.note_status is NoteStatus.FINALIZED:
        return "its note is finalized; cancel it with a session class instead"
    return None


def delete_session(visit: TherapySession, *, actor: Actor) -> None:
    """Delete a session entered in error; anything billed or documented is cancelled instead."""
    refusal = deletion_refusal(visit)
    if refusal:
        raise NotAllowed(f"The session of {visit.service_date:%m/%d/%Y} cannot be deleted: {refusal}.")
    record_change("session", visit.id, AuditAction.SESSION_DELETED, actor=actor, data=_session_snapshot(visit))
    db.session.delete(visit)
    db.session.flush()


def _session_snapshot(visit: TherapySession) -> dict[str, object]:
    return {
        "client_id": visit.client_id,
        "provider_id": visit.provider_id,
        "service_code_id": visit.service_code_id,
        "service_date": visit.service_date.isoformat(),
        "start_time": visit.start_time.isoformat(),
        "end_time": visit.end_time.isoformat(),
        "note_status": visit.note_status.value,
    }


#: What a claim freezes on its sessions: changing any of these would change what was billed.
LOCKED_FIELDS = {
    "client": "client", "provider": "provider", "service_date": "date", "start_time": "start time",
    "end_time": "end time", "service_code": "service code", "modifiers": "modifiers",
}


def locked_field_problems(data: Mapping[str, Any], record: Any) -> list[Problem]:
    """A session on a claim (not voided) cannot change what was billed; a finalized note is final."""
    if record is None:
        return []
    problems = []
    claim = claim_locking(record.id)
    if claim is not None:
        for name, label in LOCKED_FIELDS.items():
            if name in data and data[name] != getattr(record, name):
                problems.append(Problem(name, f"Locked by claim {claim.number} ({claim.status.label}): the {label} "
                                        "cannot change. Retract the claim first (or correct it if it was sent)."))
    if record.note_status.value == "finalized" and "note_text" in data and data["note_text"] != record.note_text:
        problems.append(Problem("note_text", "The note is finalized and can no longer be edited."))
    return problems


def session_problems(data: Mapping[str, Any], record: Any = None) -> list[Problem]:
    """Everything wrong with a session form: its own fields, and any change to what a claim billed."""
    return [*session_field_problems(data), *locked_field_problems(data, record)]
