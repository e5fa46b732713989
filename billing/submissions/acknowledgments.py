"""Importing 999 and 277CA acknowledgments: match each to our batches and claims, record every claim's outcome,
and reject the claims turned away before adjudication (Submitted -> Rejected).

- A 999 answers a batch: AK102 is the batch's GS06 (its control number), and its receiver (ISA08 or GS03) is the
  sender id our clearinghouse puts on our files. Each transaction's verdict (IK5) applies to the claims in it;
  each IK3/IK4 error is traced to its claim through the segment map kept with the batch (ST = 1 positions). An
  error outside every claim's segments (the envelope, the submitter) belongs to the whole transaction.
- A 277CA answers claims: TRN*2 at the claim level (HL PT) is our CLM01. A1/A2 accept the claim (its REF*1K,
  the payer's claim number, is kept when the claim has none); A3/A4/A6/A7/A8 reject it; anything else informs.
- Only a Submitted claim becomes Rejected. An outcome for a claim in another status (already paid, voided, sent
  again) is recorded on the trail, not applied: the acknowledgment is older news than what happened since.
- The same bytes imported twice record nothing the second time. A file answering another sender's batches or
  claims is kept, unmatched, with the reason.

Everything is loaded and written set-based (a 5,000-claim batch's 999 is a handful of queries).
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update

from billing.claims.models import Claim, claim_number, payer_claim_number_problem
from billing.claims.statuses import ClaimStatus, transition_many
from billing.core import ack_codes
from billing.core.audit import Actor, AuditAction, Change, record_change, record_changes
from billing.core.db import db, utcnow
from billing.core.id_lists import any_of
from billing.core.time import practice_today
from billing.edi.acks import Ack277, Ack999, ClaimStatus277, Envelope, GroupAck, SegmentError, TransactionAck, read_ack
from billing.edi.segments import segment_texts
from billing.submissions.models import (
    AckKind,
    Acknowledgment,
    AckOutcome,
    BatchClaim,
    BatchStatus,
    ClaimAcknowledgment,
    Clearinghouse,
    SubmissionBatch,
)

CHUNK = 2000
REJECTED_999 = frozenset({"R", "M", "W", "X"})


@dataclass
class AckResult:
    """What one acknowledgment file did; `as_dict()` is what `flask edi import --json` prints."""

    filename: str
    kind: str
    acknowledgment_id: int | None = None
    duplicate: bool = False
    matched: bool = True
    unmatched_reason: str | None = None
    verdict: str | None = None
    batches: list[str] = field(default_factory=list)
    batch_ids: list[int] = field(default_factory=list)
    accepted: int = 0
    rejected: int = 0
    information: int = 0
    #: Outcomes recorded but not applied (the claim was no longer Submitted), and claims we do not know.
    not_applied: int = 0
    unknown_claims: int = 0
    rejected_claims: list[str] = field(default_factory=list)
    payer_numbers_stored: int = 0

    def summary(self) -> str:
        if self.duplicate:
            return f"{self.filename}: {self.kind} already imported ({self.unmatched_reason}); nothing recorded again."
        if not self.matched:
            return f"{self.filename}: {self.kind} kept unmatched: {self.unmatched_reason}"
        parts = [f"{self.accepted} accepted", f"{self.rejected} rejected"]
        if self.information:
            parts.append(f"{self.information} informational")
        if self.not_applied:
            parts.append(f"{self.not_applied} recorded but not applied")
        if self.unknown_claims:
            parts.append(f"{self.unknown_claims} unknown claim number(s)")
        where = f" for {', '.join(self.batches)}" if self.batches else ""
        return f"{self.filename}: {self.kind}{where}: " + ", ".join(parts) + "."

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.filename, "kind": self.kind, "acknowledgment_id": self.acknowledgment_id,
            "duplicate": self.duplicate, "matched": self.matched, "unmatched_reason": self.unmatched_reason,
            "verdict": self.verdict, "batches": self.batches, "accepted": self.accepted, "rejected": self.rejected,
            "information": self.information, "not_applied": self.not_applied, "unknown_claims": self.unknown_claims,
            "rejected_claims": self.rejected_claims, "payer_numbers_stored": self.payer_numbers_stored,
            "summary": self.summary(),
        }  # fmt: skip


@dataclass
class _Outcome:
    """One claim outcome before it is written (rows are inserted together)."""

    claim_id: int | None
    reference: str
    batch_id: int | None
    outcome: AckOutcome
    codes: str
    message: str
    transaction_control: str | None = None
    payer_claim_number: str | None = None
    effective_on: date | None = None
    errors: list[dict[str, Any]] | None = None
    applied: bool = False
    note: str | None = None


def import_ack(data: bytes, *, filename: str, actor: Actor, clearinghouse: Clearinghouse | None = None) -> AckResult:
    """Read, match and record one 999 or 277CA; raises AckUnreadable (nothing written) when it cannot be read.

    `clearinghouse`: the one the file was collected from (the job), else every clearinghouse is considered.
    """
    digest = hashlib.sha256(data).hexdigest()
    parsed = read_ack(data)
    kind = AckKind.IMPLEMENTATION if isinstance(parsed, Ack999) else AckKind.CLAIM
    result = AckResult(filename, kind.label)
    earlier = db.session.scalar(select(Acknowledgment).where(Acknowledgment.sha256 == digest))
    if earlier is not None:
        result.duplicate, result.acknowledgment_id = True, earlier.id
        result.unmatched_reason = f"as {earlier.number} on {earlier.received_at:%m/%d/%Y}"
        return result
    houses = _addressed_to_us(parsed.envelope, clearinghouse)
    ack = Acknowledgment(kind=kind, file_name=filename[:255], sha256=digest,
                         content=data.decode("utf-8", errors="replace"), imported_by=actor.name,
                         clearinghouse_id=houses[0].id if len(houses) == 1 else None)  # fmt: skip
    db.session.add(ack)
    db.session.flush()
    if not houses:
        outcomes: list[_Outcome] = []
        result.matched, result.unmatched_reason = False, _not_ours(parsed.envelope, clearinghouse)
    elif isinstance(parsed, Ack999):
        outcomes = _import_999(parsed, houses, ack, result, actor=actor)
    else:
        outcomes = _import_277(parsed, result, actor=actor)
    ack.matched, ack.verdict = result.matched, result.verdict
    ack.unmatched_reason = None if result.matched else (result.unmatched_reason or "")[:500]
    _write_outcomes(ack.id, outcomes)
    ack.summary = result.summary()[:500]
    result.acknowledgment_id = ack.id
    record_change("acknowledgment", ack.id, AuditAction.ACK_IMPORTED, actor=actor, reason=ack.summary,
                  data={"kind": kind.value, "file": filename[:255], "matched": result.matched})  # fmt: skip
    db.session.flush()
    return result


def _addressed_to_us(envelope: Envelope, only: Clearinghouse | None) -> list[Clearinghouse]:
    """The clearinghouses whose sender ids (ISA06 or GS02 of our files) are this file's receiver (ISA08, GS03)."""
    houses = [only] if only is not None else list(db.session.scalars(select(Clearinghouse).order_by(Clearinghouse.id)))
    return [h for h in houses if (envelope.receiver_id and h.isa_sender_id.strip() == envelope.receiver_id)
            or (envelope.gs_receiver and h.gs_sender_code.strip() == envelope.gs_receiver)]


