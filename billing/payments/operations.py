"""Posting money: an adjudication (835 CLP or typed EOB) becomes ledger entries; reversals, write-offs.

Operations check first, write second, flush, and never commit: callers wrap them in `unit_of_work()`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cached_property
from typing import Any

from sqlalchemy import select

from billing.claims.models import Claim, ClaimLine
from billing.claims.statuses import ClaimStatus, transition
from billing.core.audit import Actor, AuditAction, record_change
from billing.core.db import db
from billing.core.errors import BillingError, Problem, raise_if
from billing.core.money import ZERO, format_money, sum_money, to_money
from billing.coverage.models import PolicyRank
from billing.ledger.balances import Balances, claim_balance, lines_with_charges, reversed_entry_ids
from billing.ledger.models import Adjudication, EntryKind, EntrySource, LedgerEntry
from billing.ledger.rows import RowBuffer
from billing.payments.codes import GROUP_CODES, describe_carc, is_denial

#: Claims the payer has seen: only these are paid (a Ready claim was never sent).
POSTABLE = frozenset({ClaimStatus.SUBMITTED, ClaimStatus.PAID, ClaimStatus.DENIED})
KIND_OF_GROUP = {
    "CO": EntryKind.CONTRACTUAL,
    "PR": EntryKind.PATIENT_RESPONSIBILITY,
    "OA": EntryKind.OTHER_ADJUSTMENT,
    "PI": EntryKind.OTHER_ADJUSTMENT,
    "CR": EntryKind.OTHER_ADJUSTMENT,
}
DENIED_CODE = "4"
REVERSAL_CODE = "22"


@dataclass(frozen=True)
class Adjustment:
    """One CAS reason: group code, CARC, amount (and the quantity some payers send)."""

    group: str
    reason: str
    amount: Decimal
    quantity: Decimal | None = None


@dataclass(frozen=True)
class LinePosting:
    """What the payer decided for one of our claim lines."""

    line_number: int
    paid: Decimal
    adjustments: tuple[Adjustment, ...] = ()
    allowed: Decimal | None = None
    remarks: tuple[str, ...] = ()
    #: The biller accepts that charge != paid + adjustments; the difference stays on the balance.
    leave_open: bool = False
    charge: Decimal | None = None  # SVC02 as the payer repeats it; our line's charge when absent
    procedure_code: str | None = None
    modifiers: str | None = None
    units: Decimal | None = None

    @cached_property
    def patient_responsibility(self) -> Decimal:
        return sum_money(a.amount for a in self.adjustments if a.group == "PR")


@dataclass(frozen=True)
class ClaimPosting:
    """One adjudication of a claim: from a CLP loop or from the Record Payment form."""

    paid_on: date
    lines: tuple[LinePosting, ...]
    status_code: str = "1"
    claim_adjustments: tuple[Adjustment, ...] = ()
    payer_claim_number: str | None = None
    memo: str | None = None

    # Cached: the posting is frozen, and an 835 import asks these once per line and adjustment.
    @cached_property
    def paid(self) -> Decimal:
        return sum_money(ln.paid for ln in self.lines)

    @cached_property
    def all_adjustments(self) -> tuple[Adjustment, ...]:
        return (*self.claim_adjustments, *(a for ln in self.lines for a in ln.adjustments))

    @cached_property
    def is_denial(self) -> bool:
        """CLP02 = 4, or nothing paid with a denial reason (a typed EOB has no CLP02)."""
        if self.status_code == DENIED_CODE:
            return True
        return self.paid == ZERO and any(is_denial(a.group, a.reason) for a in self.all_adjustments)


@dataclass
class PostingResult:
    adjudication_id: int
    balances: Balances
    status: ClaimStatus
    notes: list[str] = field(default_factory=list)

    @property
    def adjudication(self) -> Adjudication:
        adjudication = db.session.get(Adjudication, self.adjudication_id)
        assert adjudication is not None
        return adjudication


def posting_problems(claim: Claim, posting: ClaimPosting) -> list[Problem]:
    """Everything wrong with a posting, collected before anything is written."""
    problems = []
    if claim.status not in POSTABLE:
        problems.append(
            Problem("claim", f"Claim {claim.number} is {claim.status.label}; only a submitted claim is paid.")
        )
    by_number = {ln.line_number: ln for ln in claim.lines}
    seen: set[int] = set()
    for lp in posting.lines:
        where = f"line {lp.line_number}"
        line = by_number.get(lp.line_number)
        if line is None:
            problems.append(Problem("lines", f"Claim {claim.number} has no {where}."))
            continue
        if lp.line_number in seen:
            problems.append(Problem("lines", f"{where} is posted twice in one payment."))
        seen.add(lp.line_number)
        problems += _adjustment_problems(lp.adjustments, where)
        charge = to_money(lp.charge if lp.charge is not None else line.charge)
        accounted = to_money(lp.paid + sum_money(a.amount for a in lp.adjustments))
        if not lp.leave_open and accounted != charge:
            problems.append(Problem(
                "lines", f"{where}: charge {format_money(charge)} is not paid + adjustments + patient responsibility "
                f"({format_money(accounted)}); fix the amounts or leave the difference of "
                f"{format_money(charge - accounted)} open."))
    problems += _adjustment_problems(posting.claim_adjustments, "claim")
    if not posting.lines and not posting.claim_adjustments:
        problems.append(Problem("lines", "Enter at least one line's payment."))
    return problems


def _adjustment_problems(adjustments: Iterable[Adjustment], where: str) -> list[Problem]:
    problems = []
    for adj in adjustments:
        if adj.group not in GROUP_CODES:
            problems.append(Problem("adjustments", f"{where}: {adj.group!r} is not a group code (CO, PR, OA, PI, CR)."))
        if not adj.reason.strip():
            problems.append(Problem("adjustments", f"{where}: each adjustment needs its reason code (CARC)."))
    return problems


def post_charges(claim: Claim, *, actor: Actor, posted_on: date, charged: set[int] | None = None,
                 rows: RowBuffer | None = None) -> None:
    """The claim's line charges enter the ledger once (when it is sent, or paid if never sent through a batch).

    Running it again adds nothing. A secondary claim is skipped: its charge is the transferred balance.
    """
    if claim.payer_rank is not PolicyRank.PRIMARY:
        return  # a secondary claim's charge is the part transferred from the primary, posted when it is generated
    own = rows is None
    rows = RowBuffer() if rows is None else rows
    charged = lines_with_charges([claim.id]) if charged is None else charged
    for line in claim.lines:
        charge_row(rows, claim, line.id, line.charge, charged=charged, actor=actor, posted_on=posted_on)
    if own:
        rows.flush()


def charge_row(rows: RowBuffer, claim: Claim, line_id: int, charge: Decimal, *, charged: set[int], actor: Actor,
               posted_on: date) -> None:
    """Buffer one line's charge unless it is already in the ledger (`charged` is updated): charges post once."""
    if line_id in charged or charge == ZERO:
        return
    rows.entry(claim_id=claim.id, claim_line_id=line_id, kind=EntryKind.CHARGE, amount=to_money(charge),
               posted_on=posted_on, actor=actor.name, source=EntrySource.SYSTEM, payer_id=claim.payer_id)
    charged.add(line_id)


