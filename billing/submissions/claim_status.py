"""Asking payers where our claims stand (276) and recording what they answer (277).

- `ask_payers(claim_ids)`: one validated 276 per clearinghouse for the chosen Submitted claims, uploaded to its
  inbound folder when it has SFTP settings (else kept Generated, for download). `ask_due(scope)` asks about the
  follow-up queue's claims not asked about in the last RECENT_DAYS days (the daily job and `--due`).
- `import_277(data)`: each STC of each claim is one ClaimStatusResponse row, in words, on the claim's status trail.
  A Submitted claim's follow-up moves: a pending answer sets the next follow-up to the day an answer is expected,
  a finalized one (paid, denied) to the day its 835 should have come; "not found" and "cannot answer" set it to
  today, because the claim needs a person now.

An inquiry and its answer never change money and never change a claim's status: the 835 does that. Operations
flush and never commit (the caller's `unit_of_work()` does); an upload happens inside the operation, so a
failed upload rolls the inquiry back. Should the commit fail after an upload, the payer just gets a 276 we have
no record of; its 277 is still matched, by claim number.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select

from billing.claims.models import Claim, claim_number
from billing.claims.queries import lock_claim
from billing.claims.statuses import ClaimStatus
from billing.core import ack_codes
from billing.core.audit import Actor, AuditAction, Change, record_change, record_changes
from billing.core.db import db, utcnow
from billing.core.errors import BillingError, Failed, Invalid, NothingToDo, Problem, ValidationFailed
from billing.core.time import practice_date, practice_today
from billing.coverage.models import Payer, PayerType
from billing.edi.claim_status import (
    ClaimStatusReport,
    InquiryClaim,
    StatusAnswer,
    check_276,
    inquiry_claim,
    inquiry_problems,
    read_277,
    write_276,
)
from billing.edi.x837p import Envelope
from billing.org.queries import Scope
from billing.submissions import sftp
from billing.submissions.claim_status_models import (
    ClaimStatusResponse,
    InquiryStatus,
    StatusInquiry,
    StatusInquiryClaim,
    StatusOutcome,
    StatusResponseFile,
)
from billing.submissions.control_numbers import reserve_control_numbers
from billing.submissions.follow_up import due_for_follow_up
from billing.submissions.follow_up_models import ClaimFollowUp
from billing.submissions.loading import claim_facts
from billing.submissions.models import Clearinghouse
from billing.submissions.operations import sftp_settings

logger = logging.getLogger(__name__)
Uploader = Callable[[sftp.SftpSettings, str, bytes], None]
#: A claim asked about this recently is not asked again by the daily job or `--due` (its 277 may be on the way).
RECENT_DAYS = 7
#: When to look again after a pending answer, and after a finalized one whose 835 has not come.
PENDING_RECHECK_DAYS = 14
REMITTANCE_WAIT_DAYS = 10
#: More claims than this in one request is a mistake (the queue of a large practice is a few hundred).
MAX_CLAIMS = 5000
CHUNK = 2000


# --- reading a 277 status in words -------------------------------------------------------------------------------


def outcome_of(answer: StatusAnswer) -> StatusOutcome:
    category = answer.category
    if category == "A4" or category == "D0" or answer.status_code.lstrip("0") == "35":
        return StatusOutcome.NOT_FOUND
    if category.startswith("P"):
        return StatusOutcome.PENDING
    if category == "F1":
        return StatusOutcome.PAID
    if category == "F2":
        return StatusOutcome.DENIED
    if category.startswith("F"):
        return StatusOutcome.FINALIZED
    if category in ("A3", "A6", "A7", "A8"):
        return StatusOutcome.RETURNED
    if category in ("A0", "A1", "A2", "A5"):
        return StatusOutcome.RECEIVED
    if category.startswith("E"):
        return StatusOutcome.NO_ANSWER
    return StatusOutcome.INFORMATION


def codes_of(answer: StatusAnswer) -> str:
    first = ":".join(p for p in (answer.category, answer.status_code, answer.entity) if p)
    return " ".join(["STC", first, *answer.more])[:200]


def words_of(answer: StatusAnswer) -> str:
    """The status in the code lists' words: "Finalized: the claim was denied. Not covered (entity: Payer). ..."."""
    parts = [_one_status(answer.category, answer.status_code, answer.entity)]
    for extra in answer.more:
        category, status, entity = (extra + "::").split(":")[:3]
        parts.append(_one_status(category, status, entity))
    if answer.paid is not None and answer.category.startswith("F"):
        parts.append(f"Paid {answer.paid:,.2f} of {answer.charge or 0:,.2f}")
    if answer.finalized_on:
        parts.append(f"finalized {answer.finalized_on:%m/%d/%Y}")
    if answer.check_number or answer.check_issued_on:
        on = f" on {answer.check_issued_on:%m/%d/%Y}" if answer.check_issued_on else ""
        parts.append(f"payment {answer.check_number}{on}".replace("  ", " "))
    if answer.message:
        parts.append(f"payer's note: {answer.message}")
    return ". ".join(p for p in parts if p)[:2000]


