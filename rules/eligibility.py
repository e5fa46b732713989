"""Which claims may go into a submission batch, and why the others may not.

Submissions ask this one question; the rules engine answers it with what it knows (open failed
charges, rule errors, delays) on top of the claim's own status.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select

from billing.claims.models import Claim
from billing.claims.statuses import ClaimStatus
from billing.db import db


def submission_blockers(claim_ids: Collection[int]) -> dict[int, str]:
    """Map each claim that may not be submitted now to the reason; eligible claims are absent."""
    if not claim_ids:
        return {}
    rows = db.session.execute(select(Claim.id, Claim.status).where(Claim.id.in_(list(claim_ids))))
    return {cid: f"claim is {status.label}" for cid, status in rows if status is not ClaimStatus.READY}
