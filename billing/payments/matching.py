"""The unmatched queue: 835 claim payments that matched none of our claims, matched or set aside by a biller.

A match is checked before it posts: the check must be known to come from the claim's payer (or the biller
teaches its printed name in the same action), and what the payer says we charged must be the claim's charge
or that of the lines it pays (or the biller confirms the difference).
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from billing.claims.family import superseded_reason, was_sent
from billing.claims.models import Claim
from billing.claims.queries import lock_claim
from billing.core.audit import Actor, AuditAction, record_change
from billing.core.db import db, utcnow
from billing.core.errors import Conflict, Invalid, NotAllowed
from billing.core.operation_keys import claim_key
from billing.coverage.models import Payer
from billing.coverage.payer_names import add_payer_alias, is_known_payer_name
from billing.edi.era import (
    ClaimPaymentInfo,
    claim_from_data,
)
from billing.payments.models import UnmatchedClaim, UnmatchedStatus
from billing.payments.remittances import matched_lines_charge, post_claim_payment, remittance_from


def match_unmatched(item: UnmatchedClaim, claim: Claim, *, actor: Actor, remember_as: Payer | None = None,
                    charge_confirmed: bool = False, override_reason: str | None = None) -> None:
    """A biller says which claim an unmatched payment belongs to; it then posts as if it had matched.

    `remember_as` teaches the check's payer name as that payer first (only a name not known yet);
    `charge_confirmed` accepts a payer's charge that is neither the claim's nor its matched lines'. Either
    needs `override_reason`, which says why (kept in the payer's or the claim's history).
    """
    lock_claim(claim)
    db.session.refresh(item, with_for_update=True)  # as committed now: a concurrent match may have taken it
    if item.status is UnmatchedStatus.MATCHED:
        raise Conflict(f"That payment was already matched to {item.matched_claim}.")
    if not was_sent(claim):  # voided or replaced after it was sent, it still takes its money (flagged)
        raise NotAllowed(f"Claim {claim.number} is {claim.status.label}; only a submitted claim is paid.")
    info = claim_from_data(item.data)
    taught = _teach_payer_name(item, remember_as, actor=actor, reason=override_reason)
    _check_payer(item, claim)
    override = _charge_override(info, claim, charge_confirmed, override_reason)
    post_claim_payment(info, claim, item.remittance, actor=actor, superseded=superseded_reason(claim))
    _take(item, claim, actor)
    item.matched_at, item.matched_by = utcnow(), actor.name
    record_change("claim", claim.id, AuditAction.ERA_MATCHED, actor=actor, before=claim.status.value,
                  after=claim.status.value, reason=override,
                  data={"unmatched_id": item.id, "clp01": item.claim_number, "payer_name_taught": taught,
                        "charge_confirmed": override is not None})


def _take(item: UnmatchedClaim, claim: Claim, actor: Actor) -> None:
    """Mark the item matched in the database, or refuse: it posts at most once.

    Two guards, both the database's: the UPDATE only changes an item not matched yet, and the item's posting
    takes the primary key `unmatched-<id>` in the operation keys, which a second posting cannot insert. Either
    refusal raises, and the operation's single transaction takes its posting back.
    """
    taken = db.session.execute(
        update(UnmatchedClaim)
        .where(UnmatchedClaim.id == item.id, UnmatchedClaim.status != UnmatchedStatus.MATCHED)
        .values(status=UnmatchedStatus.MATCHED, matched_claim_id=claim.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(item)
    if taken != 1 or claim_key(f"unmatched-{item.id}", operation="unmatched.match", subject=f"claim:{claim.id}",
                               actor=actor.name) is None:
        raise Conflict(f"That payment was already matched to {item.matched_claim}.")


def _teach_payer_name(item: UnmatchedClaim, payer: Payer | None, *, actor: Actor,
                      reason: str | None) -> str | None:
    """Remember the check's payer name as `payer` when asked and the name is not known yet; the name taught.

    Teaching decides where every later check with that name posts, so it takes a reason (kept in the payer's
    history), as a charge override does.
    """
    remittance = item.remittance
    if payer is None or is_known_payer_name(remittance.payer_name):
        return None
    if not (reason or "").strip():
        raise Invalid(f"Say why “{remittance.payer_name}” is {payer.name} (an EOB, a call to the payer...): "
                      "it goes in the payer's history.")
    alias = add_payer_alias(payer, remittance.payer_name, actor=actor, reason=reason)
    if remittance.payer_id is None:
        remittance.payer_id = payer.id
    return alias.name


def _check_payer(item: UnmatchedClaim, claim: Claim) -> None:
    remittance = item.remittance
    if claim.payer is None:
        raise NotAllowed(f"Claim {claim.number} has no payer; a payer's check cannot pay it.")
    if not remittance_from(remittance, claim.payer):
        raise NotAllowed(
            f"Claim {claim.number} is billed to {claim.payer.name}, and check {remittance.check_number} is from "
            f"{remittance.payer_name!r}, which is not known to be {claim.payer.name}. If it is, remember the name "
            f"as {claim.payer.name} while matching."
        )


def _charge_override(info: ClaimPaymentInfo, claim: Claim, confirmed: bool, reason: str | None) -> str | None:
    """Why the biller posts a payment whose charge is not the claim's (None when the charges agree).

    An override is explicit: confirmed, and with a reason, which goes in the claim's history.
    """
    try:
        _check_charge(info, claim)
    except Conflict:
        if not confirmed:
            raise
        why = (reason or "").strip()
        if not why:
            raise Invalid("Say why this payment belongs to the claim although the charges differ (it goes in "
                          "the claim's history).") from None
        return f"charge differs, posted by the biller: {why}"[:500]
    return None


def _check_charge(info: ClaimPaymentInfo, claim: Claim) -> None:
    charge = abs(info.charge)  # a reversal (CLP02 = 22) sends the charge negated
    lines = matched_lines_charge(info, claim)
    if charge in (claim.total_charge, lines):
        return
    raise Conflict(
        f"The payer says the charge was {charge}; claim {claim.number} charged {claim.total_charge} "
        f"(the lines it pays, {lines}). Confirm the difference, with a reason, to post it anyway."
    )


def set_aside_unmatched(item: UnmatchedClaim, *, reason: str, actor: Actor) -> None:
    """Take a payment that is not ours out of the open queue; it stays, with why, and can still be matched."""
    db.session.refresh(item, with_for_update=True)
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
