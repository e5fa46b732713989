"""A self-pay claim billed to insurance after all: the client's coverage was found (or added) later.

The patient's charge is withdrawn cleanly and the sessions are billed again, in one transaction: the self-pay
claim is voided (its charge, its move to the patient and any patient write-off reversed by linked entries, never
edited), and its sessions go on a new claim to the client's primary payer, Ready or Held like any new claim.
What the patient already paid stays on the voided claim as a patient credit, flagged Needs Review, to be refunded
or applied to the new claim once the payer answers (Credit Balances); so, as a void does, this asks the person
to confirm when money was received.
"""

from __future__ import annotations

from sqlalchemy import select

from billing.claims import hooks
from billing.claims.building import BillingResult, bill_sessions
from billing.claims.models import Claim
from billing.claims.queries import authorization_units_used, lock_claim
from billing.claims.self_pay import is_self_pay
from billing.claims.statuses import EDITABLE, ClaimStatus, transition
from billing.core.audit import Actor, AuditAction, record_change
from billing.core.db import db
from billing.core.errors import Conflict, NotAllowed
from billing.core.id_lists import any_of
from billing.core.time import practice_today
from billing.coverage.queries import load_coverage
from billing.sessions.models import TherapySession

REASON = "re-billed to insurance"


def rebill_to_insurance(claim: Claim, *, actor: Actor, money_confirmed: bool = False) -> BillingResult:
    """Withdraw a self-pay claim's patient bill and bill its sessions to the client's primary payer instead.

    Refused, with the way forward, when the claim is not self-pay, is already voided, or the client still has
    no insurance (other than self-pay) on the service date.
    """
    lock_claim(claim)
    _check(claim, money_confirmed)
    sessions = list(db.session.scalars(
        select(TherapySession).where(any_of(TherapySession.id, [ln.session_id for ln in claim.lines if ln.session_id]))
        .order_by(TherapySession.start_time, TherapySession.id)))
    action = AuditAction.CLAIM_RETRACTED if claim.status in EDITABLE else AuditAction.CLAIM_VOIDED
    transition(claim, ClaimStatus.VOIDED, action=action, actor=actor, reason=REASON)
    claim.void_reason, claim.void_to_send = REASON, False  # no payer ever had it: nothing to send
    hooks.bill_withdrawn.ask(claim, actor, practice_today(), REASON)
    db.session.flush()
    result = bill_sessions(sessions, actor=actor)
    billed_on = [c.number for c in (*result.created, *result.extended)]
    record_change("claim", claim.id, AuditAction.CLAIM_EDITED, actor=actor, before=claim.status.value,
                  after=claim.status.value, reason=f"{REASON}: its sessions are now on {', '.join(billed_on)}"[:500],
                  data={"rebilled_on": billed_on})
    return result


def _check(claim: Claim, money_confirmed: bool) -> None:
    if not claim.self_pay:
        raise NotAllowed(f"Claim {claim.number} already bills {claim.payer or 'a payer'}, not the patient; there is "
                         "nothing to move to insurance.")
    if claim.status is ClaimStatus.VOIDED:
        raise Conflict(f"Claim {claim.number} is voided; bill its sessions again from the sessions list instead.")
    book = load_coverage([claim.client_id], [claim.location.practice.company_id],
                         units_used=authorization_units_used)
    if is_self_pay(book.primary_policy(claim.client_id, claim.service_date)):
        raise NotAllowed(f"{claim.client.full_name} has no insurance policy active as primary on "
                         f"{claim.service_date:%m/%d/%Y}. Add the policy (or end the self-pay one) on the client's "
                         f"page first, then re-bill claim {claim.number} to insurance.")
    if not money_confirmed and (money := hooks.money_received.first(claim.id)) is not None:
        raise NotAllowed(f"Claim {claim.number} has money on it ({money}). Confirm to re-bill it to insurance.")
