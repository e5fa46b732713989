"""Reads over acknowledgments: a claim's trail, why rejected claims were rejected, a batch's counts."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from billing.core.db import db
from billing.submissions.models import Acknowledgment, AckOutcome, ClaimAcknowledgment

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
                  .where(ClaimAcknowledgment.claim_id.in_(ids[start:start + CHUNK]),
                         ClaimAcknowledgment.outcome == AckOutcome.REJECTED, ClaimAcknowledgment.applied)
                  .group_by(ClaimAcknowledgment.claim_id))
        for row in db.session.scalars(select(ClaimAcknowledgment).where(ClaimAcknowledgment.id.in_(latest))
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
                              .where(ClaimAcknowledgment.id.in_(latest)).group_by(ClaimAcknowledgment.outcome))
    counts = {"accepted": 0, "rejected": 0, "information": 0}
    for outcome, n in rows:
        key = "accepted" if outcome in (AckOutcome.ACCEPTED, AckOutcome.ACCEPTED_WITH_ERRORS) else outcome.value
        counts[key] += n
    return counts


def batch_acknowledgments(batch_id: int) -> list[Acknowledgment]:
    """The acknowledgment files that answered the batch (a 999 names it; a 277CA's claims do)."""
    named = select(ClaimAcknowledgment.acknowledgment_id).where(ClaimAcknowledgment.batch_id == batch_id)
    return list(db.session.scalars(select(Acknowledgment).where(
        (Acknowledgment.batch_id == batch_id) | Acknowledgment.id.in_(named)).order_by(Acknowledgment.id)))
