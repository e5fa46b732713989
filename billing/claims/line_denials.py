"""The state of a denied service line (posting rule 3): open until a biller decides what to do with it.

A line the payer paid nothing on, whose charge did not wholly go to the patient (or to the earlier payers on
a secondary), is denied. Posting opens it; a decision (resubmission, corrected claim, write-off, patient
billing, appeal) or later money closes it. Every move writes a history row on the claim.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final

from billing.core.audit import Actor, AuditAction, record_change

if TYPE_CHECKING:
    from billing.claims.models import Claim, ClaimLine


class LineDenialState(StrEnum):
    OPEN = "open"  # to work
    APPEALED = "appealed"  # a written appeal is with the payer; still owed by it
    RESUBMITTED = "resubmitted"  # on a new claim with the denied lines
    CORRECTED = "corrected"  # a corrected claim (frequency 7) replaces the claim
    WRITTEN_OFF = "written_off"
    BILLED_TO_PATIENT = "billed_to_patient"
    PAID_LATER = "paid_later"  # a later adjudication paid it
    CLEARED = "cleared"  # a later adjudication no longer denies it, or the denying payment was reversed

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


#: Lines still waiting for a biller: in the Denied tab, and their insurance balance does not keep a paid claim open.
WORKABLE: Final = frozenset({LineDenialState.OPEN, LineDenialState.APPEALED})


def set_line_denial(line: ClaimLine, to: LineDenialState, *, actor: Actor, reason: str | None,
                    record: Callable[..., object] = record_change, data: dict[str, Any] | None = None) -> None:
    """The only place a line's denial state changes; the history row names the line, from, to and why."""
    record("claim", line.claim_id, AuditAction.LINE_DENIAL, actor=actor,
           before=line.denial_state.value if line.denial_state else None, after=to.value,
           reason=(reason or "")[:500] or None, data={"line": line.line_number, **(data or {})})
    line.denial_state = to


def close_workable(claim: Claim, to: LineDenialState, *, actor: Actor, reason: str,
                   data: dict[str, Any] | None = None) -> list[int]:
    """Every line of the claim still to be worked moves to `to` (a corrected claim replaces them all)."""
    moved = []
    for line in claim.lines:
        if line.denial_state in WORKABLE:
            set_line_denial(line, to, actor=actor, reason=reason, data=data)
            moved.append(line.line_number)
    return moved
