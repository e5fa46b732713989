"""The posting engine: one adjudication (an 835 CLP loop or a typed EOB) becomes ledger entries and a claim status.

Manual payments, reversals and corrections all post through `post_adjudication`, so it sits below them
(operations.py and reversals.py both import it; neither imports the other's callers).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from billing.claims.family import was_sent
from billing.claims.models import Claim, ClaimLine
from billing.claims.statuses import ClaimStatus, transition
from billing.core.audit import Actor, AuditAction, record_change
from billing.core.codes import GROUP_CODES, describe_carc, is_denial
from billing.core.errors import Problem, raise_if
from billing.core.money import ZERO, format_money, sum_money, to_money
from billing.coverage.models import PolicyRank
from billing.ledger.balances import Balances, claim_balance, credit_reason, line_balances, lines_with_charges
from billing.ledger.models import EntryKind, EntrySource
from billing.ledger.operations import post_charges
from billing.ledger.postings import KIND_OF_GROUP, Adjustment, ClaimPosting, PostingResult
from billing.ledger.rows import RowBuffer, entry_values
from billing.payments.denials import awaiting_payer, note_adjudication


def posting_problems(claim: Claim, posting: ClaimPosting) -> list[Problem]:
    """Everything wrong with a posting, collected before anything is written."""
    problems = []
    if not was_sent(claim):  # a claim voided after it was sent still takes the payer's money (rule 6)
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
    open_lines = open_on_lines(claim, posting, rows)
    for row in _entry_rows(claim, posting, adjudication_id, actor=actor, source=source, rows=rows,
                           open_lines=open_lines):
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
        charge=to_money(posting.claim_charge) if posting.claim_charge is not None else sum_money(
            lp.charge if lp.charge is not None else by_number[lp.line_number].charge for lp in posting.lines),
        paid=posting.paid,
        patient_responsibility=sum_money(a.amount for a in posting.all_adjustments if a.group == "PR"),
        payer_claim_number=posting.payer_claim_number, paid_on=posting.paid_on,
        check_number=posting.check_number, check_date=posting.check_date, payment_method=posting.payment_method,
        posted_check_id=posting.posted_check_id,
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
            allowed=None if lp.allowed is None else to_money(lp.allowed), remarks=",".join(lp.remarks),
            paid_on=posting.paid_on,
        )
        for adj in lp.adjustments:
            _detail(rows, adjudication_id, line_id, adj)
    return adjudication_id


def _detail(rows: RowBuffer, adjudication_id: int, line_id: int | None, adj: Adjustment) -> None:
    rows.adjustment(adjudication_id=adjudication_id, adjudication_line_id=line_id, group_code=adj.group,
                    reason_code=adj.reason.strip(), amount=to_money(adj.amount), quantity=adj.quantity)


def ledgered(claim: Claim, posting: ClaimPosting, adj: Adjustment, *, denied_line: bool = False) -> bool:
    """Which CAS reasons move money. A denial keeps its balance open to be worked (resubmit, write off).

    A denied line (rule 3) is a denial of that line: only its PR moves (to the patient). OA-23 is the earlier
    payers' share, information only, on a claim we sent as secondary/tertiary or one the payer adjudicated as
    secondary/tertiary (CLP02 2, 3, 20, 21): on our primary claim nothing is written off because of it (rule 4).
    """
    if (posting.is_denial or denied_line) and adj.group != "PR":
        return False
    return not (adj.group == "OA" and adj.reason.strip() == "23" and _after_other_payers(claim, posting))


def books(claim: Claim, posting: ClaimPosting, adj: Adjustment, *, denied_line: bool, later_payer: bool) -> bool:
    """Whether an adjustment of `booked_lines` moves money: as `ledgered`, except that on a later payer's line
    the OA-23 that `later_payer_adjustments` kept (cut to what the payer's own reasons left open) is booked."""
    return (ledgered(claim, posting, adj, denied_line=denied_line)
            or (later_payer and not denied_line and _is_prior_payers(adj)))


def _after_other_payers(claim: Claim, posting: ClaimPosting) -> bool:
    """The claim is ours as secondary/tertiary, or the payer says it processed it as such."""
    return claim.payer_rank is not PolicyRank.PRIMARY or posting.adjudicated_as in ("secondary", "tertiary")


def _spread(amount: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """`amount` over lines in proportion to `weights`, each share rounded to the cent; the last line with weight
    takes what rounding left, so the shares add up to `amount` exactly."""
    total = sum_money(weights)
    if not weights or amount == ZERO:
        return [ZERO] * len(weights)
    if total == ZERO:
        weights, total = [Decimal(1)] * len(weights), Decimal(len(weights))
    last = max(i for i, w in enumerate(weights) if w != ZERO)
    shares = [to_money(amount * w / total) if i != last else ZERO for i, w in enumerate(weights)]
    shares[last] = to_money(amount) - sum_money(shares)
    return shares


def ledger_lines(claim: Claim, posting: ClaimPosting) -> list[tuple[ClaimLine, Decimal, tuple[Adjustment, ...]]]:
    """Per line of the posting: the insurance payment it posts and the adjustments it posts.

    The fixed rule for claim-level CAS (rule 1): each is spread over the service lines in proportion to what
    the payer paid on them (SVC03), or to their charges (SVC02) when no line was paid; a share is rounded to
    the cent and the last such line takes what rounding left. A claim-level CAS lowers the payment (CLP04 =
    sum of SVC03 - claim-level CAS), so each line's payment is its SVC03 less its shares, and the payments
    posted add up to CLP04 exactly. When the claim does not balance, the lines' payments are lowered by
    (sum of SVC03 - CLP04) spread by the same weights instead, and the claim is flagged (see `review_reasons`).
    The adjudication keeps the claim-level CAS as the payer sent them, at claim level.
    """
    by_number = {ln.line_number: ln for ln in claim.lines}
    lines = [by_number[lp.line_number] for lp in posting.lines]
    weights = [to_money(lp.paid) for lp in posting.lines]
    if not any(w > ZERO for w in weights):
        weights = [to_money(lp.charge if lp.charge is not None else line.charge)
                   for lp, line in zip(posting.lines, lines, strict=True)]
    shares: list[list[Adjustment]] = [[] for _ in lines]
    for adj in posting.claim_adjustments:
        for n, share in enumerate(_spread(to_money(adj.amount), weights)):
            if share != ZERO:
                shares[n].append(Adjustment(adj.group, adj.reason, share, adj.quantity))
    claim_cas = sum_money(a.amount for a in posting.claim_adjustments)
    lowered = to_money(posting.lines_paid - posting.paid)
    balanced = lowered == claim_cas
    cuts = [sum_money(a.amount for a in mine) for mine in shares] if balanced else _spread(lowered, weights)
    return [(line, to_money(lp.paid) - cut, (*lp.adjustments, *mine))
            for line, lp, cut, mine in zip(lines, posting.lines, cuts, shares, strict=True)]


def denied_lines(claim: Claim, posting: ClaimPosting) -> list[tuple[int, tuple[Adjustment, ...]]]:
    """Rule 3: lines paid nothing whose charge did not wholly go to the patient (PR) or, after other payers,
    to their share (OA-23): (line number, the line's reasons other than PR). A whole-claim denial is not
    counted here (it is the claim that is denied).

    A line paid nothing whose allowed amount all went to the patient (a deductible: PR beside only
    contractual, non-denial CO reductions such as CO-45) is not denied.
    """
    if posting.is_denial:
        return []
    denied = []
    for lp in posting.lines:
        if to_money(lp.paid) != ZERO:
            continue
        line = next(ln for ln in claim.lines if ln.line_number == lp.line_number)
        charge = to_money(lp.charge if lp.charge is not None else line.charge)
        covered = sum_money(a.amount for a in lp.adjustments if a.group == "PR" or (
            a.group == "OA" and a.reason.strip() == "23" and _after_other_payers(claim, posting)))
        others = tuple(a for a in lp.adjustments if a.group != "PR")
        if covered == charge:
            continue
        if covered > ZERO and not any(is_denial(a.group, a.reason.strip()) for a in others):
            continue
        denied.append((lp.line_number, others))
    return denied


def review_reasons(claim: Claim, posting: ClaimPosting) -> list[str]:
    """Why posting this flags the claim Needs Review: a CLP02 that disagrees with the claim's rank (rule 4),
    a level of the payer's statement that does not balance (rule 1), a denied line on a claim that is not
    denied as a whole (rule 3). Each reason names what it found."""
    reasons = []
    role = posting.adjudicated_as
    if role is not None and role != claim.payer_rank.value:
        reasons.append(f"CLP02 {posting.status_code}: the payer processed it as {role} but it is our "
                       f"{claim.payer_rank.value} claim; check coordination of benefits (nothing written off)")
    if posting.is_remittance:
        by_number = {ln.line_number: ln for ln in claim.lines}
        for lp in posting.lines:
            charge = to_money(lp.charge if lp.charge is not None else by_number[lp.line_number].charge)
            cas = sum_money(a.amount for a in lp.adjustments)
            gap = to_money(charge - to_money(lp.paid) - cas)
            if gap != ZERO:
                reasons.append(f"line {lp.line_number} does not balance: SVC02 {format_money(charge)} - SVC03 "
                               f"{format_money(to_money(lp.paid))} is not its adjustments {format_money(cas)} "
                               f"(difference {format_money(gap)})")
        claim_charge = to_money(posting.claim_charge) if posting.claim_charge is not None else sum_money(
            lp.charge if lp.charge is not None else by_number[lp.line_number].charge for lp in posting.lines)
        cas = sum_money(a.amount for a in posting.all_adjustments)
        gap = to_money(claim_charge - posting.paid - cas)
        if gap != ZERO:
            reasons.append(f"claim does not balance: CLP03 {format_money(claim_charge)} - CLP04 "
                           f"{format_money(posting.paid)} is not its adjustments {format_money(cas)} "
                           f"(difference {format_money(gap)})")
    for number, others in denied_lines(claim, posting):
        why = ", ".join(f"{a.group}-{a.reason.strip()} {describe_carc(a.reason.strip())}" for a in others)
        reasons.append(f"line {number} denied ({why or 'paid nothing'}); it stays open on the insurance side")
    return reasons


def open_on_lines(claim: Claim, posting: ClaimPosting,
                  rows: RowBuffer | None = None) -> dict[int, Decimal] | None:
    """On a claim we sent as secondary or tertiary: what each line owes the payer before this posting (the
    balance transferred from the earlier payer). None on a primary claim, or a denial (nothing is booked)."""
    if claim.payer_rank is PolicyRank.PRIMARY or posting.is_denial or not claim.id:
        return None
    if rows is not None:
        rows.flush()  # the ledger must hold whatever the caller buffered before it is read
    return {line_id: max(b.insurance, ZERO) for line_id, b in line_balances(claim.id).items() if line_id is not None}


def booked_lines(claim: Claim, posting: ClaimPosting, open_lines: dict[int, Decimal] | None,
                 ) -> list[tuple[ClaimLine, Decimal, tuple[Adjustment, ...]]]:
    """`ledger_lines`, with a later payer's adjustments cut to what was open on each line (rule 5; `open_lines`
    from `open_on_lines`, None on a primary claim): the payment and the adjustments posting books, line by
    line (what Record Payment's preview shows too)."""
    found = ledger_lines(claim, posting)
    if open_lines is None:
        return found
    denied = {number for number, _ in denied_lines(claim, posting)}
    return [(line, paid, adjustments if line.line_number in denied
             else tuple(later_payer_adjustments(open_lines.get(line.id, ZERO), paid, adjustments)))
            for line, paid, adjustments in found]


def later_payer_adjustments(open_amount: Decimal, paid: Decimal,
                            adjustments: Iterable[Adjustment]) -> list[Adjustment]:
    """Rule 5: what a secondary or tertiary payer's line books. The patient owes exactly its PR amounts; the rest
    of what was open is its payment and its other adjustments, applied in the order sent and capped at what is
    left, so no balance goes below zero. What goes beyond (a CO-45 repeating the primary's) is the earlier
    payers' adjudication, kept on the adjudication and not booked again.

    OA-23 comes last: it is booked only for what the payer's own reasons left open (the payer has given its
    final word, and the part of the open balance it explains by the earlier payers is not owed by anyone),
    never beyond it; an OA-23 the open balance does not need stays information only."""
    adjustments = list(adjustments)
    booked = [a for a in adjustments if a.group == "PR"]
    left = to_money(open_amount - paid - sum_money(a.amount for a in booked))
    own = [a for a in adjustments if a.group != "PR" and not _is_prior_payers(a)]
    for adj in [*own, *(a for a in adjustments if _is_prior_payers(a))]:
        if left <= ZERO:
            break
        amount = min(to_money(adj.amount), left)
        if amount > ZERO:
            booked.append(Adjustment(adj.group, adj.reason, amount, adj.quantity))
            left -= amount
    return booked


def _is_prior_payers(adj: Adjustment) -> bool:
    return adj.group == "OA" and adj.reason.strip() == "23"


def _entry_rows(claim: Claim, posting: ClaimPosting, adjudication_id: int, *, actor: Actor,
                source: EntrySource, rows: RowBuffer,
                open_lines: dict[int, Decimal] | None = None) -> list[dict[str, Any]]:
    common: dict[str, Any] = {"actor": actor, "posted_on": posting.paid_on, "source": source,
                              "adjudication_id": adjudication_id}
    denied = {number for number, _ in denied_lines(claim, posting)}
    made = []
    for line, paid, adjustments in booked_lines(claim, posting, open_lines):
        if paid != ZERO:
            made.append(_entry_row(rows, claim, line, EntryKind.INSURANCE_PAYMENT, paid, **common))
        made += [_entry_row(rows, claim, line, KIND_OF_GROUP[adj.group], adj.amount, group_code=adj.group,
                            reason_code=adj.reason.strip(), **common)
                 for adj in adjustments if to_money(adj.amount) != ZERO
                 and books(claim, posting, adj, denied_line=line.line_number in denied,
                           later_payer=open_lines is not None)]
    if not posting.lines:  # claim-level adjustments with no line to spread them on stay at claim level
        made += [_entry_row(rows, claim, None, KIND_OF_GROUP[adj.group], adj.amount, group_code=adj.group,
                            reason_code=adj.reason.strip(), **common)
                 for adj in posting.claim_adjustments if to_money(adj.amount) != ZERO
                 and ledgered(claim, posting, adj)]
    return made


def _entry_row(rows: RowBuffer, claim: Claim, line: ClaimLine | None, kind: EntryKind, amount: Decimal, *,
               actor: Actor, posted_on: date, source: EntrySource, **extra: Any) -> dict[str, Any]:
    return rows.entry(entry_values(claim_id=claim.id, line_id=line.id if line is not None else None, kind=kind,
                                   amount=amount, actor=actor, posted_on=posted_on, source=source,
                                   payer_id=claim.payer_id, **extra))


def _settle_status(claim: Claim, posting: ClaimPosting, balances: Balances, *, actor: Actor,
                   result: PostingResult, rows: RowBuffer) -> None:
    denied = {number: "; ".join(f"{a.group}-{a.reason.strip()} {describe_carc(a.reason.strip())}" for a in others)
              or "paid nothing" for number, others in denied_lines(claim, posting)}
    note_adjudication(claim, posting, denied, actor=actor, record=rows.change)
    if posting.is_denial:
        reasons = "; ".join(f"{a.group}-{a.reason} {describe_carc(a.reason)}" for a in posting.all_adjustments
                            if a.group != "PR") or "denied by the payer"
        if claim.status is ClaimStatus.SUBMITTED:
            transition(claim, ClaimStatus.DENIED, action=AuditAction.CLAIM_DENIED, actor=actor, reason=reasons[:500],
                       record=rows.change)
        elif claim.status is ClaimStatus.PAID:
            claim.needs_review = True
            result.notes.append("denied after it was paid; flagged for review")
    elif balances.insurance == ZERO or (balances.paid_by_payer > ZERO and awaiting_payer(
            claim, balances.insurance, flush=rows.flush) == ZERO):  # rule 3: a paid claim may carry denied lines
        if claim.status is ClaimStatus.SUBMITTED:
            transition(claim, ClaimStatus.PAID, action=AuditAction.CLAIM_PAID, actor=actor,
                       reason=f"paid {format_money(posting.paid)}", record=rows.change)
        elif claim.status is ClaimStatus.DENIED:
            claim.needs_review = True  # money after a denial: someone decides whether to resubmit
            result.notes.append("paid after it was denied; flagged for review")
    reasons = review_reasons(claim, posting)
    credit = credit_reason(balances)
    if credit:
        reasons.append(credit)
    if reasons:
        flag_for_review(claim, reasons, actor=actor, record=rows.change)
        result.notes += reasons
    result.status = claim.status


def flag_for_review(claim: Claim, reasons: list[str], *, actor: Actor,
                    record: Callable[..., object] = record_change) -> None:
    """Needs Review, with why in the claim's history (each money operation that finds something calls this)."""
    claim.needs_review = True
    record("claim", claim.id, AuditAction.CLAIM_FLAGGED, actor=actor, before=claim.status.value,
           after=claim.status.value, reason="; ".join(reasons)[:500], data={"reasons": reasons})
