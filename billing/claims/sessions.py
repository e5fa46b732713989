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
from billing.claims.family import join_family
from billing.claims.models import Claim, ClaimLine
from billing.claims.operations import recompute_totals, retract_claim
from billing.claims.queries import (
    claim_locking,
    ever_billed,
    ever_submitted,
    last_claim_of,
    live_line_filter,
    lock_claim,
)
from billing.claims.statuses import EDITABLE, SENT
from billing.core.audit import Actor, AuditAction, Change, record_change, record_changes
from billing.core.db import chunked, db, utcnow
from billing.core.errors import Conflict, NotAllowed, Problem
from billing.core.id_lists import any_of
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
            update(table).where(any_of(table.c.id, chunk)).values(note_status=NoteStatus.FINALIZED, finalized_at=now)
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


def _label(visit: TherapySession) -> str:
    return f"The session of {visit.service_date:%m/%d/%Y}"


def _check_finalizable(visit: TherapySession) -> None:
    label = _label(visit)
    if visit.note_status is NoteStatus.FINALIZED:
        again = " Its claim was retracted or voided: use Bill again." if rebillable(visit) else ""
        raise Conflict(f"{label} is already finalized.{again}")
    if visit.is_cancelled:
        raise NotAllowed(f"{label} was cancelled ({visit.session_class}); a cancelled session is not finalized.")
    if not (visit.note_text or "").strip():
        raise NotAllowed(f"{label} has no note yet; write the note before finalizing it.")
    if visit.service_date > practice_today():
        raise NotAllowed(f"{label} is in the future; finalize it after it happens.")


def _billable(visit: TherapySession) -> bool:
    return not visit.is_cancelled or bool(visit.session_class and visit.session_class.billable)


def rebillable(visit: TherapySession) -> bool:
    """A finalized, billable session that was billed once and has no live claim now (retracted or voided)."""
    return (visit.note_status is NoteStatus.FINALIZED and _billable(visit) and ever_billed(visit.id)
            and claim_locking(visit.id) is None)


def bill_again(visit: TherapySession, *, actor: Actor) -> BillingResult:
    """Bill a session whose claim was retracted or voided: a new original claim (frequency 1) carries it.

    The line joins an open Ready or Held claim of the same client, payer, provider and day when there is one, as
    any new line does; a new claim joins the family of the claim it bills again, so the duplicate rule and the
    claim's family panel see them as one service (Posting rule 6).
    """
    label = _label(visit)
    if visit.note_status is not NoteStatus.FINALIZED:
        raise NotAllowed(f"{label} is not finalized; finalize it, which bills it.")
    if not _billable(visit):
        raise NotAllowed(f"{label} was cancelled ({visit.session_class}); a cancelled session is not billed.")
    if (live := claim_locking(visit.id)) is not None:
        raise Conflict(f"{label} is billed on claim {live.number} ({live.status.label}); it is billed once.")
    previous = last_claim_of(visit.id)
    result = bill_sessions([visit], actor=actor)
    if not result.created and not result.extended:
        why = result.unbilled[0][1] if result.unbilled else "no billable unit"
        raise NotAllowed(f"{label} was not billed again: {why}.")
    for claim in result.created:
        if previous is not None:
            join_family(claim, previous)
    carrier = (result.created + result.extended)[0]
    was = f"claim {previous.number} was {'retracted' if previous.void_reason == 'retracted' else 'voided'}" \
        if previous is not None else "it was never billed"
    record_change("session", visit.id, AuditAction.SESSION_BILLED_AGAIN, actor=actor,
                  reason=f"{was}; billed on claim {carrier.number}",
                  data={"claim": carrier.number, "previous": previous.number if previous else None})
    db.session.flush()
    return result


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
                .where(any_of(TherapySession.id, chunk))
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
) -> str | None:
    """Mark a session cancelled (no-show, late cancel...): it stays, with its history and money.

    A claim the payer has (or had: a denied claim put back to Ready) keeps the session billed there, so the
    cancel is refused with the way forward. A claim that never left is withdrawn with the session, unless the
    session class is billable (a late-cancel fee): out of its unsent batch, then retracted, or only the
    session's lines taken off when the claim bills other sessions too. Returns what happened to the claim.
    """
    if visit.is_cancelled:
        raise Conflict(f"{_label(visit)} is already cancelled ({visit.session_class}).")
    claim = claim_locking(visit.id)
    if claim is not None and (claim.status not in EDITABLE or ever_submitted(claim.id)):
        at_payer = "is at the payer" if claim.status in SENT else "was sent to the payer"
        raise NotAllowed(
            f"Claim {claim.number} ({claim.status.label}) {at_payer} with this session on it, so cancelling here would "
            f"leave it billed there. Void claim {claim.number} (the payer is sent a void) or correct it without this "
            "session, then cancel the session."
        )
    visit.session_class_id, visit.cancelled_at = session_class.id, utcnow()
    visit.session_class = session_class
    record_change(
        "session", visit.id, AuditAction.SESSION_CANCELLED, actor=actor, after=session_class.name, reason=reason
    )
    if claim is None or session_class.billable:
        return None
    return _withdraw_with(visit, claim, actor, f"Session of {visit.service_date:%m/%d/%Y} cancelled as "
                                               f"{session_class.name}")


def _withdraw_with(visit: TherapySession, claim: Claim, actor: Actor, why: str) -> str:
    """Take a cancelled session off its unsent claim: nothing was sent, so nothing goes to the payer."""
    lock_claim(claim)
    hooks.take_out_of_batch.ask(claim, actor)
    mine = [line for line in claim.lines if line.session_id == visit.id]
    if len(mine) == len(claim.lines):
        retract_claim(claim, actor=actor, reason=why)
        return f"claim {claim.number} was withdrawn (voided without sending)"
    before = str(claim.total_charge)
    for line in mine:
        claim.lines.remove(line)
    db.session.flush()  # removed lines go first, so renumbering never meets a taken number
    for number, line in enumerate(claim.lines, start=1):
        if line.line_number != number:
            line.line_number = number
            db.session.flush()
    recompute_totals(claim)
    record_change("claim", claim.id, AuditAction.CLAIM_EDITED, actor=actor, before=claim.status.value,
                  after=claim.status.value, reason=f"{why}: its line taken off",
                  data={"session": visit.id, "total_charge": [before, str(claim.total_charge)]})
    return f"its line was taken off claim {claim.number}"


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
