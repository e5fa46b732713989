"""Self-pay claims are patient bills: a claim no payer ever sees.

A claim is self-pay when the client's primary policy on the service date is with a self-pay payer
(`PayerType.SELF_PAY`, SBR09 "09"), or when the client has no insurance on that date. Building marks it
(`Claim.self_pay`); the moment it is complete (built whole, or released from Held once a rate is found) it is
billed to the patient: Ready -> Submitted in the same transaction, with its charge posted to the patient's
balance (the ledger answers the `patient_billed` hook). So it never waits in Ready, is never batched or sent,
and takes patient payments like any patient balance. Paid follows when the patient owes nothing
(billing/ledger/patient_bills.py). Why this status path: docs/architecture.md, "Self-pay claims".

`bill_ready_self_pay` is the one-off move for a database from before self-pay billing: its Ready claims of a
self-pay payer go to the patient the same way (idempotent: a claim already billed is no longer Ready).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import or_, select

from billing.claims import hooks
from billing.claims.models import Claim
from billing.claims.queries import lock_claim
from billing.claims.statuses import ClaimStatus, transition
from billing.core.audit import Actor, AuditAction, Change, record_changes
from billing.core.db import chunked, db
from billing.core.id_lists import any_of
from billing.core.time import practice_today
from billing.coverage.models import InsurancePolicy, Payer, PayerType

CHUNK = 2000
BILLED_REASON = "self-pay: billed to the patient, never to a payer"


def is_self_pay(policy: InsurancePolicy | None) -> bool:
    """Whether a claim under this primary policy (None: no insurance on the date) bills the patient."""
    return policy is None or policy.payer.payer_type is PayerType.SELF_PAY


def bill_self_pay_claims(claims: Sequence[Claim], *, actor: Actor, posted_on: date | None = None) -> list[Claim]:
    """Send the Ready self-pay claims among `claims` to the patient: Submitted, charge on the patient's balance.

    Others (insurance claims, Held self-pay claims still missing a price) are left as they are. History rows
    are written in one INSERT, so billing thousands of sessions stays a handful of statements.
    """
    due = [c for c in claims if c.self_pay and c.status is ClaimStatus.READY]
    if not due:
        return []
    changes: list[Change] = []

    def collect(_subject: str, subject_id: int, action: AuditAction, *, before: str | None, after: str | None,
                reason: str | None, **_: Any) -> None:
        changes.append(Change(subject_id, action, before=before, after=after, reason=reason))

    for claim in due:
        transition(claim, ClaimStatus.SUBMITTED, action=AuditAction.SELF_PAY_BILLED, actor=actor,
                   reason=BILLED_REASON, record=collect)
    record_changes("claim", changes, actor=actor)
    db.session.flush()
    hooks.patient_billed.ask(due, actor, posted_on or practice_today())
    return due


@dataclass
class SelfPayMove:
    """What `bill_ready_self_pay` did: the claims moved to patient billing, by number."""

    billed: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"ok": True, "billed": len(self.billed), "claims": self.billed}


def bill_ready_self_pay(*, actor: Actor, posted_on: date | None = None) -> SelfPayMove:
    """Move every Ready claim of a self-pay payer (or marked self-pay) to patient billing; running it again
    moves nothing. Each claim is locked and re-read first, so two runs at once bill each claim once."""
    self_pay_payers = select(Payer.id).where(Payer.payer_type == PayerType.SELF_PAY)
    ids = list(db.session.scalars(
        select(Claim.id).where(Claim.status == ClaimStatus.READY,
                               or_(Claim.self_pay.is_(True), any_of(Claim.payer_id, self_pay_payers)))
        .order_by(Claim.id)))
    move = SelfPayMove()
    for chunk in chunked(ids, CHUNK):
        claims = list(db.session.scalars(select(Claim).where(any_of(Claim.id, chunk)).order_by(Claim.id)))
        for claim in claims:
            lock_claim(claim)
            claim.self_pay = True
        move.billed += [c.number for c in bill_self_pay_claims(claims, actor=actor, posted_on=posted_on)]
    return move
