"""Denied lines after posting (rule 3): opened and closed by each adjudication, read for the Denied work.

Posting calls `note_adjudication` with the lines its own rule found denied, and `awaiting_payer` to decide
whether a paid claim is Paid: the insurance balance on lines still to be worked is the biller's to decide,
not the payer's to pay, so it does not keep the claim Submitted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.orm import joinedload

from billing.claims.family import billed_again
from billing.claims.line_denials import WORKABLE, LineDenialState, set_line_denial
from billing.claims.models import Claim, ClaimLine
from billing.claims.statuses import ClaimStatus
from billing.core.audit import Actor, record_change
from billing.core.codes import describe_carc, describe_rarc
from billing.core.db import db
from billing.core.id_lists import any_of
from billing.core.money import ZERO, to_money
from billing.ledger.balances import Balances, line_balances
from billing.ledger.models import Adjudication, AdjudicationAdjustment, AdjudicationLine, LedgerEntry
from billing.ledger.postings import ClaimPosting


def note_adjudication(claim: Claim, posting: ClaimPosting, denied: dict[int, str], *, actor: Actor,
                      record: Callable[..., object] = record_change) -> None:
    """Open the lines this adjudication denied (`denied`: line number -> why); close the ones it no longer denies.

    A line still to be worked that the payer now pays is paid_later; one it adjudicates without a denial
    (all to the patient, say) is cleared. A whole-claim denial leaves the lines alone: the claim is Denied.
    A resubmitted line denied again stays resubmitted while its resubmission stands (Posting rule 6: the
    service is open there, not here).
    """
    if posting.is_denial:
        return
    by_number = {ln.line_number: ln for ln in claim.lines}
    again: dict[int, Claim] | None = None
    for lp in posting.lines:
        line = by_number[lp.line_number]
        if lp.line_number in denied:
            line.denied_on = posting.paid_on
            if line.denial_state is LineDenialState.RESUBMITTED:
                again = billed_again(claim) if again is None else again
                if line.id in again:
                    continue
            if line.denial_state is not LineDenialState.OPEN:
                set_line_denial(line, LineDenialState.OPEN, actor=actor, reason=denied[lp.line_number],
                                record=record)
        elif line.denial_state in WORKABLE:
            paid = to_money(lp.paid) != ZERO
            set_line_denial(line, LineDenialState.PAID_LATER if paid else LineDenialState.CLEARED, actor=actor,
                            reason=f"paid {to_money(lp.paid)} on {posting.paid_on}" if paid else
                            "adjudicated again without a denial", record=record)


def workable_lines(claim: Claim) -> list[ClaimLine]:
    return [ln for ln in claim.lines if ln.denial_state in WORKABLE]


def awaiting_payer(claim: Claim, insurance: Decimal, *, flush: Callable[[], object] | None = None) -> Decimal:
    """The insurance balance the payer has yet to decide: all of it less what sits on lines still to be worked.

    Reads the ledger only when the claim has such a line (rare), after `flush` writes what is buffered.
    """
    lines = workable_lines(claim)
    if not lines or insurance == ZERO:
        return insurance
    (flush or db.session.flush)()
    balances = line_balances(claim.id)
    on_denied = sum((max((balances.get(ln.id) or Balances()).insurance, ZERO) for ln in lines), ZERO)
    return to_money(insurance - on_denied)


def has_workable_lines() -> ColumnElement[bool]:
    """SQL: the claim carries a denied line still to be worked."""
    return exists().where(ClaimLine.claim_id == Claim.id, ClaimLine.denial_state.in_(list(WORKABLE)))


def in_denied_work() -> ColumnElement[bool]:
    """SQL for the Denied tab and its count: a Denied claim, or any claim with a denied line to work."""
    return or_(Claim.status == ClaimStatus.DENIED, and_(Claim.status != ClaimStatus.VOIDED, has_workable_lines()))


def denied_work_count(*where: ColumnElement[bool]) -> int:
    """How many claims `in_denied_work()` finds, counted from the index on the lines' denial state rather than by
    probing every claim's lines (one scan of a million claims): Denied claims, plus the distinct other live claims
    with a line to work."""
    denied = select(func.count()).select_from(Claim).where(Claim.status == ClaimStatus.DENIED, *where)
    with_lines = (
        select(func.count(func.distinct(ClaimLine.claim_id)))
        .join(Claim, Claim.id == ClaimLine.claim_id)
        .where(ClaimLine.denial_state.in_(list(WORKABLE)),
               Claim.status.not_in([ClaimStatus.DENIED, ClaimStatus.VOIDED]), *where)
    )
    return (db.session.scalar(denied) or 0) + (db.session.scalar(with_lines) or 0)


# --- reads: the reasons of each denied line -------------------------------------------------------------------

@dataclass(frozen=True)
class Code:
    group: str  # "" for a RARC
    code: str
    description: str

    def __str__(self) -> str:
        return f"{self.group}-{self.code} {self.description}" if self.group else f"{self.code} {self.description}"


@dataclass
class DeniedLine:
    """One denied line as the Denied work shows it."""

    line: ClaimLine
    state: LineDenialState | None
    denied_on: date | None
    open_amount: Decimal
    carcs: list[Code] = field(default_factory=list)
    rarcs: list[Code] = field(default_factory=list)

    @property
    def groups(self) -> set[str]:
        return {c.group for c in self.carcs}

    def days_since(self, today: date) -> int | None:
        return (today - self.denied_on).days if self.denied_on else None

    def as_dict(self, today: date) -> dict[str, object]:
        return {"line": self.line.line_number, "code": self.line.service_code.code, "charge": str(self.line.charge),
                "state": self.state.value if self.state else None,
                "denied_on": self.denied_on.isoformat() if self.denied_on else None,
                "days_since_denial": self.days_since(today), "open_amount": str(self.open_amount),
                "carcs": [{"group": c.group, "code": c.code, "text": c.description} for c in self.carcs],
                "rarcs": [{"code": c.code, "text": c.description} for c in self.rarcs]}


def line_reasons(line_ids: Iterable[int]) -> dict[int, tuple[list[Code], list[Code]]]:
    """Per claim line: the non-PR CARCs and the RARCs of the latest standing adjudication of it (one query)."""
    ids = list(line_ids)
    if not ids:
        return {}
    reversed_ids = select(Adjudication.reverses_id).where(Adjudication.reverses_id.is_not(None))
    rows = db.session.execute(
        select(AdjudicationLine.claim_line_id, AdjudicationLine.id, AdjudicationLine.remarks,
               AdjudicationAdjustment.group_code, AdjudicationAdjustment.reason_code)
        .join(Adjudication, Adjudication.id == AdjudicationLine.adjudication_id)
        .outerjoin(AdjudicationAdjustment, AdjudicationAdjustment.adjudication_line_id == AdjudicationLine.id)
        .where(any_of(AdjudicationLine.claim_line_id, ids), Adjudication.reverses_id.is_(None),
               Adjudication.id.not_in(reversed_ids))
        .order_by(AdjudicationLine.id, AdjudicationAdjustment.id)
    ).all()
    latest: dict[int, int] = {}
    for line_id, adj_line_id, *_ in rows:
        latest[line_id] = max(latest.get(line_id, 0), adj_line_id)
    found: dict[int, tuple[list[Code], list[Code]]] = defaultdict(lambda: ([], []))
    for line_id, adj_line_id, remarks, group, reason in rows:
        if adj_line_id != latest[line_id]:
            continue
        carcs, rarcs = found[line_id]
        if group and group != "PR" and (code := Code(group, reason, describe_carc(reason))) not in carcs:
            carcs.append(code)
        for remark in (r.strip() for r in (remarks or "").split(",")):
            if remark and (code := Code("", remark, describe_rarc(remark))) not in rarcs:
                rarcs.append(code)
    return dict(found)


def denied_lines_of(claim_ids: Iterable[int], *, workable_only: bool = True) -> dict[int, list[DeniedLine]]:
    """Per claim: its denied lines (those still to be worked, or every line ever denied) with their reasons and
    open insurance balance, in three queries for a page of claims."""
    ids = list(claim_ids)
    if not ids:
        return {}
    wanted = ClaimLine.denial_state.in_(list(WORKABLE)) if workable_only else ClaimLine.denial_state.is_not(None)
    lines = list(db.session.scalars(
        select(ClaimLine).where(any_of(ClaimLine.claim_id, ids), wanted)
        .options(joinedload(ClaimLine.service_code)).order_by(ClaimLine.claim_id, ClaimLine.line_number)))
    reasons = line_reasons(ln.id for ln in lines)
    owed = _line_sums(ln.id for ln in lines)
    result: dict[int, list[DeniedLine]] = defaultdict(list)
    for line in lines:
        carcs, rarcs = reasons.get(line.id, ([], []))
        insurance = (owed.get(line.id) or Balances()).insurance
        result[line.claim_id].append(DeniedLine(line, line.denial_state, line.denied_on, max(insurance, ZERO),
                                                carcs, rarcs))
    return dict(result)


def _line_sums(line_ids: Iterable[int]) -> dict[int, Balances]:
    ids = list(line_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(LedgerEntry.claim_line_id, LedgerEntry.kind, func.sum(LedgerEntry.amount))
        .where(any_of(LedgerEntry.claim_line_id, ids)).group_by(LedgerEntry.claim_line_id, LedgerEntry.kind))
    sums: dict[int, Balances] = defaultdict(Balances)
    for line_id, kind, amount in rows:
        sums[line_id].add(kind, amount)
    return dict(sums)