def _not_ours(envelope: Envelope, only: Clearinghouse | None) -> str:
    ours = [only] if only is not None else list(db.session.scalars(select(Clearinghouse).order_by(Clearinghouse.id)))
    ids = sorted({h.isa_sender_id.strip() for h in ours} | {h.gs_sender_code.strip() for h in ours})
    return (f"it is addressed to {envelope.receiver_id or '(no ISA08)'} / {envelope.gs_receiver or '(no GS03)'}, "
            f"not to our sender id{'s' if len(ids) != 1 else ''} ({', '.join(ids) or 'no clearinghouse set up'}): "
            "it answers another sender's file")


# --- 999 -----------------------------------------------------------------------------------------------------

@dataclass
class _Entry:
    claim_id: int
    status: ClaimStatus
    transaction: str | None
    first: int | None
    last: int | None


def _import_999(parsed: Ack999, houses: Sequence[Clearinghouse], ack: Acknowledgment, result: AckResult, *,
                actor: Actor) -> list[_Outcome]:
    outcomes: list[_Outcome] = []
    missed: list[str] = []
    for group in parsed.groups:
        batch = _batch_for(group, houses)
        if batch is None:
            missed.append(group.group_control)
            continue
        ack.batch_id = ack.batch_id or batch.id
        result.batches.append(batch.number)
        result.batch_ids.append(batch.id)
        result.verdict = group.status[:1]
        batch.ack_code = group.status[:1]
        outcomes += _group_outcomes(group, batch)
    if not result.batches:
        result.matched = False
        names = ", ".join(houses_name(houses))
        result.unmatched_reason = (f"no batch of ours ({names}) has group control number {', '.join(missed)}; "
                                   "it answers another sender's file")
        return []
    _apply(outcomes, result, actor=actor, source="999")
    return outcomes


