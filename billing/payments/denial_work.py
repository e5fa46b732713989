"""Working denied lines: which lines an adjudication denied (posting's own rule 3 test), and the state of
denied lines after a payment is reversed. The per-line money (write-off, patient billing) is in operations.py.
"""

from __future__ import annotations

from billing.claims.line_denials import WORKABLE, LineDenialState, set_line_denial
from billing.claims.models import Claim, ClaimLine
from billing.core.audit import Actor
from billing.ledger.balances import standing_adjudication
from billing.ledger.models import Adjudication
from billing.ledger.postings import Adjustment, ClaimPosting, LinePosting
from billing.payments.posting import denied_lines

DENIED_CODE = "4"


def posting_of(adjudication: Adjudication) -> ClaimPosting:
    """The recorded adjudication as the posting it came from, so the posting rules can be asked of it again."""
    def reasons(line_id: int | None) -> tuple[Adjustment, ...]:
        return tuple(Adjustment(a.group_code, a.reason_code, a.amount, a.quantity)
                     for a in adjudication.adjustments if a.adjudication_line_id == line_id)

    from_file = adjudication.remittance_id is not None
    return ClaimPosting(
        paid_on=adjudication.paid_on, status_code=adjudication.status_code, claim_adjustments=reasons(None),
        lines=tuple(LinePosting(ln.claim_line.line_number, ln.paid, reasons(ln.id), charge=ln.charge)
                    for ln in adjudication.lines),
        claim_charge=adjudication.charge if from_file else None, claim_paid=adjudication.paid if from_file else None,
    )


def denied_by(adjudication: Adjudication) -> list[ClaimLine]:
    """The lines this adjudication denied, by the same test posting applies (rule 3); every line of a
    whole-claim denial."""
    claim = adjudication.claim
    posting = posting_of(adjudication)
    if posting.is_denial or adjudication.status_code == DENIED_CODE:
        return [ln.claim_line for ln in adjudication.lines]
    numbers = {number for number, _ in denied_lines(claim, posting)}
    return [ln for ln in claim.lines if ln.line_number in numbers]


#: States a later adjudication set, not a biller's decision: undone when that adjudication is reversed.
SET_BY_PAYER = frozenset({LineDenialState.PAID_LATER, LineDenialState.CLEARED})


def recheck_after_reversal(claim: Claim, *, actor: Actor, reason: str) -> None:
    """A reversed payment takes its denials with it: a line still to be worked that the payment standing now
    does not deny is cleared (the payer will decide it again). And the other way (rule 3): a line the reversed
    payment paid or cleared that the payment standing now denies is open again, unless that one denied the
    whole claim (the claim is Denied; its lines are not worked one by one)."""
    if not any(ln.denial_state in WORKABLE or ln.denial_state in SET_BY_PAYER for ln in claim.lines):
        return
    standing = standing_adjudication(claim.id)
    still = {ln.id for ln in denied_by(standing)} if standing is not None else set()
    whole = standing is not None and (posting_of(standing).is_denial or standing.status_code == DENIED_CODE)
    for line in claim.lines:
        if line.denial_state in WORKABLE and line.id not in still:
            set_line_denial(line, LineDenialState.CLEARED, actor=actor, reason=f"denying payment reversed: {reason}")
        elif line.denial_state in SET_BY_PAYER and line.id in still and not whole:
            set_line_denial(line, LineDenialState.OPEN, actor=actor,
                            reason=f"the payment that closed it was reversed: {reason}")