def post_adjudication(
    claim: Claim,
    posting: ClaimPosting,
    *,
    actor: Actor,
    source: EntrySource,
    remittance_id: int | None = None,
    prior: Balances | None = None,
    charged: set[int] | None = None,
    rows: RowBuffer | None = None,
) -> PostingResult:
    """Record what the payer decided and post its money; Paid when nothing is left on the insurance side.

    Args:
        prior: the claim's balances before this posting, when the caller (an 835 import) already knows them.
        charged: ids of the lines whose charge is in the ledger, likewise.
        rows: a buffer the caller flushes (an import writes a chunk of claims at once); else written here.
    """
    raise_if(posting_problems(claim, posting))
    own = rows is None
    rows = RowBuffer() if rows is None else rows
    charged = lines_with_charges([claim.id]) if charged is None else charged
    if prior is None:
        rows.flush()  # the ledger must hold whatever the caller buffered before it is read
        prior = claim_balance(claim.id)
    if claim.payer_rank is PolicyRank.PRIMARY:  # the charges post_charges is about to enter
        for line in claim.lines:
            if line.id not in charged and line.charge != ZERO:
                prior.add(EntryKind.CHARGE, line.charge)
    post_charges(claim, actor=actor, posted_on=posting.paid_on, charged=charged, rows=rows)
    adjudication_id = _record_adjudication(claim, posting, source=source, remittance_id=remittance_id, rows=rows)
    for row in _entry_rows(claim, posting, adjudication_id, actor=actor, source=source, rows=rows):
        prior.add(row["kind"], row["amount"])
    if posting.payer_claim_number:
        claim.payer_claim_number = posting.payer_claim_number
    result = PostingResult(adjudication_id, prior, claim.status)
    _settle_status(claim, posting, prior, actor=actor, result=result, rows=rows)
    rows.change("claim", claim.id, AuditAction.PAYMENT_POSTED, actor=actor, before=claim.status.value,
                after=claim.status.value, reason=posting.memo,
                data={"paid": str(posting.paid), "status_code": posting.status_code, "source": source.value,
                      "balance": str(prior.balance)})
    if own:
        rows.flush()
    return result


