"""What a payment would do before it is saved: per line, does it add up; after it, who owes what.

The Record Payment and Reverse pages show this preview; nothing here writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from billing.claims.line_denials import WORKABLE
from billing.claims.models import Claim
from billing.claims.statuses import ClaimStatus
from billing.core.money import ZERO, sum_money, to_money
from billing.coverage.models import PolicyRank
from billing.ledger.balances import Balances, line_balances, lines_with_charges
from billing.ledger.models import EFFECTS, EntryKind
from billing.ledger.postings import KIND_OF_GROUP, Adjustment, ClaimPosting, LinePosting
from billing.payments.posting import booked_lines, books, denied_lines, ledger_lines, ledgered, open_on_lines


@dataclass(frozen=True)
class LinePreview:
    line_number: int
    code: str
    charge: Decimal
    paid: Decimal
    adjustments: Decimal  # every CAS amount but PR
    patient_responsibility: Decimal
    leave_open: bool

    @property
    def difference(self) -> Decimal:
        """charge - (paid + adjustments + patient responsibility): must be zero unless left open."""
        return to_money(self.charge - self.paid - self.adjustments - self.patient_responsibility)

    @property
    def adds_up(self) -> bool:
        return self.difference == ZERO


@dataclass(frozen=True)
class PostingPreview:
    lines: tuple[LinePreview, ...]
    insurance_before: Decimal
    patient_before: Decimal
    insurance_after: Decimal
    patient_after: Decimal
    status_after: ClaimStatus

    @property
    def paid(self) -> Decimal:
        return sum_money(ln.paid for ln in self.lines)

    @property
    def balance_after(self) -> Decimal:
        return to_money(self.insurance_after + self.patient_after)

    @property
    def refused_lines(self) -> list[LinePreview]:
        return [ln for ln in self.lines if not ln.adds_up and not ln.leave_open]


def preview_posting(claim: Claim, posting: ClaimPosting, *, replacing: Balances | None = None) -> PostingPreview:
    """The balances the claim would have after `posting` (after taking back `replacing`, a standing payment)."""
    current = _current(claim)
    insurance, patient = current.insurance, current.patient
    start = claim.status
    if replacing is not None:  # the entries of the payment being replaced, taken back first
        insurance -= replacing.insurance
        patient -= replacing.patient
        start = ClaimStatus.SUBMITTED if start is ClaimStatus.PAID and insurance != ZERO else start
    lines = tuple(_line_preview(claim, lp) for lp in posting.lines)
    for adj in _ledgered_adjustments(claim, posting):
        to_insurance, to_patient = EFFECTS[KIND_OF_GROUP.get(adj.group, EntryKind.OTHER_ADJUSTMENT)]
        insurance += to_insurance * to_money(adj.amount)
        patient += to_patient * to_money(adj.amount)
    insurance -= posting.paid
    on_denied = _left_on_denied_lines(claim, posting) if posting.paid > ZERO else None
    return PostingPreview(lines, current.insurance, current.patient, to_money(insurance), to_money(patient),
                          _status_after(start, posting, to_money(insurance), on_denied))


def _ledgered_adjustments(claim: Claim, posting: ClaimPosting) -> list[Adjustment]:
    """The adjustments posting would ledger, by the engine's own rules (a denial's and a denied line's reasons
    stay open, OA-23 after other payers is information); the plain list while a line number is still wrong."""
    numbers = {ln.line_number for ln in claim.lines}
    if not posting.lines or any(lp.line_number not in numbers for lp in posting.lines):
        return [a for a in posting.all_adjustments if not (posting.is_denial and a.group != "PR")]
    denied = {number for number, _ in denied_lines(claim, posting)}
    open_lines = open_on_lines(claim, posting)  # a later payer's adjustments are cut to what is open
    return [adj for line, _paid, adjustments in booked_lines(claim, posting, open_lines) for adj in adjustments
            if books(claim, posting, adj, denied_line=line.line_number in denied, later_payer=open_lines is not None)]


def _current(claim: Claim) -> Balances:
    """Today's balances; a line never charged counts its charge (posting enters it first, as `post_charges` does).

    A charge withdrawn by a void or correction stays withdrawn: posting never charges a line twice.
    """
    total = Balances()
    by_line = line_balances(claim.id) if claim.id else {}
    for balances in by_line.values():
        for kind, amount in balances.by_kind.items():
            total.add(kind, amount)
    if claim.payer_rank is PolicyRank.PRIMARY:
        charged = lines_with_charges([claim.id]) if claim.id else set()
        for line in claim.lines:
            if line.id not in charged:
                total.add(EntryKind.CHARGE, line.charge)
    return total


def _line_preview(claim: Claim, lp: LinePosting) -> LinePreview:
    line = next((ln for ln in claim.lines if ln.line_number == lp.line_number), None)
    charge = to_money(lp.charge if lp.charge is not None else (line.charge if line else ZERO))
    return LinePreview(
        line_number=lp.line_number, code=line.service_code.code if line else "?", charge=charge,
        paid=to_money(lp.paid), adjustments=sum_money(a.amount for a in lp.adjustments if a.group != "PR"),
        patient_responsibility=lp.patient_responsibility, leave_open=lp.leave_open,
    )


def _status_after(start: ClaimStatus, posting: ClaimPosting, insurance: Decimal,
                  on_denied: Decimal | None = None) -> ClaimStatus:
    """The same rules posting applies: denied, paid in full (or all that is left sits on denied lines, rule 3),
    or unchanged (a later payment is reviewed)."""
    if start is not ClaimStatus.SUBMITTED:
        return start
    if posting.is_denial:
        return ClaimStatus.DENIED
    return ClaimStatus.PAID if insurance in (ZERO, on_denied) else start


def _left_on_denied_lines(claim: Claim, posting: ClaimPosting) -> Decimal | None:
    """The insurance balance the posting would leave on denied lines still to be worked (its own and earlier
    ones it does not adjudicate); None while a line number is wrong."""
    numbers = {ln.line_number for ln in claim.lines}
    if any(lp.line_number not in numbers for lp in posting.lines):
        return None
    denied = {number for number, _ in denied_lines(claim, posting)}
    posted = {lp.line_number for lp in posting.lines}
    by_line = line_balances(claim.id) if claim.id else {}
    charged = lines_with_charges([claim.id]) if claim.id and claim.payer_rank is PolicyRank.PRIMARY else None
    moved = {line.id: sum_money(adj.amount for adj in adjustments
                                if ledgered(claim, posting, adj, denied_line=True)) + paid
             for line, paid, adjustments in ledger_lines(claim, posting) if line.line_number in denied}
    total = ZERO
    for line in claim.lines:
        if line.line_number in denied or (line.denial_state in WORKABLE and line.line_number not in posted):
            insurance = (by_line.get(line.id) or Balances()).insurance
            if charged is not None and line.id not in charged:
                insurance += line.charge
            total += insurance - moved.get(line.id, ZERO)
    return to_money(total)
