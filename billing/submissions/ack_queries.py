"""Reads over acknowledgments: a claim's trail, why rejected claims were rejected, a batch's counts."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from billing.core.db import db
from billing.core.id_lists import any_of
from billing.submissions.models import (
    Acknowledgment,
    AckOutcome,
    BatchClaim,
    BatchStatus,
    ClaimAcknowledgment,
    SubmissionBatch,
)

CHUNK = 2000


def claim_trail(claim_id: int) -> list[ClaimAcknowledgment]:
    """Every 999 and 277CA outcome recorded for the claim, oldest first, with its file."""
    return list(db.session.scalars(
        select(ClaimAcknowledgment).where(ClaimAcknowledgment.claim_id == claim_id)
        .options(joinedload(ClaimAcknowledgment.acknowledgment), joinedload(ClaimAcknowledgment.batch))
        .order_by(ClaimAcknowledgment.id)))


def rejection_reasons(claim_ids: Iterable[int]) -> dict[int, ClaimAcknowledgment]:
    """Each claim's latest rejection that was applied (what put it in Rejected); one query per 2,000 claims."""
    ids = list(claim_ids)
    found: dict[int, ClaimAcknowledgment] = {}
    for start in range(0, len(ids), CHUNK):
        latest = (select(func.max(ClaimAcknowledgment.id))
                  .where(any_of(ClaimAcknowledgment.claim_id, ids[start:start + CHUNK]),
                         ClaimAcknowledgment.outcome == AckOutcome.REJECTED, ClaimAcknowledgment.applied)
                  .group_by(ClaimAcknowledgment.claim_id))
        for row in db.session.scalars(select(ClaimAcknowledgment).where(any_of(ClaimAcknowledgment.id, latest))
                                      .options(joinedload(ClaimAcknowledgment.acknowledgment))):
            if row.claim_id is not None:
                found[row.claim_id] = row
    return found


def batch_ack_counts(batch_id: int) -> dict[str, int]:
    """Claims of the batch by their latest acknowledgment for it: accepted (with or without errors), rejected,
    informational only; `unanswered` is left to the caller (it knows the batch's claim count)."""
    latest = (select(func.max(ClaimAcknowledgment.id)).where(ClaimAcknowledgment.batch_id == batch_id,
                                                             ClaimAcknowledgment.claim_id.is_not(None))
              .group_by(ClaimAcknowledgment.claim_id))
    rows = db.session.execute(select(ClaimAcknowledgment.outcome, func.count())
                              .where(any_of(ClaimAcknowledgment.id, latest)).group_by(ClaimAcknowledgment.outcome))
    counts = {"accepted": 0, "rejected": 0, "information": 0}
    for outcome, n in rows:
        key = "accepted" if outcome in (AckOutcome.ACCEPTED, AckOutcome.ACCEPTED_WITH_ERRORS) else outcome.value
        counts[key] += n
    return counts


def batch_acknowledgments(batch_id: int) -> list[Acknowledgment]:
    """The acknowledgment files that answered the batch (a 999 names it; a 277CA's claims do)."""
    named = select(ClaimAcknowledgment.acknowledgment_id).where(ClaimAcknowledgment.batch_id == batch_id)
    return list(db.session.scalars(select(Acknowledgment).where(
        (Acknowledgment.batch_id == batch_id) | any_of(Acknowledgment.id, named)).order_by(Acknowledgment.id)))


@dataclass(frozen=True)
class FilingEvidence:
    """One send of a claim and what acknowledged it: the proof of timely filing a payer asks for."""

    claim_id: int
    batch: str
    sent_at: datetime | None
    file_name: str
    interchange_control: str  # ISA13 / GS06
    transaction_control: str | None  # ST02
    frequency_code: str
    acknowledgments: tuple[ClaimAcknowledgment, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "batch": self.batch, "sent_at": self.sent_at.isoformat() if self.sent_at else None,
            "file": self.file_name, "control_number": self.interchange_control,
            "transaction_control": self.transaction_control, "frequency_code": self.frequency_code,
            "acknowledgments": [{"kind": a.acknowledgment.kind.label, "file": a.acknowledgment.file_name,
                                 "date": a.effective_on.isoformat() if a.effective_on else None,
                                 "recorded_at": a.recorded_at.isoformat(), "outcome": a.outcome.value,
                                 "codes": a.codes, "payer_claim_number": a.payer_claim_number}
                                for a in self.acknowledgments],
        }  # fmt: skip


def filing_evidence(claim_ids: Iterable[int]) -> dict[int, list[FilingEvidence]]:
    """Every sent batch each claim went in (oldest first), with the 999/277CA outcomes recorded for that send.

    Set-based: two queries per 2,000 claims."""
    ids = list(claim_ids)
    found: dict[int, list[FilingEvidence]] = {}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        acks: dict[tuple[int, int], list[ClaimAcknowledgment]] = {}
        for a in db.session.scalars(select(ClaimAcknowledgment).where(any_of(ClaimAcknowledgment.claim_id, chunk))
                                    .options(joinedload(ClaimAcknowledgment.acknowledgment))
                                    .order_by(ClaimAcknowledgment.id)):
            acks.setdefault((a.claim_id or 0, a.batch_id or 0), []).append(a)
        rows = db.session.execute(
            select(BatchClaim.claim_id, BatchClaim.transaction_control, BatchClaim.frequency_code, SubmissionBatch)
            .join(SubmissionBatch, SubmissionBatch.id == BatchClaim.batch_id)
            .where(any_of(BatchClaim.claim_id, chunk), SubmissionBatch.status == BatchStatus.SENT)
            .order_by(SubmissionBatch.sent_at, SubmissionBatch.id))
        for claim_id, transaction, frequency, batch in rows:
            found.setdefault(claim_id, []).append(FilingEvidence(
                claim_id, batch.number, batch.sent_at, batch.file_name, f"{batch.control_number:09d}", transaction,
                frequency, tuple(acks.get((claim_id, batch.id), ()))))
    return found