def _record_adjudication(claim: Claim, posting: ClaimPosting, *, source: EntrySource,
                         remittance_id: int | None, rows: RowBuffer) -> int:
    by_number = {ln.line_number: ln for ln in claim.lines}
    adjudication_id = rows.adjudication(
        claim_id=claim.id, payer_id=claim.payer_id, remittance_id=remittance_id, source=source,
        status_code=posting.status_code,
        charge=sum_money(lp.charge if lp.charge is not None else by_number[lp.line_number].charge
                         for lp in posting.lines),
        paid=posting.paid,
        patient_responsibility=sum_money(a.amount for a in posting.all_adjustments if a.group == "PR"),
        payer_claim_number=posting.payer_claim_number, paid_on=posting.paid_on,
    )
    for adj in posting.claim_adjustments:
        _detail(rows, adjudication_id, None, adj)
    for lp in posting.lines:
        line = by_number[lp.line_number]
        line_id = rows.adjudication_line(
            adjudication_id=adjudication_id, claim_line_id=line.id,
            procedure_code=lp.procedure_code or line.service_code.code,
            modifiers=lp.modifiers if lp.modifiers is not None else line.modifiers,
            units=lp.units if lp.units is not None else Decimal(line.units),
            charge=to_money(lp.charge if lp.charge is not None else line.charge), paid=to_money(lp.paid),
            allowed=None if lp.allowed is None else to_money(lp.allowed), remarks=",".join(lp.remarks)[:120],
            paid_on=posting.paid_on,
        )
        for adj in lp.adjustments:
            _detail(rows, adjudication_id, line_id, adj)
    return adjudication_id


def _detail(rows: RowBuffer, adjudication_id: int, line_id: int | None, adj: Adjustment) -> None:
    rows.adjustment(adjudication_id=adjudication_id, adjudication_line_id=line_id, group_code=adj.group,
                    reason_code=adj.reason.strip(), amount=to_money(adj.amount), quantity=adj.quantity)


def _ledgered(claim: Claim, posting: ClaimPosting, adj: Adjustment) -> bool:
    """Which CAS reasons move money. A denial keeps its balance open to be worked (resubmit, write off)."""
    if posting.is_denial and adj.group != "PR":
        return False
    # The prior payer's share (OA-23) is already on the primary claim's ledger.
    return not (claim.payer_rank is not PolicyRank.PRIMARY and adj.group == "OA" and adj.reason == "23")


def _entry_rows(claim: Claim, posting: ClaimPosting, adjudication_id: int, *, actor: Actor,
                source: EntrySource, rows: RowBuffer) -> list[dict[str, Any]]:
    by_number = {ln.line_number: ln for ln in claim.lines}
    common: dict[str, Any] = {"actor": actor, "posted_on": posting.paid_on, "source": source,
                              "adjudication_id": adjudication_id}
    made = []
    for lp in posting.lines:
        line = by_number[lp.line_number]
        if to_money(lp.paid) != ZERO:
            made.append(_entry_row(rows, claim, line, EntryKind.INSURANCE_PAYMENT, lp.paid, **common))
        made += [_entry_row(rows, claim, line, KIND_OF_GROUP[adj.group], adj.amount, group_code=adj.group,
                            reason_code=adj.reason.strip(), **common)
                 for adj in lp.adjustments if to_money(adj.amount) != ZERO and _ledgered(claim, posting, adj)]
    made += [_entry_row(rows, claim, None, KIND_OF_GROUP[adj.group], adj.amount, group_code=adj.group,
                        reason_code=adj.reason.strip(), **common)
             for adj in posting.claim_adjustments if to_money(adj.amount) != ZERO and _ledgered(claim, posting, adj)]
    return made


def _entry_row(rows: RowBuffer, claim: Claim, line: ClaimLine | None, kind: EntryKind, amount: Decimal, *,
               actor: Actor, posted_on: date, source: EntrySource, **extra: Any) -> dict[str, Any]:
    return rows.entry(
        claim_id=claim.id, claim_line_id=line.id if line is not None else None, kind=kind, amount=to_money(amount),
        posted_on=posted_on, actor=actor.name, source=source,
        payer_id=claim.payer_id if kind is not EntryKind.PATIENT_PAYMENT else None, **extra,
    )


