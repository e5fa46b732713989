"""Manual clawbacks: reverse a prior payment or chosen entries, optionally post the corrected one.

Used when a payer takes money back by letter, phone or portal and no ERA comes. On one claim, or in bulk
for the paper remittance of a date of service. Checks first, writes second, never commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import exists, select
from sqlalchemy.orm import aliased, selectinload

from billing.claims.models import Claim, ClaimLine
from billing.claims.queries import lock_claim
from billing.claims.statuses import SENT, ClaimStatus, transition
from billing.core.audit import Actor, AuditAction, record_change
from billing.core.db import db
from billing.core.errors import Conflict, Invalid, Problem, raise_if
from billing.core.id_lists import any_of
from billing.core.money import ZERO, format_money, sum_money, to_money
from billing.ledger.balances import Balances, claim_balance, reversed_entry_ids
from billing.ledger.models import Adjudication, AdjudicationLine, EntryKind, EntrySource, LedgerEntry
from billing.ledger.operations import reverse_entry
from billing.ledger.postings import REVERSAL_CODE, Adjustment, ClaimPosting, LinePosting, PostingResult
from billing.org.queries import Scope, by_location
from billing.payments.dates import money_date_problems
from billing.payments.denial_work import recheck_after_reversal
from billing.payments.denials import awaiting_payer
from billing.payments.posting import post_adjudication, posting_problems
from billing.payments.secondary import withdraw_next_claim

#: PR reasons a paper remittance names for the patient's part.
PATIENT_REASONS = {"1": "Deductible", "2": "Coinsurance", "3": "Copay"}


def standing_payments(claim_id: int) -> list[Adjudication]:
    """Payments (adjudications) of the claim that are neither reversals (of the whole or of lines) nor reversed,
    oldest first."""
    reversed_ids = select(Adjudication.reverses_id).where(Adjudication.reverses_id.is_not(None))
    return list(db.session.scalars(
        select(Adjudication).where(Adjudication.claim_id == claim_id, Adjudication.reverses_id.is_(None),
                                   Adjudication.status_code != REVERSAL_CODE, Adjudication.id.not_in(reversed_ids))
        .order_by(Adjudication.id).options(selectinload(Adjudication.lines), selectinload(Adjudication.adjustments))
    ))


def answer_with_money(claim_id: int, payer_id: int) -> Adjudication | None:
    """Rule 8: the payer's answer on the claim that stands with money on it, which a new answer would repeat.

    An answer stands with money when it is not reversed, at least one of its ledger entries is not reversed,
    and no CLP02 = 22 of some of its lines came after it. So an answer that moved nothing (a denial: paid 0,
    only denial reasons) leaves the claim open to the payer's re-adjudication, and so does a reversal of the
    whole answer (it no longer stands) or of its lines. None: a new answer from the payer posts.
    """
    reversed_ids = select(Adjudication.reverses_id).where(Adjudication.reverses_id.is_not(None))
    reversal, undo = aliased(Adjudication), aliased(LedgerEntry)
    moved = exists().where(LedgerEntry.adjudication_id == Adjudication.id,
                           ~exists().where(undo.reverses_id == LedgerEntry.id))
    lines_reversed_after = exists().where(
        reversal.claim_id == Adjudication.claim_id, reversal.payer_id == Adjudication.payer_id,
        reversal.status_code == REVERSAL_CODE, reversal.reverses_id.is_(None), reversal.id > Adjudication.id)
    return db.session.scalar(
        select(Adjudication).where(
            Adjudication.claim_id == claim_id, Adjudication.payer_id == payer_id,
            Adjudication.reverses_id.is_(None), Adjudication.status_code != REVERSAL_CODE,
            Adjudication.id.not_in(reversed_ids), moved, ~lines_reversed_after)
        .order_by(Adjudication.id.desc()).limit(1))


def reversible_entries(claim_id: int) -> list[LedgerEntry]:
    """Entries a biller may reverse: not charges, not reversals, not already reversed."""
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
    lock_claim(claim)
    problems = _clawback_problems(claim, reason, payments, entries)
    problems += money_date_problems(claim, posted_on, "posted_on", "The reversal date")
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


def paid_claims_on(service_date: date, *, payer_id: int | None = None, scope: Scope | None = None) -> list[PaidClaim]:
    """Claims with a service line on that date and a payment standing, for the bulk clawback page (within the
    scope picker's choice when `scope` is given)."""
    query = (
        select(Claim).join(ClaimLine, ClaimLine.claim_id == Claim.id)
        .where(ClaimLine.service_date == service_date, Claim.status.in_(list(SENT)))
        .distinct().order_by(Claim.id).options(selectinload(Claim.lines).selectinload(ClaimLine.service_code),
                                               selectinload(Claim.client), selectinload(Claim.payer))
    )
    if payer_id is not None:
        query = query.where(Claim.payer_id == payer_id)
    if scope is not None:
        query = query.where(by_location(Claim.location_id, scope))
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
        raise Invalid("Tick at least one claim to claw back.")
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


def reverse_entries(claim: Claim, entries: Iterable[LedgerEntry], *, actor: Actor, reason: str, posted_on: date,
                    source: EntrySource = EntrySource.MANUAL, adjudication_id: int | None = None) -> list[LedgerEntry]:
    """Manual clawback: reverse the chosen entries, flag the claim for review, reopen it if a balance results."""
    if not reason or not reason.strip():
        raise Invalid("A reversal needs a source or reason (letter, phone call, portal).")
    entries = list(entries)
    if not entries:
        raise Invalid("Choose the entries to reverse.")
    if any(e.claim_id != claim.id for e in entries):
        raise Invalid(f"Only entries of claim {claim.number} can be reversed here.")
    already = reversed_entry_ids(claim.id)
    problems = [Problem("entries", f"Entry {e.id} was already reversed.") for e in entries if e.id in already]
    problems += [Problem("entries", f"Entry {e.id} is itself a reversal.") for e in entries if e.reverses_id]
    raise_if(problems)
    reversals = [reverse_entry(e, actor=actor, reason=reason, posted_on=posted_on, source=source,
                               adjudication_id=adjudication_id) for e in entries]
    _after_reversal(claim, actor=actor, reason=reason)
    return reversals


def reverse_adjudication(original: Adjudication, *, actor: Actor, reason: str, posted_on: date,
                         source: EntrySource, remittance_id: int | None = None,
                         payer_claim_number: str | None = None) -> Adjudication:
    """Take back everything an earlier payment did (835 CLP02 = 22, or a manual clawback of a whole payment)."""
    claim = original.claim
    taken_back = db.session.scalar(select(Adjudication.id).where(Adjudication.reverses_id == original.id))
    if taken_back is not None or original.reverses_id is not None:
        raise Conflict(f"That payment on claim {claim.number} was already reversed.")
    already = reversed_entry_ids(claim.id)
    originals = list(db.session.scalars(
        select(LedgerEntry).where(LedgerEntry.adjudication_id == original.id).order_by(LedgerEntry.id)))
    # Lines the payer already took back one by one (case F) are not taken back twice: the reversal states what
    # still stood, so its CLP04 and the entries it posts agree.
    earlier = [e for e in originals if e.id in already]
    earlier_lines = {e.claim_line_id for e in earlier}
    reversal = Adjudication(
        claim_id=claim.id, payer_id=original.payer_id, remittance_id=remittance_id, source=source,
        status_code=REVERSAL_CODE,
        charge=-(original.charge - sum_money(ln.charge for ln in original.lines
                                             if ln.claim_line_id is not None and ln.claim_line_id in earlier_lines)),
        paid=-(original.paid - sum_money(e.amount for e in earlier if e.kind is EntryKind.INSURANCE_PAYMENT)),
        patient_responsibility=-(original.patient_responsibility - sum_money(
            e.amount for e in earlier if e.kind is EntryKind.PATIENT_RESPONSIBILITY)),
        payer_claim_number=payer_claim_number or original.payer_claim_number, paid_on=posted_on,
        reverses_id=original.id,
    )
    db.session.add(reversal)
    db.session.flush()
    for entry in originals:
        if entry.id not in already:
            reverse_entry(entry, actor=actor, reason=reason, posted_on=posted_on, source=source,
                          adjudication_id=reversal.id)
    withdraw_next_claim(claim, actor=actor, reason=reason, posted_on=posted_on)
    recheck_after_reversal(claim, actor=actor, reason=reason)
    _after_reversal(claim, actor=actor, reason=reason)
    return reversal


def reverse_adjudication_lines(original: Adjudication, line_ids: set[int], *, actor: Actor, reason: str,
                               posted_on: date, source: EntrySource, remittance_id: int | None = None,
                               payer_claim_number: str | None = None) -> Adjudication:
    """Take back what an earlier payment did on some of its lines only (a CLP02 = 22 listing those SVCs).

    The reversal is an adjudication of its own (CLP02 22, not linked as reversing the whole payment, which
    still stands for its other lines) whose entries are linked reversals of the lines' entries of the original.
    """
    claim = original.claim
    done = reversed_entry_ids(claim.id)
    entries = [e for e in db.session.scalars(
        select(LedgerEntry).where(LedgerEntry.adjudication_id == original.id,
                                  any_of(LedgerEntry.claim_line_id, line_ids)).order_by(LedgerEntry.id))
        if e.id not in done and e.reverses_id is None]
    lines = [ln for ln in original.lines if ln.claim_line_id in line_ids]
    if not entries and not lines:
        raise Conflict(f"Those lines of the payment on claim {claim.number} were already reversed.")
    reversal = Adjudication(
        claim_id=claim.id, payer_id=original.payer_id, remittance_id=remittance_id, source=source,
        status_code=REVERSAL_CODE, charge=-sum_money(ln.charge for ln in lines),
        paid=-sum_money(e.amount for e in entries if e.kind is EntryKind.INSURANCE_PAYMENT),
        patient_responsibility=-sum_money(e.amount for e in entries if e.kind is EntryKind.PATIENT_RESPONSIBILITY),
        payer_claim_number=payer_claim_number or original.payer_claim_number, paid_on=posted_on,
    )
    db.session.add(reversal)
    db.session.flush()
    db.session.add_all([AdjudicationLine(
        adjudication_id=reversal.id, claim_line_id=ln.claim_line_id, procedure_code=ln.procedure_code,
        modifiers=ln.modifiers, units=ln.units, charge=-ln.charge, paid=-ln.paid,
        allowed=None if ln.allowed is None else -ln.allowed, remarks=ln.remarks, paid_on=posted_on,
    ) for ln in lines])
    for entry in entries:
        reverse_entry(entry, actor=actor, reason=reason, posted_on=posted_on, source=source,
                      adjudication_id=reversal.id)
    withdraw_next_claim(claim, actor=actor, reason=reason, posted_on=posted_on, line_ids=line_ids)
    _after_reversal(claim, actor=actor, reason=reason)
    return reversal


def _after_reversal(claim: Claim, *, actor: Actor, reason: str) -> None:
    db.session.flush()
    claim.needs_review = True
    balance = claim_balance(claim.id)
    record_change("claim", claim.id, AuditAction.PAYMENT_REVERSED, actor=actor, before=claim.status.value,
                  after=claim.status.value, reason=reason[:500], data={"balance": str(balance.balance)})
    if awaiting_payer(claim, balance.insurance) != ZERO and claim.status is ClaimStatus.PAID:
        # The bill reopens: the payer owes again, so the claim waits for its corrected payment.
        transition(claim, ClaimStatus.SUBMITTED, action=AuditAction.CLAIM_REOPENED, actor=actor,
                   reason=f"reversal left {format_money(balance.insurance)} owed by the payer")
    elif balance.balance != ZERO and claim.status is ClaimStatus.DENIED:
        # Still denied; the balance stays open to be worked (resubmit, write off, bill the patient).
        record_change("claim", claim.id, AuditAction.CLAIM_REOPENED, actor=actor, before=claim.status.value,
                      after=claim.status.value, reason=f"reversal left a balance of {format_money(balance.balance)}")


def correct_payment(original: Adjudication, posting: ClaimPosting, *, actor: Actor, reason: str,
                    source: EntrySource = EntrySource.MANUAL) -> PostingResult:
    """"Editing" a payment: reverse it and post the corrected one in the same step, so the trail stays complete."""
    claim = original.claim
    raise_if(posting_problems(claim, posting))
    reverse_adjudication(original, actor=actor, reason=reason, posted_on=posting.paid_on, source=source)
    db.session.flush()
    return post_adjudication(claim, posting, actor=actor, source=source)
