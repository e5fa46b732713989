"""Manual clawbacks (seed 004): reverse a prior payment or chosen entries, optionally post the corrected one.

Used when a payer takes money back by letter, phone or portal and no ERA comes. On one claim, or in bulk
for the paper remittance of a date of service. Checks first, writes second, never commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from billing.claims.models import Claim, ClaimLine
from billing.core.audit import Actor
from billing.core.db import db
from billing.core.errors import BillingError, Problem, raise_if
from billing.core.money import ZERO, format_money, to_money
from billing.ledger.balances import Balances, reversed_entry_ids
from billing.ledger.models import Adjudication, EntrySource, LedgerEntry
from billing.payments.operations import (
    POSTABLE,
    Adjustment,
    ClaimPosting,
    LinePosting,
    PostingResult,
    post_adjudication,
    posting_problems,
    reverse_adjudication,
    reverse_entries,
)

#: PR reasons a paper remittance names for the patient's part.
PATIENT_REASONS = {"1": "Deductible", "2": "Coinsurance", "3": "Copay"}


def standing_payments(claim_id: int) -> list[Adjudication]:
    """Payments (adjudications) of the claim that are neither reversals nor reversed, oldest first."""
    reversed_ids = select(Adjudication.reverses_id).where(Adjudication.reverses_id.is_not(None))
    return list(db.session.scalars(
        select(Adjudication).where(Adjudication.claim_id == claim_id, Adjudication.reverses_id.is_(None),
                                   Adjudication.id.not_in(reversed_ids))
        .order_by(Adjudication.id).options(selectinload(Adjudication.lines), selectinload(Adjudication.adjustments))
    ))


def reversible_entries(claim_id: int) -> list[LedgerEntry]:
    """Entries a biller may reverse: not charges, not reversals, not already reversed."""
    from billing.ledger.models import EntryKind

    done = reversed_entry_ids(claim_id)
    return [e for e in db.session.scalars(
        select(LedgerEntry).where(LedgerEntry.claim_id == claim_id, LedgerEntry.reverses_id.is_(None),
                                  LedgerEntry.kind != EntryKind.CHARGE)
        .order_by(LedgerEntry.id).options(selectinload(LedgerEntry.claim_line))
    ) if e.id not in done]


def effect_of(adjudication: Adjudication) -> Balances:
    """What the payment's entries still standing did to the balances (taken back by reversing it)."""
    done = reversed_entry_ids(adjudication.claim_id)
    effect = Balances()
    for entry in db.session.scalars(select(LedgerEntry).where(LedgerEntry.adjudication_id == adjudication.id)):
        if entry.id not in done:
            effect.add(entry.kind, entry.amount)
    return effect


@dataclass
class ClawbackResult:
    reversed_payments: int = 0
    reversed_entries: int = 0
    corrected: PostingResult | None = None


def manual_clawback(claim: Claim, *, reason: str, posted_on: date, actor: Actor,
                    payments: Sequence[Adjudication] = (), entries: Sequence[LedgerEntry] = (),
                    corrected: ClaimPosting | None = None) -> ClawbackResult:
    """Reverse whole payments and/or single entries of one claim, then post the corrected payment if given.

    Every reversal is a full reversing entry linked to its original; the claim is flagged Needs Review and
    reopened when the payer owes again. Nothing is written unless every part is acceptable.
    """
    problems = _clawback_problems(claim, reason, payments, entries)
    if corrected is not None:
        problems += posting_problems(claim, corrected)
    raise_if(problems)
    result = ClawbackResult()
    for payment in payments:
        reverse_adjudication(payment, actor=actor, reason=reason.strip(), posted_on=posted_on,
                             source=EntrySource.MANUAL)
        result.reversed_payments += 1
    covered = {p.id for p in payments}
    loose = [e for e in entries if e.adjudication_id not in covered]
    if loose:
        reverse_entries(claim, loose, actor=actor, reason=reason.strip(), posted_on=posted_on)
        result.reversed_entries = len(loose)
    if corrected is not None:
        db.session.flush()
        result.corrected = post_adjudication(claim, corrected, actor=actor, source=EntrySource.MANUAL)
    return result


def record_manual_payment(claim: Claim, posting: ClaimPosting, *, actor: Actor, mode: str = "") -> PostingResult:
    """Record Payment from a paper EOB. When a payment already stands, the biller must say whether this one
    replaces it ("replace": reversal and new payment in one step, how an entry is "edited") or adds to it."""
    standing = standing_payments(claim.id)
    if standing and mode not in ("replace", "add"):
        raise_if([Problem("mode", "A payment is already posted on this claim: choose whether this one replaces "
                                  "it (reversal + new payment) or adds to it.")])
    if standing and mode == "replace":
        result = manual_clawback(claim, reason=posting.memo or "payment corrected", posted_on=posting.paid_on,
                                 actor=actor, payments=standing[-1:], corrected=posting).corrected
        assert result is not None
        return result
    return post_adjudication(claim, posting, actor=actor, source=EntrySource.MANUAL)


