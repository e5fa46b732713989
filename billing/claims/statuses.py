"""The claim status machine: one table of allowed moves and one function that makes them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final

from billing.core.audit import Actor, AuditAction, record_change
from billing.core.errors import Invalid, NotAllowed

if TYPE_CHECKING:
    from billing.claims.models import Claim


class ClaimStatus(StrEnum):
    READY = "ready"
    HELD = "held"
    SUBMITTED = "submitted"
    #: A clearinghouse (999) or payer front end (277CA) refused it: it never reached adjudication.
    REJECTED = "rejected"
    PAID = "paid"
    DENIED = "denied"
    VOIDED = "voided"

    @property
    def label(self) -> str:
        return self.value.capitalize()


ALLOWED_TRANSITIONS: Final[Mapping[ClaimStatus, frozenset[ClaimStatus]]] = {
    ClaimStatus.READY: frozenset({ClaimStatus.HELD, ClaimStatus.SUBMITTED, ClaimStatus.VOIDED}),
    ClaimStatus.HELD: frozenset({ClaimStatus.READY, ClaimStatus.VOIDED}),
    ClaimStatus.SUBMITTED: frozenset({ClaimStatus.PAID, ClaimStatus.DENIED, ClaimStatus.REJECTED, ClaimStatus.VOIDED}),
    # The payer never adjudicated a rejected claim: it is fixed and sent again as it is (Ready, then the next batch),
    # held while someone finds what is missing, or voided with no frequency-8 void (the payer has nothing to void).
    # Never straight back to Submitted or on to Paid/Denied: only a batch sends, and only an adjudicated claim is paid.
    ClaimStatus.REJECTED: frozenset({ClaimStatus.READY, ClaimStatus.HELD, ClaimStatus.VOIDED}),
    ClaimStatus.DENIED: frozenset({ClaimStatus.READY, ClaimStatus.VOIDED}),
    # A clawback that leaves the payer owing again reopens the claim: it waits for the payer once more.
    ClaimStatus.PAID: frozenset({ClaimStatus.SUBMITTED, ClaimStatus.VOIDED}),
    ClaimStatus.VOIDED: frozenset(),
}

#: Before submission a claim may be edited; after, the fix is a corrected claim. A rejected claim never reached
#: adjudication, so it is fixed in place and sent again.
EDITABLE: Final = frozenset({ClaimStatus.READY, ClaimStatus.HELD, ClaimStatus.REJECTED})
#: Claims the payer has seen: only these are paid, reversed, corrected or followed up (a Ready claim never left,
#: a Rejected one was turned away at the door).
SENT: Final = frozenset({ClaimStatus.SUBMITTED, ClaimStatus.DENIED, ClaimStatus.PAID})
#: Claims that still bill their sessions (a voided claim releases them).
LIVE: Final = frozenset(set(ClaimStatus) - {ClaimStatus.VOIDED})


class TransitionNotAllowed(NotAllowed):
    def __init__(self, claim: Claim, to: ClaimStatus) -> None:
        allowed = ", ".join(s.label for s in sorted(ALLOWED_TRANSITIONS[claim.status])) or "nothing"
        super().__init__(
            f"Claim {claim.number} is {claim.status.label}; it cannot become {to.label} "
            f"(from {claim.status.label} it can become: {allowed})."
        )
        self.claim, self.to = claim, to


def transition(claim: Claim, to: ClaimStatus, *, action: AuditAction, actor: Actor, reason: str | None,
               record: Callable[..., object] = record_change, data: dict[str, Any] | None = None) -> None:
    """The only place a claim's status changes; every change leaves a history row.

    Args:
        record: writes the history row; an 835 import passes its row buffer's, to write thousands at once.
        data: kept on the history row (e.g. the billing run that placed a hold).
    """
    if to not in ALLOWED_TRANSITIONS[claim.status]:
        raise TransitionNotAllowed(claim, to)
    record("claim", claim.id, action, actor=actor, before=claim.status.value, after=to.value, reason=reason,
           data=data)
    claim.status = to


def opening_status(*, incomplete: bool) -> ClaimStatus:
    """A new claim starts Ready, or Held when pieces are missing (bulk billing writes it as a row)."""
    return ClaimStatus.HELD if incomplete else ClaimStatus.READY


def open_claim(claim: Claim, status: ClaimStatus) -> None:
    """Give a new, unflushed claim its first status: Ready, or Held when pieces are missing.

    Its history row needs the claim's id, so the creator calls `record_opening` after the flush.
    """
    if status not in (ClaimStatus.READY, ClaimStatus.HELD) or claim.status is not None:
        raise Invalid("A new claim starts in Ready or Held.")
    claim.status = status


def record_opening(claim: Claim, *, actor: Actor, reason: str | None) -> None:
    record_change("claim", claim.id, AuditAction.CLAIM_CREATED, actor=actor, after=claim.status.value, reason=reason)