def _one_status(category: str, status: str, entity: str) -> str:
    text = ack_codes.describe_category(category) if category else ""
    if status:
        text += f" ({ack_codes.describe_status(status)}"
        text += f"; about: {ack_codes.describe_entity(entity)})" if entity else ")"
    return text


# --- asking (276) -------------------------------------------------------------------------------------------------


@dataclass
class Asked:
    """What a request to ask the payers did: the inquiries made, and the claims left out with why."""

    inquiries: list[StatusInquiry] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)

    def summary(self) -> str:
        parts = []
        for inquiry in self.inquiries:
            how = "sent" if inquiry.status is InquiryStatus.SENT else "built; download it and upload it by hand"
            parts.append(f"{inquiry.number}: {inquiry.claim_count} claim(s) to {inquiry.clearinghouse.name}, {how}")
        parts += [f"left out {why}" for why in self.left_out]
        return "; ".join(parts) or "No claim to ask about."

    def as_dict(self) -> dict[str, Any]:
        return {
            "inquiries": [inquiry_dict(i) for i in self.inquiries],
            "left_out": self.left_out,
            "summary": self.summary(),
        }


def inquiry_dict(inquiry: StatusInquiry) -> dict[str, Any]:
    return {
        "inquiry": inquiry.number,
        "id": inquiry.id,
        "clearinghouse": inquiry.clearinghouse.name,
        "status": inquiry.status.value,
        "file_name": inquiry.file_name,
        "claims": inquiry.claim_count,
        "claim_numbers": sorted(claim_number(e.claim_id) for e in inquiry.entries),
    }


def ask_payers(
    claim_ids: Collection[int], *, actor: Actor, uploader: Uploader = sftp.upload, strict: bool = True
) -> Asked:
    """Build (and send where possible) one 276 per clearinghouse for these Submitted claims.

    `strict` (a person's choice): any claim that cannot be asked about refuses the whole request, each named.
    Otherwise (the job, `--due`) such claims are left out and listed.
    """
    wanted = sorted(set(claim_ids))
    if not wanted:
        raise ValidationFailed([Problem("claims", "Choose at least one claim to ask the payer about.")])
    if len(wanted) > MAX_CLAIMS:
        raise ValidationFailed([Problem("claims", f"Ask about at most {MAX_CLAIMS:,} claims at a time.")])
    asked, refusals = Asked(), []
    by_house: dict[int, list[InquiryClaim]] = defaultdict(list)
    ids_by_trace: dict[str, int] = {}
    houses, why_not = _askable(wanted)
    loaded = claim_facts({claim_id: "1" for claim_id in wanted if claim_id in houses})
    why_not.update({i: "; ".join(found) for i, found in loaded.problems.items()})
    for facts in loaded.facts:
        claim = inquiry_claim(facts)
        found = inquiry_problems(claim)
        claim_id = Claim.id_from_number(facts.number)
        if found:
            why_not[claim_id] = "; ".join(found)
            continue
        by_house[houses[claim_id]].append(claim)
        ids_by_trace[claim.trace] = claim_id
    refusals = [f"{claim_number(i)}: {why}" for i, why in sorted(why_not.items())]
    if refusals and strict:
        raise ValidationFailed([Problem("claims", r) for r in refusals])
    asked.left_out = refusals
    if not by_house:
        raise NothingToDo("No claim can be asked about: " + "; ".join(refusals[:10]))
    for house_id, claims in sorted(by_house.items()):
        asked.inquiries.append(_inquiry(db.session.get(Clearinghouse, house_id), claims, ids_by_trace, actor, uploader))
    return asked


