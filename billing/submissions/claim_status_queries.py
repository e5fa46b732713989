"""Reads of the 277 answers the follow-up queue and the claim page need (the writes are in `claim_status`)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import func, select

from billing.claims.models import Claim
from billing.core.db import db
from billing.submissions.claim_status_models import (
    ClaimStatusResponse,
    StatusInquiry,
    StatusInquiryClaim,
    StatusOutcome,
)

CHUNK = 2000
#: The answers that count as the payer's word on the claim (a "not found" or "cannot answer" does not).
HEARD = tuple(o for o in StatusOutcome if o.counts_as_heard)


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    return (ids[start : start + CHUNK] for start in range(0, len(ids), CHUNK))


def answered_on(claim_ids: Iterable[int]) -> dict[int, date]:
    """Per claim, the latest day a 277 answer that counts as hearing from the payer arrived."""
    heard: dict[int, date] = {}
    for ids in _chunks(list(claim_ids)):
        query = (
            select(ClaimStatusResponse.claim_id, func.max(ClaimStatusResponse.heard_on))
            .where(ClaimStatusResponse.claim_id.in_(ids), ClaimStatusResponse.outcome.in_(HEARD))
            .group_by(ClaimStatusResponse.claim_id)
        )
        heard.update({claim_id: day for claim_id, day in db.session.execute(query)})
    return heard


def latest_answers(claim_ids: Iterable[int]) -> dict[int, ClaimStatusResponse]:
    """Per claim, its newest 277 answer (the follow-up queue's "Payer says" column)."""
    latest: dict[int, ClaimStatusResponse] = {}
    for ids in _chunks(list(claim_ids)):
        newest = (
            select(func.max(ClaimStatusResponse.id))
            .where(ClaimStatusResponse.claim_id.in_(ids))
            .group_by(ClaimStatusResponse.claim_id)
        )
        latest.update(
            (r.claim_id, r)
            for r in db.session.scalars(select(ClaimStatusResponse).where(ClaimStatusResponse.id.in_(newest)))
            if r.claim_id is not None
        )
    return latest


def status_trail(claim: Claim) -> list[ClaimStatusResponse]:
    """A claim's 277 answers, newest first (the claim page)."""
    return list(
        db.session.scalars(
            select(ClaimStatusResponse)
            .where(ClaimStatusResponse.claim_id == claim.id)
            .order_by(ClaimStatusResponse.id.desc())
        )
    )


def inquiries_of(claim: Claim) -> list[StatusInquiry]:
    """The 276 inquiries that asked about a claim, newest first."""
    return list(
        db.session.scalars(
            select(StatusInquiry)
            .join(StatusInquiryClaim, StatusInquiryClaim.inquiry_id == StatusInquiry.id)
            .where(StatusInquiryClaim.claim_id == claim.id)
            .order_by(StatusInquiry.id.desc())
        )
    )
