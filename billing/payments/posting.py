"""The posting engine: one adjudication (an 835 CLP loop or a typed EOB) becomes ledger entries and a claim status.

Manual payments, reversals and corrections all post through `post_adjudication`, so it sits below them
(operations.py and reversals.py both import it; neither imports the other's callers).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from billing.claims.models import Claim, ClaimLine
from billing.claims.statuses import SENT, ClaimStatus, transition
from billing.core.audit import Actor, AuditAction
from billing.core.codes import GROUP_CODES, describe_carc
from billing.core.errors import Problem, raise_if
from billing.core.money import ZERO, format_money, sum_money, to_money
from billing.coverage.models import PolicyRank
from billing.ledger.balances import Balances, claim_balance, lines_with_charges
from billing.ledger.models import EntryKind, EntrySource
from billing.ledger.operations import post_charges
from billing.ledger.postings import KIND_OF_GROUP, Adjustment, ClaimPosting, PostingResult
from billing.ledger.rows import RowBuffer, entry_values


def posting_problems(claim: Claim, posting: ClaimPosting) -> list[Problem]:
    """Everything wrong with a posting, collected before anything is written."""
    problems = []
    if claim.status not in SENT:
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
    return rows.entry(entry_values(claim_id=claim.id, line_id=line.id if line is not None else None, kind=kind,
                                   amount=amount, actor=actor, posted_on=posted_on, source=source,
                                   payer_id=claim.payer_id, **extra))


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
