"""The unmatched queue: 835 claim payments that matched none of our claims, matched or set aside by a biller.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from billing.claims.family import superseded_reason, was_sent
from billing.claims.models import Claim
from billing.core.audit import Actor, AuditAction, record_change
from billing.core.db import db, utcnow
from billing.core.errors import Conflict, Invalid, NotAllowed
from billing.edi.era import (
    claim_from_data,
)
from billing.payments.models import UnmatchedClaim, UnmatchedStatus
from billing.payments.remittances import post_claim_payment


def match_unmatched(item: UnmatchedClaim, claim: Claim, *, actor: Actor) -> None:
    """A biller says which claim an unmatched payment belongs to; it then posts as if it had matched."""
    if item.status is UnmatchedStatus.MATCHED:
        raise Conflict(f"That payment was already matched to {item.matched_claim}.")
    if not was_sent(claim):  # voided or replaced after it was sent, it still takes its money (flagged)
        raise NotAllowed(f"Claim {claim.number} is {claim.status.label}; only a submitted claim is paid.")
    post_claim_payment(claim_from_data(item.data), claim, item.remittance, actor=actor,
                       superseded=superseded_reason(claim))
    item.status, item.matched_claim_id = UnmatchedStatus.MATCHED, claim.id
    item.matched_at, item.matched_by = utcnow(), actor.name
    record_change("claim", claim.id, AuditAction.ERA_MATCHED, actor=actor, before=claim.status.value,
                  after=claim.status.value, data={"unmatched_id": item.id, "clp01": item.claim_number})


def set_aside_unmatched(item: UnmatchedClaim, *, reason: str, actor: Actor) -> None:
    """Take a payment that is not ours out of the open queue; it stays, with why, and can still be matched."""
    if item.status is not UnmatchedStatus.OPEN:
        raise Conflict(f"That payment is already {item.status.value.replace('_', ' ')}.")
    if not reason or not reason.strip():
        raise Invalid("Say why this payment is not ours (another provider's patient, a closed account...).")
    item.status, item.note = UnmatchedStatus.SET_ASIDE, reason.strip()[:300]
    item.matched_at, item.matched_by = utcnow(), actor.name
    record_change("remittance", item.remittance_id, AuditAction.ERA_SET_ASIDE, actor=actor, reason=item.note,
                  data={"unmatched_id": item.id, "clp01": item.claim_number})


def open_unmatched() -> list[UnmatchedClaim]:
    return list(db.session.scalars(
        select(UnmatchedClaim).where(UnmatchedClaim.status == UnmatchedStatus.OPEN).order_by(UnmatchedClaim.id)
        .options(selectinload(UnmatchedClaim.remittance))
    ))