def _askable(claim_ids: list[int]) -> tuple[dict[int, int], dict[int, str]]:
    """Claim id -> its payer's clearinghouse id, for the claims a 276 can ask about; the others with why not."""
    houses, why_not = {}, {}
    found = {row[0]: row for chunk in _chunks(claim_ids) for row in db.session.execute(
        select(Claim.id, Claim.status, Claim.self_pay, Payer.payer_type, Payer.name, Payer.clearinghouse_id,
               Clearinghouse.active)
        .join(Payer, Payer.id == Claim.payer_id).outerjoin(Clearinghouse, Clearinghouse.id == Payer.clearinghouse_id)
        .where(Claim.id.in_(chunk)))}  # fmt: skip
    for claim_id in claim_ids:
        row = found.get(claim_id)
        if row is None:
            why_not[claim_id] = "no such claim"
        elif row.status is not ClaimStatus.SUBMITTED:
            why_not[claim_id] = f"it is {row.status.label}; only a Submitted claim is asked about"
        elif row.self_pay or row.payer_type is PayerType.SELF_PAY:
            why_not[claim_id] = "a self-pay claim has no payer to ask"
        elif row.clearinghouse_id is None or not row.active:
            why_not[claim_id] = f"payer {row.name} is not linked to an active clearinghouse"
        else:
            houses[claim_id] = row.clearinghouse_id
    return houses, why_not


def _inquiry(
    house: Clearinghouse, claims: list[InquiryClaim], ids_by_trace: dict[str, int], actor: Actor, uploader: Uploader
) -> StatusInquiry:
    control = reserve_control_numbers(house.id, 1)
    inquiry = StatusInquiry(clearinghouse=house, control_number=control, claim_count=len(claims), created_at=utcnow(),
                            created_by=actor.name, file_name="", content="")  # fmt: skip
    db.session.add(inquiry)
    db.session.flush()
    text = write_276(_envelope(house, inquiry), claims)
    problems = check_276(text, claims)
    if problems:
        raise Invalid(f"The 276 was refused: {len(problems)} problem(s). First: {problems[0]}", problems)
    inquiry.content = text
    inquiry.file_name = f"276_{inquiry.number}_{inquiry.created_at:%Y%m%d%H%M%S}.x12"
    inquiry.entries = [StatusInquiryClaim(claim_id=ids_by_trace[c.trace], trace=c.trace) for c in claims]
    record_change(
        "status_inquiry",
        inquiry.id,
        AuditAction.STATUS_INQUIRY_CREATED,
        actor=actor,
        after=inquiry.status.value,
        data={"claims": len(claims), "control_number": control},
    )
    record_changes("claim", [
        Change(ids_by_trace[c.trace], AuditAction.CLAIM_STATUS_ASKED, "submitted", "submitted",
               f"Asked the payer for its status in {inquiry.number}") for c in claims
    ], actor=actor)  # fmt: skip
    db.session.flush()
    if house.sftp_host and house.sftp_username and house.sftp_host_key:
        _upload(inquiry, actor, uploader)
    return inquiry


def _envelope(house: Clearinghouse, inquiry: StatusInquiry) -> Envelope:
    return Envelope(
        sender_qualifier=house.isa_sender_qualifier, sender_id=house.isa_sender_id,
        receiver_qualifier=house.isa_receiver_qualifier, receiver_id=house.isa_receiver_id,
        gs_sender=house.gs_sender_code, gs_receiver=house.gs_receiver_code, usage_indicator=house.usage_indicator,
        control_number=inquiry.control_number, created_at=inquiry.created_at, submitter_name=house.submitter_name,
        submitter_etin=house.submitter_etin, contact_name=house.submitter_contact_name,
        contact_phone=house.submitter_contact_phone, contact_email=house.submitter_contact_email,
        receiver_name=house.receiver_name, receiver_etin=house.receiver_id, reference=inquiry.number,
    )  # fmt: skip


def _upload(inquiry: StatusInquiry, actor: Actor, uploader: Uploader) -> None:
    settings = sftp_settings(inquiry.clearinghouse)
    try:
        uploader(settings, inquiry.file_name, inquiry.content.encode("ascii"))
    except BillingError:
        raise
    except Exception as exc:  # a connection library's own error: nothing is recorded, asking again is harmless
        logger.warning("Upload of status inquiry %s stopped: %s", inquiry.number, type(exc).__name__)
        raise Failed(
            f"The upload of {inquiry.file_name} stopped ({type(exc).__name__}); nobody was asked. Try again."
        ) from None
    inquiry.status, inquiry.sent_at, inquiry.sent_by = InquiryStatus.SENT, utcnow(), actor.name
    record_change(
        "status_inquiry",
        inquiry.id,
        AuditAction.STATUS_INQUIRY_SENT,
        actor=actor,
        before="generated",
        after="sent",
        reason=f"Uploaded {inquiry.file_name} to {settings.host}",
    )
    db.session.flush()


