"""Self-pay claims in the ledger: their charge goes straight to the patient's balance, and comes back out cleanly.

A self-pay claim (`Claim.self_pay`, see billing/claims/self_pay.py) is billed to the patient the moment it is
complete. Each line gets its charge and, beside it, the same amount moved to the patient (a patient
responsibility entry, exactly what "bill the patient" posts on an insurance claim). So the insurance side of a
self-pay claim is always zero and its whole balance is the patient's: A/R, patient side, in every report.

Its status follows the patient's balance (`settle_self_pay`): Submitted while the patient owes, Paid once
nothing is owed. Withdrawing the bill (a void, or re-billing the session to insurance) reverses the charge, the
move to the patient and any patient write-off by linked entries; what the patient paid stays as a patient
credit, flagged Needs Review, for the Credit Balances work (refund, or apply it to the client's next claim).

Operations write and flush, never commit: callers wrap them in `unit_of_work()`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import select

from billing.claims.models import Claim
from billing.claims.statuses import ClaimStatus, transition
from billing.core.audit import Actor, AuditAction, record_change
from billing.core.db import db
from billing.core.money import ZERO, format_money, sum_money
from billing.ledger.balances import claim_balance, credit_reason, line_charges, lines_with_charges, reversed_entry_ids
from billing.ledger.models import EntryKind, EntrySource, LedgerEntry
from billing.ledger.operations import reverse_entry
from billing.ledger.rows import RowBuffer, entry_values

CHUNK = 2000
BILLED_MEMO = "self-pay: billed to the patient"
#: What a withdrawn patient bill takes back: the charge, its move to the patient, and what was written off of
#: it. Money the patient paid (or a credit applied to it) is real and stays, as a credit.
WITHDRAWN = frozenset({EntryKind.CHARGE, EntryKind.PATIENT_RESPONSIBILITY, EntryKind.PATIENT_WRITE_OFF})


def post_patient_bills(claims: Sequence[Claim], actor: Actor, posted_on: date) -> int:
    """Each line of these self-pay claims: its charge, and the same amount moved to the patient's balance.

    The hook answer to `billing.claims.hooks.patient_billed`. A line already charged gets nothing more, so
    posting twice posts once. Set-based: one read and one multi-row INSERT per 2,000 claims. Returns the number
    of lines billed.
    """
    billed = [c for c in claims if c.self_pay]
    rows = RowBuffer()
    for start in range(0, len(billed), CHUNK):
        chunk = {c.id: c for c in billed[start:start + CHUNK]}
        charged = lines_with_charges(chunk)
        for line_id, claim_id, charge in line_charges(chunk):
            if line_id in charged or charge == ZERO:
                continue
            claim = chunk[claim_id]
            for kind in (EntryKind.CHARGE, EntryKind.PATIENT_RESPONSIBILITY):
                rows.entry(entry_values(claim_id=claim.id, line_id=line_id, kind=kind, amount=charge, actor=actor,
                                        posted_on=posted_on, source=EntrySource.SYSTEM, payer_id=claim.payer_id,
                                        memo=BILLED_MEMO))
    lines_billed = len(rows.entries) // 2
    rows.flush()
    return lines_billed


def withdraw_patient_bill(claim: Claim, *, actor: Actor, posted_on: date, reason: str) -> list[LedgerEntry]:
    """Take a self-pay claim's bill back out of A/R: linked reversals of its standing charges, moves to the
    patient and patient write-offs. What the patient paid stays, a patient credit flagged Needs Review (rule 8).
    """
    entries = list(db.session.scalars(
        select(LedgerEntry).where(LedgerEntry.claim_id == claim.id).order_by(LedgerEntry.id)))
    done = reversed_entry_ids(claim.id)
    taken = [e for e in entries if e.kind in WITHDRAWN and e.reverses_id is None and e.id not in done]
    reversals = [reverse_entry(e, actor=actor, reason=reason, posted_on=posted_on, source=EntrySource.SYSTEM)
                 for e in taken]
    if not reversals:
        return []
    db.session.flush()
    withdrawn = sum_money(-r.amount for r in reversals if r.kind is EntryKind.CHARGE)
    record_change("claim", claim.id, AuditAction.CHARGES_WITHDRAWN, actor=actor, before=claim.status.value,
                  after=claim.status.value, reason=f"{reason}: {format_money(withdrawn)} withdrawn from the "
                  f"patient's balance"[:500], data={"amount": str(withdrawn), "entries": len(reversals)})
    credit = credit_reason(claim_balance(claim.id))
    if credit:
        claim.needs_review = True
        why = f"{reason}; {credit}: the patient's payment is refunded or applied to another claim"
        record_change("claim", claim.id, AuditAction.CLAIM_FLAGGED, actor=actor, before=claim.status.value,
                      after=claim.status.value, reason=why[:500], data={"reasons": [why]})
    return reversals


def settle_self_pay(claim: Claim, *, actor: Actor) -> None:
    """A self-pay claim is Paid once the patient owes nothing on it, and Submitted again if a balance reopens
    (a payment reversed). Insurance claims are left alone: their status follows the payer."""
    if not claim.self_pay or claim.status not in (ClaimStatus.SUBMITTED, ClaimStatus.PAID):
        return
    db.session.flush()
    owed = claim_balance(claim.id).patient
    if claim.status is ClaimStatus.SUBMITTED and owed <= ZERO:
        transition(claim, ClaimStatus.PAID, action=AuditAction.CLAIM_PAID, actor=actor,
                   reason="the patient's balance is settled")
    elif claim.status is ClaimStatus.PAID and owed > ZERO:
        transition(claim, ClaimStatus.SUBMITTED, action=AuditAction.CLAIM_REOPENED, actor=actor,
                   reason=f"the patient owes {format_money(owed)} again")
