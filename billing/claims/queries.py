"""Reads about claims: what is live, what locks a session, lookups by number."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, and_, exists, func, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import aliased

from billing.claims.models import Claim, ClaimLine
from billing.claims.statuses import ClaimStatus
from billing.core.audit import StatusChange
from billing.core.db import db
from billing.core.errors import Conflict, NotFound
from billing.core.id_lists import any_of
from billing.org.queries import Scope, by_location


def live_claim_filter(claim: type[Claim] = Claim) -> ColumnElement[bool]:
    """Claims that still bill their sessions: not voided, and not replaced by a live correction."""
    correction = aliased(Claim)
    return and_(
        claim.status != ClaimStatus.VOIDED,
        ~exists().where(correction.original_claim_id == claim.id, _live_correction(correction)),
    )


def replaced_claim_ids() -> Select[tuple[int | None]]:
    """The ids of the claims a live correction replaces: a handful, read through ix_claim_live_corrections."""
    correction = aliased(Claim)
    return select(correction.original_claim_id).where(_live_correction(correction))


def _live_correction(correction: type[Claim]) -> ColumnElement[bool]:
    """A correction (frequency 7) that is not voided: its original no longer bills (ix_claim_live_corrections)."""
    return and_(correction.frequency_code == "7", correction.status != ClaimStatus.VOIDED)


def live_line_filter() -> ColumnElement[bool]:
    return any_of(ClaimLine.claim_id, select(Claim.id).where(live_claim_filter()))


def claim_locking(session_id: int) -> Claim | None:
    """The claim (not voided) that bills this session and so locks it, if any."""
    return db.session.scalar(
        select(Claim)
        .join(ClaimLine, ClaimLine.claim_id == Claim.id)
        .where(ClaimLine.session_id == session_id, Claim.status != ClaimStatus.VOIDED)
        .order_by(Claim.id.desc())
        .limit(1)
    )


def last_claim_of(session_id: int) -> Claim | None:
    """The latest claim that billed this session, whatever became of it."""
    return db.session.scalar(
        select(Claim).join(ClaimLine, ClaimLine.claim_id == Claim.id).where(ClaimLine.session_id == session_id)
        .order_by(Claim.id.desc()).limit(1)
    )


def ever_submitted(claim_id: int) -> bool:
    """The claim went to the payer at least once (a denied claim put back to Ready did)."""
    return db.session.scalar(select(exists().where(
        StatusChange.subject_type == "claim", StatusChange.subject_id == claim_id,
        StatusChange.to_status == ClaimStatus.SUBMITTED.value,
    ))) or False


def ever_billed(session_id: int) -> bool:
    return db.session.scalar(select(exists().where(ClaimLine.session_id == session_id))) or False


class ClaimNotFound(NotFound):
    def __init__(self, number: str) -> None:
        super().__init__(f"No claim has the number {number!r}.")


def claim_by_number(number: str, *, for_update: bool = False, scope: Scope | None = None) -> Claim:
    """The claim numbered `number`; with a `scope`, one outside it is not found either (the scope picker)."""
    claim_id = Claim.id_from_number(number)
    query = select(Claim).where(Claim.id == claim_id)
    if scope is not None and not scope.is_everything:
        query = query.where(by_location(Claim.location_id, scope))
    if for_update:
        query = query.with_for_update()
    claim = db.session.scalar(query) if claim_id is not None else None
    if claim is None:
        raise ClaimNotFound(number)
    return claim


def lock_claim(claim: Claim) -> Claim:
    """Hold the claim's row until this transaction ends, and see the claim as it is committed now.

    Every money operation on a claim starts here, so two of them (two billers, two tabs, the web and a job)
    run one after the other: the second sees what the first posted instead of posting on a stale balance.
    PostgreSQL takes the row lock (SELECT ... FOR UPDATE); SQLite ignores FOR UPDATE, so a no-op UPDATE takes
    its database write lock instead. When SQLite refuses to wait (this transaction read before another
    committed), the person is told to try again: nothing was written.
    """
    session = db.session()
    transaction = session.get_transaction()
    held = session.info.get("claim_locks")
    if held is None or held[0] is not transaction:
        held = session.info["claim_locks"] = (transaction, set())
    if claim.id in held[1]:
        return claim  # locked earlier in this transaction (an operation calling another): already current
    if db.session.get_bind().dialect.name == "sqlite":
        try:
            db.session.execute(
                update(Claim).where(Claim.id == claim.id).values(version=Claim.version)
                .execution_options(synchronize_session=False)
            )  # fmt: skip
        except OperationalError:
            raise Conflict(f"Claim {claim.number} is being changed by someone else right now; try again.") from None
    else:
        db.session.execute(select(Claim.id).where(Claim.id == claim.id).with_for_update())
    db.session.refresh(claim)
    held[1].add(claim.id)
    return claim


def claim_history(claim_id: int) -> list[StatusChange]:
    return list(
        db.session.scalars(
            select(StatusChange)
            .where(StatusChange.subject_type == "claim", StatusChange.subject_id == claim_id)
            .order_by(StatusChange.id)
        )
    )


def authorization_units_used(auth_ids: list[int]) -> dict[int, int]:
    """Units on live (not voided, not replaced) claim lines, per authorization."""
    rows = db.session.execute(
        select(ClaimLine.authorization_id, func.sum(ClaimLine.units))
        .where(any_of(ClaimLine.authorization_id, auth_ids), live_line_filter())
        .group_by(ClaimLine.authorization_id)
    )
    return {auth_id: int(total or 0) for auth_id, total in rows}