def _clawback_problems(claim: Claim, reason: str, payments: Sequence[Adjudication],
                       entries: Sequence[LedgerEntry]) -> list[Problem]:
    problems = []
    if not reason or not reason.strip():
        problems.append(Problem("reason", "Say where the clawback came from (letter, phone call, portal)."))
    if not payments and not entries:
        problems.append(Problem("entries", "Choose the payment or the entries the payer took back."))
    standing = {p.id for p in standing_payments(claim.id)}
    for payment in payments:
        if payment.claim_id != claim.id:
            problems.append(Problem("payments", f"That payment is not on claim {claim.number}."))
        elif payment.id not in standing:
            problems.append(Problem("payments", f"The payment of {payment.paid_on:%m/%d/%Y} was already reversed."))
    done = reversed_entry_ids(claim.id)
    for entry in entries:
        if entry.claim_id != claim.id:
            problems.append(Problem("entries", f"Entry {entry.id} is not on claim {claim.number}."))
        elif entry.id in done or entry.reverses_id is not None:
            problems.append(Problem("entries", f"Entry {entry.id} was already reversed or is itself a reversal."))
    return problems


# --- bulk, from a paper remittance --------------------------------------------------------------------------

@dataclass(frozen=True)
class CorrectedLine:
    """A line as the corrected paper remittance states it: allowed and paid; the rest follows."""

    line_number: int
    allowed: Decimal
    paid: Decimal
    patient_reason: str = "2"  # PR CARC for allowed - paid: 1 deductible, 2 coinsurance, 3 copay


@dataclass(frozen=True)
class BulkClawbackItem:
    claim_id: int
    #: Empty: reverse the payment only. Otherwise the corrected payment, line by line.
    lines: tuple[CorrectedLine, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class PaidClaim:
    claim: Claim
    payment: Adjudication


def paid_claims_on(service_date: date, *, payer_id: int | None = None) -> list[PaidClaim]:
    """Claims with a service line on that date and a payment standing, for the bulk clawback page."""
    query = (
        select(Claim).join(ClaimLine, ClaimLine.claim_id == Claim.id)
        .where(ClaimLine.service_date == service_date, Claim.status.in_(list(POSTABLE)))
        .distinct().order_by(Claim.id).options(selectinload(Claim.lines).selectinload(ClaimLine.service_code),
                                               selectinload(Claim.client), selectinload(Claim.payer))
    )
    if payer_id is not None:
        query = query.where(Claim.payer_id == payer_id)
    found = []
    for claim in db.session.scalars(query):
        payments = standing_payments(claim.id)
        if payments:
            found.append(PaidClaim(claim, payments[-1]))
    return found


def corrected_posting(claim: Claim, lines: Sequence[CorrectedLine], *, paid_on: date,
                      memo: str | None = None) -> tuple[ClaimPosting | None, list[Problem]]:
    """Charge - allowed is contractual (CO-45), allowed - paid is the patient's (PR), so each line adds up."""
    problems: list[Problem] = []
    by_number = {ln.line_number: ln for ln in claim.lines}
    postings = []
    for corrected in lines:
        line = by_number.get(corrected.line_number)
        where = f"{claim.number} line {corrected.line_number}"
        if line is None:
            problems.append(Problem("lines", f"{where} does not exist."))
            continue
        allowed, paid = to_money(corrected.allowed), to_money(corrected.paid)
        if paid < ZERO or allowed < ZERO:
            problems.append(Problem("lines", f"{where}: amounts cannot be negative."))
        elif paid > allowed or allowed > line.charge:
            problems.append(Problem("lines", f"{where}: paid {format_money(paid)} ≤ allowed {format_money(allowed)}"
                                             f" ≤ charge {format_money(line.charge)} is required."))
        if corrected.patient_reason not in PATIENT_REASONS:
            problems.append(Problem("lines", f"{where}: the patient's part is a deductible, coinsurance or copay."))
        adjustments = []
        if line.charge - allowed > ZERO:
            adjustments.append(Adjustment("CO", "45", to_money(line.charge - allowed)))
        if allowed - paid > ZERO:
            adjustments.append(Adjustment("PR", corrected.patient_reason, to_money(allowed - paid)))
        postings.append(LinePosting(corrected.line_number, paid, tuple(adjustments), allowed=allowed))
    if problems or not postings:
        return None, problems
    return ClaimPosting(paid_on=paid_on, lines=tuple(postings), memo=memo), problems


def bulk_clawback(items: Sequence[BulkClawbackItem], *, reason: str, posted_on: date,
                  actor: Actor) -> list[tuple[Claim, ClawbackResult]]:
    """Reverse the standing payment of each claim and post its corrected payment; all or nothing."""
    if not items:
        raise BillingError("Tick at least one claim to claw back.")
    plans: list[tuple[Claim, Adjudication, ClaimPosting | None]] = []
    problems: list[Problem] = []
    for item in items:
        claim = db.session.get(Claim, item.claim_id)
        payments = standing_payments(item.claim_id) if claim is not None else []
        if claim is None or not payments:
            problems.append(Problem("claims", f"Claim {item.claim_id} has no payment standing to claw back."))
            continue
        posting, found = corrected_posting(claim, item.lines, paid_on=posted_on, memo=reason) if item.lines \
            else (None, [])
        problems += found
        plans.append((claim, payments[-1], posting))
    if not reason or not reason.strip():
        problems.append(Problem("reason", "Say where the clawback came from (paper remittance, letter...)."))
    raise_if(problems)
    return [(claim, manual_clawback(claim, reason=reason, posted_on=posted_on, actor=actor, payments=[payment],
                                    corrected=posting))
            for claim, payment, posting in plans]