def _entry(claim: Claim, line: ClaimLine | None, kind: EntryKind, amount: Decimal, *, actor: Actor,
           posted_on: date, source: EntrySource, memo: str | None = None) -> LedgerEntry:
    return LedgerEntry(
        claim_id=claim.id, claim_line_id=line.id if line is not None else None, kind=kind, amount=to_money(amount),
        posted_on=posted_on, actor=actor.name, source=source,
        payer_id=claim.payer_id if kind is not EntryKind.PATIENT_PAYMENT else None, memo=memo,
    )


def _settle_status(claim: Claim, posting: ClaimPosting, balances: Balances, *, actor: Actor,
                   result: PostingResult, rows: RowBuffer) -> None:
    if posting.is_denial:
        reasons = "; ".join(f"{a.group}-{a.reason} {describe_carc(a.reason)}" for a in posting.all_adjustments
                            if a.group != "PR") or "denied by the payer"
        if claim.status is ClaimStatus.SUBMITTED:
            transition(claim, ClaimStatus.DENIED, action=AuditAction.CLAIM_DENIED, actor=actor, reason=reasons[:500],
                       record=rows.change)
        elif claim.status is ClaimStatus.PAID:
            claim.needs_review = True
            result.notes.append("denied after it was paid; flagged for review")
    elif balances.insurance == ZERO:
        if claim.status is ClaimStatus.SUBMITTED:
            transition(claim, ClaimStatus.PAID, action=AuditAction.CLAIM_PAID, actor=actor,
                       reason=f"paid {format_money(posting.paid)}", record=rows.change)
        elif claim.status is ClaimStatus.DENIED:
            claim.needs_review = True  # money after a denial: someone decides whether to resubmit
            result.notes.append("paid after it was denied; flagged for review")
    result.status = claim.status


# --- reversals ----------------------------------------------------------------------------------------------

def reverse_entry(entry: LedgerEntry, *, actor: Actor, reason: str, posted_on: date,
                  source: EntrySource = EntrySource.MANUAL, adjudication_id: int | None = None) -> LedgerEntry:
    """A full reversing entry linked to the original; the original counts as reversed from then on."""
    if entry.reverses_id is not None:
        raise BillingError("A reversal is not reversed; post a new entry instead.")
    if entry.id in reversed_entry_ids(entry.claim_id):
        raise BillingError(f"Entry {entry.id} was already reversed.")
    reversal = LedgerEntry(
        claim_id=entry.claim_id, claim_line_id=entry.claim_line_id, kind=entry.kind, amount=-entry.amount,
        group_code=entry.group_code, reason_code=entry.reason_code, posted_on=posted_on, actor=actor.name,
        source=source, payer_id=entry.payer_id, adjudication_id=adjudication_id, reverses_id=entry.id,
        memo=(reason or "")[:500] or None,
    )
    db.session.add(reversal)
    return reversal


def reverse_entries(claim: Claim, entries: Iterable[LedgerEntry], *, actor: Actor, reason: str, posted_on: date,
                    source: EntrySource = EntrySource.MANUAL, adjudication_id: int | None = None) -> list[LedgerEntry]:
    """Manual clawback: reverse the chosen entries, flag the claim for review, reopen it if a balance results."""
    if not reason or not reason.strip():
        raise BillingError("A reversal needs a source or reason (letter, phone call, portal).")
    entries = list(entries)
    if not entries:
        raise BillingError("Choose the entries to reverse.")
    if any(e.claim_id != claim.id for e in entries):
        raise BillingError(f"Only entries of claim {claim.number} can be reversed here.")
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
        raise BillingError(f"That payment on claim {claim.number} was already reversed.")
    reversal = Adjudication(
        claim_id=claim.id, payer_id=original.payer_id, remittance_id=remittance_id, source=source,
        status_code=REVERSAL_CODE, charge=-original.charge, paid=-original.paid,
        patient_responsibility=-original.patient_responsibility,
        payer_claim_number=payer_claim_number or original.payer_claim_number, paid_on=posted_on,
        reverses_id=original.id,
    )
    db.session.add(reversal)
    db.session.flush()
    already = reversed_entry_ids(claim.id)
    originals = db.session.scalars(
        select(LedgerEntry).where(LedgerEntry.adjudication_id == original.id).order_by(LedgerEntry.id))
    for entry in originals:
        if entry.id not in already:
            reverse_entry(entry, actor=actor, reason=reason, posted_on=posted_on, source=source,
                          adjudication_id=reversal.id)
    _after_reversal(claim, actor=actor, reason=reason)
    return reversal