def due_for_asking(scope: Scope, *, today: date) -> list[int]:
    """The follow-up queue's claims not asked about in the last RECENT_DAYS days."""
    ids = due_for_follow_up(scope, today=today).claim_ids
    recent = last_asked(ids)
    return [i for i in ids if i not in recent or recent[i] < today - timedelta(days=RECENT_DAYS)]


def ask_due(scope: Scope, *, actor: Actor, today: date, uploader: Uploader = sftp.upload) -> Asked:
    """Ask about every claim due for follow-up (not asked recently); claims that cannot go are listed, not fatal."""
    ids = due_for_asking(scope, today=today)
    if not ids:
        raise NothingToDo(
            f"No claim due for follow-up needs a status inquiry (none, or all asked in the last {RECENT_DAYS} days)."
        )
    return ask_payers(ids, actor=actor, uploader=uploader, strict=False)


def last_asked(claim_ids: Iterable[int]) -> dict[int, date]:
    """Per claim, the practice's day of its latest inquiry."""
    asked: dict[int, date] = {}
    for ids in _chunks(list(claim_ids)):
        query = (
            select(StatusInquiryClaim.claim_id, func.max(StatusInquiry.created_at))
            .join(StatusInquiry, StatusInquiry.id == StatusInquiryClaim.inquiry_id)
            .where(StatusInquiryClaim.claim_id.in_(ids))
            .group_by(StatusInquiryClaim.claim_id)
        )
        asked.update({claim_id: practice_date(at) for claim_id, at in db.session.execute(query)})
    return asked


# --- answers (277) ------------------------------------------------------------------------------------------------


@dataclass
class StatusImport:
    """What one 277 did; `as_dict()` is what `flask edi import --json` prints."""

    filename: str
    kind: str = "277"
    file_id: int | None = None
    duplicate: bool = False
    counts: dict[str, int] = field(default_factory=dict)
    unknown_claims: list[str] = field(default_factory=list)
    not_applied: int = 0
    earlier: str | None = None

    def summary(self) -> str:
        if self.duplicate:
            return f"{self.filename}: 277 already imported ({self.earlier}); nothing recorded again."
        parts = [f"{n} {StatusOutcome(k).label.lower()}" for k, n in sorted(self.counts.items())]
        if self.unknown_claims:
            parts.append(f"{len(self.unknown_claims)} unknown claim number(s)")
        if self.not_applied:
            parts.append(f"{self.not_applied} recorded only (claim no longer Submitted)")
        return f"{self.filename}: 277 claim status: " + (", ".join(parts) or "no claim statuses") + "."

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.filename,
            "kind": self.kind,
            "file_id": self.file_id,
            "duplicate": self.duplicate,
            "outcomes": self.counts,
            "unknown_claims": self.unknown_claims,
            "not_applied": self.not_applied,
            "summary": self.summary(),
        }


def import_277(data: bytes, *, filename: str, actor: Actor, clearinghouse: Clearinghouse | None = None) -> StatusImport:
    """Record every claim status of a 277 (raises ClaimStatusUnreadable, writing nothing, when it cannot be read)."""
    digest = hashlib.sha256(data).hexdigest()
    result = StatusImport(filename)
    earlier = db.session.scalar(select(StatusResponseFile).where(StatusResponseFile.sha256 == digest))
    if earlier is not None:
        result.duplicate, result.file_id = True, earlier.id
        result.earlier = f"as {earlier.number} on {earlier.received_at:%m/%d/%Y}"
        return result
    parsed = read_277(data)
    stored = StatusResponseFile(
        file_name=filename[:255],
        sha256=digest,
        content=data.decode("utf-8", "replace"),
        imported_by=actor.name,
        clearinghouse_id=clearinghouse.id if clearinghouse else None,
    )
    db.session.add(stored)
    db.session.flush()
    today = practice_today()
    claims = _claims_by_trace(parsed.claims)
    inquiries = _latest_inquiries([c.id for c in claims.values()])
    for report in parsed.claims:
        claim = claims.get(report.trace)
        if claim is None:
            result.unknown_claims.append(report.trace[:50])
        for answer in report.statuses:
            row = _record(stored, report, answer, claim, inquiries, today, actor)
            result.counts[row.outcome.value] = result.counts.get(row.outcome.value, 0) + 1
            result.not_applied += int(claim is not None and not row.applied)
    stored.summary = result.summary()[:500]
    result.file_id = stored.id
    record_change(
        "status_response_file",
        stored.id,
        AuditAction.CLAIM_STATUS_IMPORTED,
        actor=actor,
        reason=stored.summary,
        data={"file": filename[:255], "claims": len(parsed.claims)},
    )
    db.session.flush()
    return result