def houses_name(houses: Iterable[Clearinghouse]) -> list[str]:
    return [h.name for h in houses]


def _batch_for(group: GroupAck, houses: Sequence[Clearinghouse]) -> SubmissionBatch | None:
    if not group.group_control.isdigit() or len(group.group_control) > 9:
        return None
    return db.session.scalar(select(SubmissionBatch).where(
        any_of(SubmissionBatch.clearinghouse_id, [h.id for h in houses]),
        SubmissionBatch.control_number == int(group.group_control)).order_by(SubmissionBatch.id.desc()).limit(1))


def _same_control(a: str | None, b: str | None) -> bool:
    """ST02 as we wrote it ("0001") and as the 999 repeats it ("000000001", "1") are the same number."""
    if a is None or b is None:
        return False
    return int(a) == int(b) if a.isdigit() and b.isdigit() else a == b


def _group_outcomes(group: GroupAck, batch: SubmissionBatch) -> list[_Outcome]:
    entries = [_Entry(cid, status, txn, first, last) for cid, status, txn, first, last in db.session.execute(
        select(BatchClaim.claim_id, Claim.status, BatchClaim.transaction_control, BatchClaim.first_segment,
               BatchClaim.last_segment).join(Claim, Claim.id == BatchClaim.claim_id)
        .where(BatchClaim.batch_id == batch.id, BatchClaim.frequency_code != "8").order_by(BatchClaim.position))]
    ours = _our_segments(batch) if any(t.errors for t in group.transactions) else {}
    outcomes: list[_Outcome] = []
    single = {e.transaction for e in entries} == {None} or batch.transaction_count == 1
    for txn in group.transactions:
        members = [e for e in entries if _same_control(e.transaction, txn.control)] or (entries if single else [])
        outcomes += _transaction_outcomes(txn, members, batch, ours.get(_control_key(txn.control), []))
    return outcomes


def _control_key(control: str) -> str:
    return str(int(control)) if control.isdigit() else control


def _our_segments(batch: SubmissionBatch) -> dict[str, list[str]]:
    """Our batch's segments per transaction (ST02 -> segments from ST on), to quote the segment a 999 faults."""
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    for text in segment_texts(batch.content):
        if text.startswith("ST*"):
            current = found.setdefault(_control_key(text.split("*")[2] if text.count("*") >= 2 else ""), [])
        if current is not None:
            current.append(text)
        if text.startswith("SE*"):
            current = None
    return found


def _transaction_outcomes(txn: TransactionAck, members: list[_Entry], batch: SubmissionBatch,
                          ours: list[str]) -> list[_Outcome]:
    starts = sorted((e.first, i) for i, e in enumerate(members) if e.first is not None)
    per_claim: dict[int, list[dict[str, Any]]] = {}
    whole: list[dict[str, Any]] = []
    for error in txn.errors:
        owner = _owner(error.position, starts, members)
        described = _describe_error(error, ours)
        (per_claim.setdefault(owner.claim_id, []) if owner is not None else whole).append(described)
    status = txn.status or "R"
    outcome = (AckOutcome.REJECTED if status in REJECTED_999
               else AckOutcome.ACCEPTED_WITH_ERRORS if status == "E" or txn.errors else AckOutcome.ACCEPTED)
    verdict = f"999 transaction {txn.control}: {ack_codes.describe_x12('status', status)}"
    if txn.codes:
        verdict += " (" + "; ".join(ack_codes.describe_x12("transaction", c) for c in txn.codes) + ")"
    codes = " ".join(["IK5*" + status, *txn.codes])[:200]
    outcomes = []
    for entry in members:
        errors = per_claim.get(entry.claim_id, []) + whole
        message = verdict + "".join(f". {e['text']}" for e in errors)
        outcomes.append(_Outcome(entry.claim_id, claim_number(entry.claim_id), batch.id, outcome, codes,
                                 message[:2000], transaction_control=txn.control[:9], errors=errors or None))
    return outcomes


def _owner(position: int | None, starts: list[tuple[int, int]], members: list[_Entry]) -> _Entry | None:
    """The claim whose segments hold `position`, or None (the envelope, the submitter, an unknown position)."""
    if position is None or not starts:
        return None
    at = bisect.bisect_right(starts, (position, len(members))) - 1
    if at < 0:
        return None
    entry = members[starts[at][1]]
    return entry if entry.last is not None and position <= entry.last else None


