"""A claim's family as people and scripts see it: each member with its role, payer, status and balance."""

from __future__ import annotations

from typing import Any

from billing.claims.family import family_of
from billing.claims.models import Claim, claim_number
from billing.ledger.balances import Balances, claim_balances


def family_document(claim: Claim) -> list[dict[str, Any]]:
    """The family of the claim (the root first), JSON-able: what `flask claims show --json` prints as "family"
    and the claim page's family panel shows. Balances are read from the ledger in one query."""
    members = family_of(claim)
    balances = claim_balances([m.claim.id for m in members])
    rows = []
    for member in members:
        sums = balances.get(member.claim.id, Balances())
        rows.append({
            "number": member.claim.number,
            "id": member.claim.id,
            "role": member.role.value,
            "payer": member.claim.payer.name if member.claim.payer else None,
            "rank": member.claim.payer_rank.value,
            "status": member.claim.status.value,
            "balance": str(sums.balance),
            "insurance_balance": str(sums.insurance),
            "patient_balance": str(sums.patient),
            "needs_review": member.claim.needs_review,
            "came_from": claim_number(member.parent_id) if member.parent_id else None,
            "forwarded_by": member.claim.forwarded_by_payer.name if member.claim.forwarded_by_payer else None,
            "this_claim": member.claim.id == claim.id,
        })
    return rows
