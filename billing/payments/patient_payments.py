"""A patient payment as one money operation: applied to a chosen claim, or oldest first across the client's claims.

Either way it is posted once per one-time key (billing/core/operation_keys.py): the key is taken in the same
transaction as the entries, and a repeat of the key returns the payment the first use made. Every claim it touches
is locked (oldest first, the same order for everyone, so two payments cannot deadlock), what is owed is read after
the locks, and the whole split is checked before anything is written. The entries themselves are posted by
`record_patient_payment`, so a claim's own rules (its lines oldest first, the credit flag, self-pay settling) hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from billing.claims.models import Claim
from billing.claims.queries import lock_claim
from billing.claims.statuses import SENT
from billing.core.audit import Actor, AuditAction, record_change
from billing.core.db import db
from billing.core.errors import NotAllowed, NotFound, Problem, raise_if
from billing.core.id_lists import any_of
from billing.core.money import ZERO, format_money, sum_money, to_money
from billing.core.operation_keys import checked_key, claim_key, previous_use
from billing.ledger.patient_balances import patient_balance, patient_items
from billing.payments.operations import record_patient_payment
from billing.payments.patient_payment_models import PatientPayment, PatientPaymentPart

OPERATION = "patient_payment"
OLDEST_FIRST = "oldest_first"
ONE_CLAIM = "claim"


@dataclass(frozen=True)
class Share:
    claim: Claim
    amount: Decimal


@dataclass(frozen=True)
class PaymentReceived:
    """The payment (new, or the first one made with this key) and whether this call posted it."""

    payment: PatientPayment
    repeated: bool

    def as_dict(self) -> dict[str, Any]:
        return {"ok": True, "receipt": self.payment.number, "payment_id": self.payment.id,
                "client_id": self.payment.client_id, "amount": str(self.payment.amount),
                "applied_by": self.payment.applied_by, "repeated": self.repeated,
                "claims": [{"claim": claim, "amount": str(amount)} for claim, amount in applied(self.payment)],
                "patient_balance": str(patient_balance(self.payment.client_id))}

    def summary(self) -> str:
        said = "was already recorded; nothing was posted again" if self.repeated else "recorded"
        split = ", ".join(f"{claim} {format_money(amount)}" for claim, amount in applied(self.payment))
        return (f"Patient payment {self.payment.number} of {format_money(self.payment.amount)} {said} ({split}); "
                f"the client now owes {format_money(patient_balance(self.payment.client_id))}.")


def applied(payment: PatientPayment) -> list[tuple[str, Decimal]]:
    """How much of the payment went to each claim, by claim number, in the order it was applied."""
    totals: dict[str, Decimal] = {}
    for part in payment.parts:
        totals[part.entry.claim.number] = totals.get(part.entry.claim.number, ZERO) + part.entry.amount
    return [(number, to_money(amount)) for number, amount in totals.items()]


def receive_patient_payment(client_id: int, amount: Decimal, *, key: str, actor: Actor, received_on: date,
                            claim: Claim | None = None, memo: str | None = None,
                            overpayment: bool = False) -> PaymentReceived:
    """Record money from the patient or responsible party: on `claim`, or (None) oldest service first across the
    client's claims. More than they owe is refused unless `overpayment`: the rest stays on the last claim paid as
    a patient credit, flagged Needs Review, as on one claim."""
    key = checked_key(key)
    subject = f"client:{client_id}"
    if (done := _repeat(key, subject)) is not None:
        return done
    raise_if(_input_problems(client_id, amount, claim))
    shares = _shares(client_id, to_money(amount), claim, overpayment=overpayment)
    if claim_key(key, operation=OPERATION, subject=subject, actor=actor.name) is None:
        done = _repeat(key, subject)  # a concurrent submit of the same key committed first
        assert done is not None
        return done
    payment = PatientPayment(client_id=client_id, amount=to_money(amount), received_on=received_on,
                             applied_by=ONE_CLAIM if claim is not None else OLDEST_FIRST,
                             memo=(memo or "").strip()[:500] or None, actor=actor.name, operation_key=key)
    db.session.add(payment)
    db.session.flush()
    for number, share in enumerate(shares, start=1):
        extra = overpayment and number == len(shares)
        entries = record_patient_payment(share.claim, share.amount, actor=actor, posted_on=received_on,
                                         memo=f"{payment.number}{': ' + payment.memo if payment.memo else ''}",
                                         overpayment=extra)
        db.session.add_all(PatientPaymentPart(payment_id=payment.id, ledger_entry_id=e.id) for e in entries)
    db.session.flush()
    db.session.expire(payment, ["parts"])
    record_change("patient_payment", payment.id, AuditAction.PATIENT_PAYMENT_RECEIVED, actor=actor,
                  reason=payment.memo, data={"amount": str(payment.amount), "client_id": client_id,
                                             "applied_by": payment.applied_by,
                                             "claims": {s.claim.number: str(s.amount) for s in shares}})
    return PaymentReceived(payment, repeated=False)


def _repeat(key: str, subject: str) -> PaymentReceived | None:
    if previous_use(key, operation=OPERATION, subject=subject) is None:
        return None
    payment = db.session.scalar(select(PatientPayment).where(PatientPayment.operation_key == key))
    if payment is None:
        raise NotAllowed("This one-time key was used, but its payment is not found; nothing was posted.")
    return PaymentReceived(payment, repeated=True)


def _input_problems(client_id: int, amount: Decimal, claim: Claim | None) -> list[Problem]:
    problems = []
    if to_money(amount) <= ZERO:
        problems.append(Problem("amount", "Enter the amount the patient or responsible party paid (above $0.00)."))
    if claim is not None and claim.client_id != client_id:
        problems.append(Problem("claim", f"Claim {claim.number} is not this client's claim."))
    return problems


def _shares(client_id: int, amount: Decimal, chosen: Claim | None, *, overpayment: bool) -> list[Share]:
    """The split of `amount`, checked whole before anything is posted; the claims are locked and read after."""
    if chosen is not None:
        return [Share(chosen, amount)]  # record_patient_payment checks the claim's own balance and status
    owed = _owing_claims(client_id)
    available = sum_money(o for _, o in owed)
    if not owed:
        raise NotAllowed(f"Client {client_id} owes nothing on any billed claim: there is nothing to apply a payment "
                         "to. Record it on a chosen claim as an overpayment if the money was really received.")
    if amount > available and not overpayment:
        raise_if([Problem("overpayment", f"{format_money(amount)} is more than the {format_money(available)} the "
                                         "client owes; if that much was paid, confirm the overpayment.")])
    shares, left = [], amount
    for number, (claim, owes) in enumerate(owed, start=1):
        share = left if number == len(owed) else min(left, owes)  # an overpayment's rest stays on the last claim
        if share > ZERO:
            shares.append(Share(claim, share))
            left -= share
    return shares


def _owing_claims(client_id: int) -> list[tuple[Claim, Decimal]]:
    """The client's billed claims the patient owes on, oldest service first, each locked, owed as now committed."""
    ids = [item.claim_id for item in patient_items(client_id) if item.balance > ZERO and item.status in SENT]
    claims = [lock_claim(c) for c in db.session.scalars(select(Claim).where(any_of(Claim.id, ids)).order_by(Claim.id))]
    by_id = {c.id: c for c in claims}
    fresh = {item.claim_id: item for item in patient_items(client_id)}  # re-read under the locks
    ordered = sorted((fresh[i] for i in by_id if i in fresh), key=lambda item: (item.service_date, item.claim_id))
    return [(by_id[item.claim_id], item.balance) for item in ordered if item.balance > ZERO]


def patient_payment(payment_id: int) -> PatientPayment:
    payment = db.session.get(PatientPayment, payment_id)
    if payment is None:
        raise NotFound(f"No patient payment {payment_id}.")
    return payment