def _describe_error(error: SegmentError, ours: list[str]) -> dict[str, Any]:
    """An IK3 and its IK4s in plain words, with our own segment's text when the position is known."""
    our_text = ours[error.position - 1] if error.position and 0 < error.position <= len(ours) else None
    where = f"Segment {error.segment_id or '?'}" + (f" at position {error.position}" if error.position else "")
    parts = [where + (f" (we sent: {our_text})" if our_text else "")]
    if error.code:
        parts.append(ack_codes.describe_x12("segment", error.code))
    elements = []
    for element in error.elements:
        name = _element_name(error.segment_id, element.position)
        meaning = ack_codes.describe_x12("element", element.code)
        value = f" (value {element.bad_value!r})" if element.bad_value else ""
        parts.append(f"element {name}{value}: {meaning}")
        elements.append({"element": name, "code": element.code, "meaning": meaning, "value": element.bad_value})
    return {"segment": error.segment_id, "position": error.position, "loop": error.loop, "code": error.code,
            "meaning": ack_codes.describe_x12("segment", error.code) if error.code else None,
            "ours": our_text, "elements": elements, "text": ": ".join(parts[:2]) + "".join(f"; {p}" for p in parts[2:])}


def _element_name(segment_id: str, position: str) -> str:
    """IK401 "9" -> NM109; "1:2" -> SV101-2."""
    element, _, component = position.partition(":")
    component = component.partition(":")[0]
    name = f"{segment_id}{int(element):02d}" if element.isdigit() and len(element) <= 3 else f"{segment_id}{element}"
    return name + (f"-{component}" if component else "")


# --- 277CA ---------------------------------------------------------------------------------------------------

def _import_277(parsed: Ack277, result: AckResult, *, actor: Actor) -> list[_Outcome]:
    ids = {c.reference: Claim.id_from_number(c.reference) for c in parsed.claims}
    known = _claims(list({i for i in ids.values() if i is not None}))
    batches = _last_batches(list(known))
    outcomes = []
    for status in parsed.claims:
        claim_id = ids[status.reference]
        if claim_id not in known:
            claim_id = None
        outcomes.append(_claim_outcome(status, claim_id, batches.get(claim_id) if claim_id else None))
    if not known:
        result.matched = False
        result.unmatched_reason = ("none of its claim numbers (TRN*2) is one of ours: "
                                   + ", ".join(c.reference for c in parsed.claims[:5])
                                   + ("..." if len(parsed.claims) > 5 else ""))[:500]
        return []
    result.batch_ids = sorted(set(batches.values()))
    result.batches = [f"B-{b:06d}" for b in result.batch_ids]
    _apply(outcomes, result, actor=actor, source="277CA", statuses=known)
    return outcomes


def _claims(ids: list[int]) -> dict[int, tuple[ClaimStatus, str | None]]:
    found: dict[int, tuple[ClaimStatus, str | None]] = {}
    for start in range(0, len(ids), CHUNK):
        found.update({cid: (status, number) for cid, status, number in db.session.execute(
            select(Claim.id, Claim.status, Claim.payer_claim_number).where(any_of(Claim.id, ids[start:start + CHUNK])))
        })
    return found


def _last_batches(ids: list[int]) -> dict[int, int]:
    """Each claim's latest sent batch: the send a 277CA answers."""
    found: dict[int, int] = {}
    for start in range(0, len(ids), CHUNK):
        found.update(dict(db.session.execute(
            select(BatchClaim.claim_id, func.max(BatchClaim.batch_id)).join(SubmissionBatch)
            .where(any_of(BatchClaim.claim_id, ids[start:start + CHUNK]), SubmissionBatch.status == BatchStatus.SENT)
            .group_by(BatchClaim.claim_id)).all()))
    return found


def _claim_outcome(status: ClaimStatus277, claim_id: int | None, batch_id: int | None) -> _Outcome:
    outcomes = {ack_codes.category_outcome(s.category) for s in status.statuses}
    outcome = (AckOutcome.REJECTED if "rejected" in outcomes else AckOutcome.ACCEPTED if "accepted" in outcomes
               else AckOutcome.INFORMATION)
    said = [_status_words(s) for s in status.statuses]
    said += [f"line {procedure}: {_status_words(s)}" for procedure, s in status.line_statuses]
    codes = " ".join(f"STC {s.category}:{s.status}" + (f":{s.entity}" if s.entity else "") for s in status.statuses)
    number = (status.payer_claim_number or "")[:50] or None
    return _Outcome(claim_id, status.reference[:50], batch_id, outcome, codes[:200], "; ".join(said)[:2000],
                    payer_claim_number=number, effective_on=status.status_date,
                    note=None if claim_id else "no claim of ours has this number")