def _claims_by_trace(reports: Sequence[ClaimStatusReport]) -> dict[str, Claim]:
    ids = {r.trace: Claim.id_from_number(r.trace) for r in reports if _CLAIM.fullmatch(r.trace)}
    found = {c.id: c for chunk in _chunks(sorted({i for i in ids.values() if i})) for c in db.session.scalars(
        select(Claim).where(Claim.id.in_(chunk)))}  # fmt: skip
    return {trace: found[i] for trace, i in ids.items() if i in found}


_CLAIM = re.compile(r"C-\d{1,12}", re.IGNORECASE)


def _latest_inquiries(claim_ids: list[int]) -> dict[int, int]:
    latest: dict[int, int] = {}
    for ids in _chunks(claim_ids):
        query = (
            select(StatusInquiryClaim.claim_id, func.max(StatusInquiryClaim.inquiry_id))
            .where(StatusInquiryClaim.claim_id.in_(ids))
            .group_by(StatusInquiryClaim.claim_id)
        )
        latest.update({claim_id: inquiry_id for claim_id, inquiry_id in db.session.execute(query)})
    return latest


def _record(
    stored: StatusResponseFile,
    report: ClaimStatusReport,
    answer: StatusAnswer,
    claim: Claim | None,
    inquiries: dict[int, int],
    today: date,
    actor: Actor,
) -> ClaimStatusResponse:
    outcome = outcome_of(answer)
    row = ClaimStatusResponse(
        file_id=stored.id, claim_id=claim.id if claim else None, claim_reference=report.trace[:50],
        inquiry_id=inquiries.get(claim.id) if claim else None, outcome=outcome, codes=codes_of(answer),
        message=words_of(answer), effective_on=answer.effective_on, charge=answer.charge, paid=answer.paid,
        finalized_on=answer.finalized_on, check_issued_on=answer.check_issued_on,
        check_number=answer.check_number[:16] or None,
        payer_claim_number=(report.payer_claim_number or "")[:50] or None, heard_on=today,
    )  # fmt: skip
    if claim is None:
        row.note = "No claim of ours has this number."
    else:
        _follow(row, claim, answer, outcome, today, actor)
    db.session.add(row)
    return row


def expected_on(outcome: StatusOutcome, answer: StatusAnswer, today: date) -> date:
    """When the claim's follow-up is due again after this answer."""
    if outcome is StatusOutcome.PENDING:
        return today + timedelta(days=PENDING_RECHECK_DAYS)
    if outcome in (StatusOutcome.PAID, StatusOutcome.DENIED, StatusOutcome.FINALIZED):
        paid_on = answer.check_issued_on or answer.finalized_on or today
        return max(today, paid_on + timedelta(days=REMITTANCE_WAIT_DAYS))
    if outcome in (StatusOutcome.RECEIVED, StatusOutcome.INFORMATION):
        return today + timedelta(days=PENDING_RECHECK_DAYS)
    return today  # not found, returned, no answer: a person looks at it now


def _follow(
    row: ClaimStatusResponse, claim: Claim, answer: StatusAnswer, outcome: StatusOutcome, today: date, actor: Actor
) -> None:
    """Move a Submitted claim's follow-up to the day this answer makes it due; never the claim itself."""
    lock_claim(claim)
    if claim.status is not ClaimStatus.SUBMITTED:
        row.note = f"The claim is {claim.status.label} now; the answer is recorded, the follow-up left alone."
        record_change(
            "claim",
            claim.id,
            AuditAction.CLAIM_STATUS_ANSWERED,
            actor=actor,
            before=claim.status.value,
            after=claim.status.value,
            reason=f"277: {outcome.label}: {row.message}"[:500],
        )
        return
    state = db.session.get(ClaimFollowUp, claim.id)
    if state is None:
        state = ClaimFollowUp(claim_id=claim.id, updated_by=actor.name)
        db.session.add(state)
    before = state.next_follow_up_on
    now = utcnow()
    state.next_follow_up_on = row.next_follow_up_on = expected_on(outcome, answer, today)
    state.next_set_at, state.updated_at, state.updated_by = now, now, actor.name
    row.applied = True
    record_change(
        "claim",
        claim.id,
        AuditAction.CLAIM_STATUS_ANSWERED,
        actor=actor,
        before=_iso(before),
        after=_iso(state.next_follow_up_on),
        reason=f"277: {outcome.label}: {row.message}"[:500],
    )


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    return (ids[start : start + CHUNK] for start in range(0, len(ids), CHUNK))
