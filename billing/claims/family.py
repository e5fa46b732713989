"""Claim families (Posting rule 6): a claim with its corrections, voids, secondary, tertiary and crossover claims
and the resubmissions of its denied lines. One service, one open charge across them.

Each member carries `family_id`, the id of the family's root (the first original); the root itself keeps a null
family id, so its family id is its own id (`Claim.family_root_id`). What links a member to the member it came
from stays on its own column: `original_claim_id` (corrections, voids), `primary_claim_id` (secondary,
tertiary, crossover claims), `resubmission_of_id` (a resubmission of denied lines).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import or_, select
from sqlalchemy.orm import aliased, selectinload

from billing.claims.models import Claim, ClaimLine, claim_number
from billing.claims.statuses import SENT, ClaimStatus
from billing.core.audit import StatusChange
from billing.core.db import db
from billing.core.id_lists import any_of
from billing.coverage.models import PolicyRank


class FamilyRole(StrEnum):
    ORIGINAL = "original"
    CORRECTED = "corrected replacement"
    VOID = "void"
    SECONDARY = "secondary"
    TERTIARY = "tertiary"
    CROSSOVER = "crossover"
    RESUBMISSION = "resubmission"


@dataclass(frozen=True)
class FamilyMember:
    claim: Claim
    role: FamilyRole
    #: The member it came from (None for the root).
    parent_id: int | None


def join_family(child: Claim, parent: Claim) -> None:
    """Make `child` a member of `parent`'s family (call before the child is flushed or after, either works)."""
    child.family_id = parent.family_root_id


def role_of(claim: Claim) -> FamilyRole:
    """What the claim is to its family; the most specific link wins (a corrected secondary is a correction)."""
    if claim.frequency_code == "7":
        return FamilyRole.CORRECTED
    if claim.frequency_code == "8":
        return FamilyRole.VOID
    if claim.resubmission_of_id is not None:
        return FamilyRole.RESUBMISSION
    if claim.forwarded_by_payer_id is not None:
        return FamilyRole.CROSSOVER
    if claim.primary_claim_id is not None:
        return FamilyRole.TERTIARY if claim.payer_rank is PolicyRank.TERTIARY else FamilyRole.SECONDARY
    return FamilyRole.ORIGINAL


def _parent_id(claim: Claim) -> int | None:
    return claim.original_claim_id or claim.resubmission_of_id or claim.primary_claim_id


def family_claims(claim: Claim) -> list[Claim]:
    """Every claim of the family, the root first, then in the order they were made."""
    root = claim.family_root_id
    return list(db.session.scalars(
        select(Claim).where(or_(Claim.id == root, Claim.family_id == root)).order_by(Claim.id)
        .options(selectinload(Claim.payer))
    ))


def family_of(claim: Claim) -> list[FamilyMember]:
    """The family with each member's role, in the order the claims were made (the root first)."""
    return [FamilyMember(member, role_of(member), _parent_id(member)) for member in family_claims(claim)]


def replaced_by(claim: Claim) -> Claim | None:
    """The live corrected claim that replaces this one, if any."""
    return db.session.scalar(
        select(Claim).where(Claim.original_claim_id == claim.id, Claim.frequency_code == "7",
                            Claim.status != ClaimStatus.VOIDED).order_by(Claim.id.desc()).limit(1)
    )


def billed_again(claim: Claim) -> dict[int, Claim]:
    """The lines of this claim that a later live claim to a payer of the same rank bills again (a resubmission
    of its denied lines, a corrected claim, or theirs), each with the latest such claim: while it stands the
    service is open there, not here (Posting rule 6). One query."""
    mine, theirs = aliased(ClaimLine), aliased(ClaimLine)
    rows = db.session.execute(
        select(mine.id, Claim).select_from(mine)
        .join(theirs, (theirs.session_id == mine.session_id) & (theirs.service_code_id == mine.service_code_id))
        .join(Claim, Claim.id == theirs.claim_id)
        .where(mine.claim_id == claim.id, mine.session_id.is_not(None), Claim.id > claim.id,
               Claim.status != ClaimStatus.VOIDED, Claim.frequency_code != "8", Claim.payer_rank == claim.payer_rank)
        .order_by(Claim.id)
    )
    return {line_id: carrier for line_id, carrier in rows}


def superseded_reason(claim: Claim) -> str | None:
    """Why money for this claim is for a member the payer should no longer be paying (voided or replaced)."""
    return superseded_reasons({claim.id: claim}).get(claim.id)


def was_sent(claim: Claim) -> bool:
    """The payer has (or had) the claim: it is Submitted, Paid or Denied, or it was voided after it was sent.
    Money for such a claim is posted against it, whatever became of it since (Posting rule 6)."""
    if claim.status in SENT:
        return True
    if claim.status is not ClaimStatus.VOIDED:
        return False
    return db.session.scalar(
        select(StatusChange.id).where(StatusChange.subject_type == "claim", StatusChange.subject_id == claim.id,
                                      StatusChange.to_status == ClaimStatus.SUBMITTED.value).limit(1)
    ) is not None


def superseded_reasons(claims: dict[int, Claim]) -> dict[int, str]:
    """Of these claims, those voided or replaced by a live corrected claim, each with why (one query)."""
    reasons = {cid: f"claim {c.number} was voided" for cid, c in claims.items() if c.status is ClaimStatus.VOIDED}
    corrections = db.session.execute(
        select(Claim.original_claim_id, Claim.id).where(
            any_of(Claim.original_claim_id, claims), Claim.frequency_code == "7", Claim.status != ClaimStatus.VOIDED)
    )
    for original_id, correction_id in corrections:
        if original_id not in reasons:
            reasons[original_id] = f"claim {claims[original_id].number} was replaced by corrected claim " \
                                   f"{claim_number(correction_id)}"
    return reasons