def _after_reversal(claim: Claim, *, actor: Actor, reason: str) -> None:
    db.session.flush()
    claim.needs_review = True
    balance = claim_balance(claim.id)
    record_change("claim", claim.id, AuditAction.PAYMENT_REVERSED, actor=actor, before=claim.status.value,
                  after=claim.status.value, reason=reason[:500], data={"balance": str(balance.balance)})
    if balance.insurance != ZERO and claim.status is ClaimStatus.PAID:
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


def clear_needs_review(claim: Claim, *, actor: Actor, note: str | None = None) -> None:
    """A biller confirmed the balance and responsibility after a reversal."""
    if not claim.needs_review:
        raise BillingError(f"Claim {claim.number} is not flagged for review.")
    claim.needs_review = False
    record_change("claim", claim.id, AuditAction.CLAIM_REVIEWED, actor=actor, before=claim.status.value,
                  after=claim.status.value, reason=note)


# --- write-offs and the patient's part ---------------------------------------------------------------------

def write_off(claim: Claim, *, reason: str, actor: Actor, posted_on: date, patient: bool = False,
              amount: Decimal | None = None) -> list[LedgerEntry]:
    """Write off the insurance (or patient) balance, all of it unless an amount is given; a reason is required."""
    if not reason or not reason.strip():
        raise BillingError("A write-off needs a reason.")
    kind = EntryKind.PATIENT_WRITE_OFF if patient else EntryKind.WRITE_OFF
    entries = _allocate(claim, kind, amount, patient=patient, actor=actor, posted_on=posted_on, memo=reason.strip())
    record_change("claim", claim.id, AuditAction.WRITTEN_OFF, actor=actor, before=claim.status.value,
                  after=claim.status.value, reason=reason.strip()[:500],
                  data={"amount": str(sum_money(e.amount for e in entries)), "patient": patient})
    return entries


def record_patient_payment(claim: Claim, amount: Decimal, *, actor: Actor, posted_on: date,
                           memo: str | None = None) -> list[LedgerEntry]:
    """Money from the patient or responsible party, applied to the lines they owe on, oldest line first."""
    entries = _allocate(claim, EntryKind.PATIENT_PAYMENT, amount, patient=True, actor=actor, posted_on=posted_on,
                        memo=memo)
    record_change("claim", claim.id, AuditAction.PAYMENT_POSTED, actor=actor, before=claim.status.value,
                  after=claim.status.value, reason=memo, data={"patient_paid": str(to_money(amount))})
    return entries


def bill_patient(claim: Claim, *, actor: Actor, posted_on: date, reason: str | None = None) -> list[LedgerEntry]:
    """The insurance balance becomes the patient's (a true denial the practice passes on to the family)."""
    entries = _allocate(claim, EntryKind.PATIENT_RESPONSIBILITY, None, patient=False, actor=actor,
                        posted_on=posted_on, memo=reason or "billed to the patient")
    record_change("claim", claim.id, AuditAction.PATIENT_BILLED, actor=actor, before=claim.status.value,
                  after=claim.status.value, reason=reason, data={"amount": str(sum_money(e.amount for e in entries))})
    return entries


def _allocate(claim: Claim, kind: EntryKind, amount: Decimal | None, *, patient: bool, actor: Actor,
              posted_on: date, memo: str | None) -> list[LedgerEntry]:
    from billing.ledger.balances import line_balances

    if claim.status not in POSTABLE:
        raise BillingError(f"Claim {claim.number} is {claim.status.label}; nothing has been billed to collect on.")
    post_charges(claim, actor=actor, posted_on=posted_on)
    db.session.flush()
    balances = line_balances(claim.id)
    owed = {ln.id: (balances.get(ln.id) or Balances()) for ln in claim.lines}
    side = {lid: (b.patient if patient else b.insurance) for lid, b in owed.items()}
    available = sum_money(v for v in side.values() if v > ZERO)
    wanted = available if amount is None else to_money(amount)
    who = "patient" if patient else "insurance"
    if wanted <= ZERO:
        raise BillingError(f"Claim {claim.number} has no {who} balance to apply this to.")
    if wanted > available:
        raise BillingError(f"{format_money(wanted)} is more than the {who} balance of {format_money(available)}.")
    entries, left = [], wanted
    for line in claim.lines:
        share = min(left, side[line.id]) if side[line.id] > ZERO else ZERO
        if share > ZERO:
            entries.append(_entry(claim, line, kind, share, actor=actor, posted_on=posted_on,
                                  source=EntrySource.MANUAL, memo=memo))
            left -= share
    db.session.add_all(entries)
    db.session.flush()
    return entries