def _status_words(status: Any) -> str:
    words = f"{status.category} {ack_codes.describe_category(status.category)}"
    if status.status:
        words += f": {ack_codes.describe_status(status.status)}"
    if status.entity:
        words += f" ({ack_codes.describe_entity(status.entity)})"
    return words


# --- applying and writing ------------------------------------------------------------------------------------

def _apply(outcomes: list[_Outcome], result: AckResult, *, actor: Actor, source: str,
           statuses: dict[int, tuple[ClaimStatus, str | None]] | None = None) -> None:
    """Reject the Submitted claims rejected; keep payer claim numbers; note why anything else is not applied."""
    if statuses is None:
        statuses = _claims(list({o.claim_id for o in outcomes if o.claim_id is not None}))
    rejecting: dict[int, ClaimStatus] = {}
    reasons: dict[int, str] = {}
    numbers: dict[int, str] = {}
    for o in outcomes:
        if o.claim_id is None:
            result.unknown_claims += 1
            continue
        current, payer_number = statuses[o.claim_id]
        _count(o, result)
        if o.outcome is AckOutcome.REJECTED:
            if current is ClaimStatus.SUBMITTED and o.claim_id not in rejecting:
                rejecting[o.claim_id] = current
                reasons[o.claim_id] = f"{source} rejected it: {o.message}"[:500]
                o.applied = True
            else:
                o.note = (f"not applied: the claim is {current.label}, not Submitted; a rejection only moves a claim "
                          "waiting at the payer")
                result.not_applied += 1
        elif o.outcome is AckOutcome.ACCEPTED and o.payer_claim_number and not payer_number \
                and o.claim_id not in numbers and payer_claim_number_problem(o.payer_claim_number) is None:
            numbers[o.claim_id] = o.payer_claim_number
            o.applied = True
    moved = set(transition_many(rejecting, ClaimStatus.REJECTED, action=AuditAction.CLAIM_REJECTED, actor=actor,
                                reasons=reasons))
    for o in outcomes:
        if o.claim_id in rejecting and o.claim_id not in moved:
            o.applied, o.note = False, "not applied: the claim changed while the file was read"
    result.rejected_claims = [claim_number(i) for i in sorted(moved)]
    _store_payer_numbers(numbers, actor=actor, source=source)
    result.payer_numbers_stored = len(numbers)


def _count(o: _Outcome, result: AckResult) -> None:
    if o.outcome is AckOutcome.REJECTED:
        result.rejected += 1
    elif o.outcome is AckOutcome.INFORMATION:
        result.information += 1
    else:
        result.accepted += 1


def _store_payer_numbers(numbers: dict[int, str], *, actor: Actor, source: str) -> None:
    """The payer's claim number from an acceptance, on claims that had none; one executemany and one history
    INSERT. Only where it is still empty, so a number a biller typed meanwhile is never overwritten."""
    if not numbers:
        return
    table = Claim.__table__
    db.session.execute(
        update(table).where(table.c.id == bindparam("cid"), table.c.payer_claim_number.is_(None))
        .values(payer_claim_number=bindparam("number"), version=table.c.version + 1),
        [{"cid": cid, "number": number} for cid, number in numbers.items()],
    )
    record_changes("claim", [Change(cid, AuditAction.CLAIM_ACKNOWLEDGED, None, None,
                                    f"{source} accepted it; payer claim number {number}")
                             for cid, number in numbers.items()], actor=actor)
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, Claim) and obj.id in numbers:
            db.session.expire(obj)


def _write_outcomes(ack_id: int, outcomes: list[_Outcome]) -> None:
    if not outcomes:
        return
    now, today = utcnow(), practice_today()
    db.session.execute(insert(ClaimAcknowledgment.__table__), [
        {"acknowledgment_id": ack_id, "claim_id": o.claim_id, "claim_reference": o.reference[:50],
         "batch_id": o.batch_id, "transaction_control": o.transaction_control, "outcome": o.outcome,
         "codes": o.codes, "message": o.message, "payer_claim_number": o.payer_claim_number,
         "effective_on": o.effective_on or today, "recorded_at": now, "applied": o.applied,
         "note": (o.note or None) and o.note[:300], "errors": o.errors}
        for o in outcomes
    ])  # fmt: skip
