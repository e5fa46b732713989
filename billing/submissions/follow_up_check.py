"""`flask ledger check`'s "follow-up-clock": every waiting claim's kept follow-up clock, worked out again.

The rows billing/submissions/follow_up_clock.py's triggers keep are recomputed here from the sources by other means
(one grouped query per source and range of claim ids, the next date's standing decided in Python from next_set_at
in the practice's time zone), and any claim whose row is missing, left over or different is named.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import false, func, select

from billing.claims.models import Claim, claim_number
from billing.claims.statuses import ClaimStatus
from billing.core.audit import StatusChange
from billing.core.db import db
from billing.core.time import practice_date
from billing.ledger.models import Adjudication
from billing.payments.invariants import Violation, register_check
from billing.submissions.claim_status_models import ClaimStatusResponse
from billing.submissions.claim_status_queries import HEARD
from billing.submissions.follow_up_models import ClaimFollowUp, ClaimFollowUpClock
from billing.submissions.models import AckKind, Acknowledgment, ClaimAcknowledgment

Clock = tuple[int, int | None, datetime | None, datetime, date | None, date | None]
#: Claims compared at a time (a range of ids): a million waiting claims stay a few MB at once.
IDS_AT_ONCE = 50_000


def _waiting_ids(ids: range) -> Any:
    return select(Claim.id).where(Claim.id.between(ids.start, ids.stop - 1), Claim.status == ClaimStatus.SUBMITTED,
                                  Claim.self_pay == false())


def _latest_heard(ids: range) -> dict[int, date]:
    waiting = _waiting_ids(ids)
    heard: dict[int, date] = {}
    for query in (
        select(Adjudication.claim_id, func.max(Adjudication.paid_on)).where(Adjudication.claim_id.in_(waiting))
        .group_by(Adjudication.claim_id),
        select(ClaimAcknowledgment.claim_id, func.max(ClaimAcknowledgment.effective_on))
        .join(Acknowledgment, Acknowledgment.id == ClaimAcknowledgment.acknowledgment_id)
        .where(ClaimAcknowledgment.claim_id.in_(waiting), Acknowledgment.kind == AckKind.CLAIM,
               ClaimAcknowledgment.effective_on.is_not(None))
        .group_by(ClaimAcknowledgment.claim_id),
        select(ClaimStatusResponse.claim_id, func.max(ClaimStatusResponse.heard_on))
        .where(ClaimStatusResponse.claim_id.in_(waiting), ClaimStatusResponse.outcome.in_(HEARD))
        .group_by(ClaimStatusResponse.claim_id),
    ):
        for claim_id, day in db.session.execute(query):
            heard[claim_id] = max(day, heard.get(claim_id, day))
    return heard


def expected_clocks(ids: range) -> dict[int, Clock]:
    """Per waiting claim of `ids`, (location, payer, sent_at, since_at, heard_on, next_on) as its sources say."""
    waiting = _waiting_ids(ids)
    sent = {claim_id: at for claim_id, at in db.session.execute(
        select(StatusChange.subject_id, func.max(StatusChange.at))
        .where(StatusChange.subject_type == "claim", StatusChange.subject_id.in_(waiting),
               StatusChange.to_status == ClaimStatus.SUBMITTED.value)
        .group_by(StatusChange.subject_id))}
    heard = _latest_heard(ids)
    next_dates = {claim_id: (next_on, set_at) for claim_id, next_on, set_at in db.session.execute(
        select(ClaimFollowUp.claim_id, ClaimFollowUp.next_follow_up_on, ClaimFollowUp.next_set_at)
        .where(ClaimFollowUp.claim_id.in_(waiting), ClaimFollowUp.next_follow_up_on.is_not(None)))}
    clocks: dict[int, Clock] = {}
    for claim_id, location_id, payer_id, created_at in db.session.execute(
            select(Claim.id, Claim.location_id, Claim.payer_id, Claim.created_at).where(Claim.id.in_(waiting))):
        sent_at = sent.get(claim_id)
        since_at = max(created_at, sent_at) if sent_at else created_at
        heard_on = heard.get(claim_id)
        since_day = max(d for d in (practice_date(since_at), heard_on) if d is not None)
        next_on, set_at = next_dates.get(claim_id, (None, None))
        stands = next_on is not None and set_at is not None and practice_date(set_at) >= since_day
        clocks[claim_id] = (location_id, payer_id, sent_at, since_at, heard_on, next_on if stands else None)
    return clocks


def kept_clocks(ids: range) -> dict[int, Clock]:
    k = ClaimFollowUpClock
    return {row[0]: tuple(row[1:]) for row in db.session.execute(  # type: ignore[misc]
        select(k.claim_id, k.location_id, k.payer_id, k.sent_at, k.since_at, k.heard_on, k.next_on)
        .where(k.claim_id.between(ids.start, ids.stop - 1)))}


def follow_up_clocks_kept() -> list[Violation]:
    """Each waiting claim has its follow-up clock row, as its history says, and no other claim has one."""
    last = max(db.session.scalar(select(func.max(Claim.id))) or 0,
               db.session.scalar(select(func.max(ClaimFollowUpClock.claim_id))) or 0)
    violations = []
    for start in range(0, last + 1, IDS_AT_ONCE):
        ids = range(start, start + IDS_AT_ONCE)
        expected, kept = expected_clocks(ids), kept_clocks(ids)
        violations += [
            Violation("follow-up-clock", claim_number(claim_id), f"its history makes its follow-up clock "
                      f"{_words(expected.get(claim_id))}, but the kept row says {_words(kept.get(claim_id))}")
            for claim_id in sorted(expected.keys() | kept.keys()) if expected.get(claim_id) != kept.get(claim_id)]
    return violations


def _words(clock: Clock | None) -> str:
    if clock is None:
        return "none (not waiting at a payer)"
    location_id, payer_id, sent_at, since_at, heard_on, next_on = clock
    return (f"location {location_id}, payer {payer_id}, sent {sent_at}, since {since_at}, heard {heard_on}, "
            f"next {next_on}")


register_check("follow-up-clock", follow_up_clocks_kept)
