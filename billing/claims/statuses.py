"""The claim status machine: one table of allowed moves and one function that makes them."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value

from billing.core.audit import Actor, AuditAction, Change, record_change, record_changes
from billing.core.db import db
from billing.core.errors import Conflict, Invalid, NotAllowed
from billing.core.id_lists import any_of

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


def transition_many(claims: Mapping[int, ClaimStatus], to: ClaimStatus, *, action: AuditAction, actor: Actor,
                    reasons: Mapping[int, str]) -> list[int]:
    """`transition` for thousands of claims known by id and status (an acknowledgment rejecting a batch).

    One UPDATE per starting status and one INSERT of history rows, instead of an ORM object per claim. The
    UPDATE moves only claims still in the status the caller read (a claim changed meanwhile is left alone and
    left out of the returned ids), and bumps each version as an ORM edit would, so a stale form still fails.
    """
    from billing.claims.models import Claim  # models imports this module for ClaimStatus

    for claim_id, status in claims.items():
        if to not in ALLOWED_TRANSITIONS[status]:
            raise NotAllowed(f"Claim {claim_id} is {status.label}; it cannot become {to.label}.")
    moved: list[int] = []
    by_status: dict[ClaimStatus, list[int]] = {}
    for claim_id, status in claims.items():
        by_status.setdefault(status, []).append(claim_id)
    for status, ids in by_status.items():
        for start in range(0, len(ids), 2000):
            chunk = ids[start:start + 2000]
            rows = db.session.execute(
                update(Claim).where(any_of(Claim.id, chunk), Claim.status == status)
                .values(status=to, version=Claim.version + 1).returning(Claim.id)
                .execution_options(synchronize_session=False)
            )
            moved += [claim_id for (claim_id,) in rows]
    record_changes("claim", [Change(i, action, claims[i].value, to.value, reasons.get(i)) for i in moved], actor=actor)
    _expire_loaded(moved)
    return moved


def transition_loaded(claims: Sequence[Claim], to: ClaimStatus, *, action: AuditAction, actor: Actor,
                      reason: str | None) -> None:
    """`transition` for thousands of claims the caller loaded and locked (a batch going out): one UPDATE per
    starting status that bumps every version, one INSERT of history rows, and the loaded objects put level
    with the database in place (no reload, no second UPDATE when the session flushes)."""
    from billing.claims.models import Claim  # models imports this module for ClaimStatus

    by_status: dict[ClaimStatus, list[Claim]] = {}
    for claim in claims:
        if to not in ALLOWED_TRANSITIONS[claim.status]:
            raise TransitionNotAllowed(claim, to)
        by_status.setdefault(claim.status, []).append(claim)
    db.session.flush()  # pending edits of these claims reach the database before it moves them
    # History first: the follow-up clocks (billing/submissions/follow_up_clock.py) are worked out again for the
    # claims of each statement, and only once the claims have moved is there anything to work out. Written after
    # the UPDATE, the history rows made PostgreSQL work out every claim sent twice (marking 841,910 claims sent
    # went from 201 s to 390 s). A conflict below raises, and the operation's transaction takes the rows back.
    record_changes("claim", [Change(c.id, action, status.value, to.value, reason)
                             for status, group in by_status.items() for c in group], actor=actor)
    for status, group in by_status.items():
        moved = db.session.execute(
            update(Claim).where(any_of(Claim.id, [c.id for c in group]), Claim.status == status)
            .values(status=to, version=Claim.version + 1).execution_options(synchronize_session=False)
        ).rowcount  # fmt: skip
        if moved != len(group):
            raise Conflict(f"{len(group) - moved} of the claims changed while they were being moved; try again.")
        for claim in group:
            set_committed_value(claim, "status", to)
            set_committed_value(claim, "version", claim.version + 1)


def _expire_loaded(claim_ids: list[int]) -> None:
    """Claims already in the session were changed behind its back: they are read again on next use."""
    from billing.claims.models import Claim  # models imports this module for ClaimStatus

    wanted = set(claim_ids)
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, Claim) and obj.id in wanted:
            db.session.expire(obj)
