"""The demo's claims: its notes are finalized through the same operation a clinician's click runs.

`finalize_sessions` bills each chunk as it finalizes it, so the demo's claims are grouped, unitized,
priced and held exactly as real ones are. A few claims are then worked the way a billing office
works them (held for paperwork, voided as duplicates, retracted and billed again) so every status
the product can reach without a payer is on screen.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Sequence

from sqlalchemy import func, or_, select, text

from billing.claims.models import Claim, ClaimDiagnosis, ClaimLine
from billing.claims.operations import hold_claim, retract_claim, void_claim
from billing.claims.sessions import CHUNK, finalize_sessions, generate_claims
from billing.claims.statuses import ClaimStatus
from billing.core.audit import Actor, StatusChange
from billing.core.db import chunked, db
from billing.core.id_lists import any_of
from billing.ledger.models import LedgerEntry
from billing.sessions.models import TherapySession

ACTOR = Actor.system("seed-demo")
#: Share of Ready claims given each treatment, drawn with a fixed seed so every run agrees.
HOLD_SHARE, VOID_SHARE, RETRACT_SHARE = 0.02, 0.005, 0.005
HOLD_REASONS = (
    "Waiting for the signed treatment plan",
    "Parent is updating the subscriber's date of birth with the payer",
    "Supervisor review of the session note requested",
)
VOID_REASON = "Duplicate entry: this visit was billed on another claim"


def finalize_demo_sessions(session_ids: Sequence[int]) -> None:
    """Finalize (and so bill) these draft sessions, then work a few claims."""
    for number, chunk in enumerate(chunked(session_ids, CHUNK), start=1):
        if number & (number - 1) == 0:  # chunks 1, 2, 4, 8...: the tables double between two refreshes at most
            refresh_statistics()
        visits = db.session.scalars(
            select(TherapySession)
            .where(any_of(TherapySession.id, chunk))
            .order_by(TherapySession.client_id, TherapySession.service_date, TherapySession.start_time)
        ).all()
        finalize_sessions(visits, actor=ACTOR)
        db.session.flush()
        db.session.expunge_all()  # 100,000 sessions at scale 100: memory stays flat
    refresh_statistics()
    _work_claims()


#: The tables finalizing reads back while it fills them.
GROWING = (TherapySession, Claim, ClaimLine, ClaimDiagnosis, LedgerEntry, StatusChange)


def refresh_statistics() -> None:
    """On PostgreSQL, ANALYZE the tables the seed reads back while it writes them.

    The whole seed is one transaction, so autovacuum never sees its rows: the planner believed `claim` empty
    and read every Ready claim of the date range through (status, service date) for each chunk's open claims,
    2 s a chunk and growing, where (client, service date) reads a few rows. ANALYZE inside the transaction
    counts the transaction's own rows. A few calls (at doubling sizes) keep the seed linear. The tables are named:
    a bare ANALYZE would also lock the cluster's shared catalogs until the seed commits, stalling every other
    database's ANALYZE meanwhile."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.flush()
        names = ", ".join(model.__tablename__ for model in GROWING)
        db.session.execute(text(f"ANALYZE {names}"))


def _work_claims() -> None:
    rng = random.Random("claimdesk-demo-claims")
    # Self-pay claims went to the patients (billing/claims/self_pay.py); they are drawn from with the Ready ones, as
    # when they waited in Ready, so the insurance claims worked here (and every remittance shape built on them)
    # stay the ones they were. Only insurance claims are worked.
    drawn = list(db.session.execute(
        select(Claim.id, Claim.self_pay).where(or_(Claim.status == ClaimStatus.READY, Claim.self_pay.is_(True)))
        .order_by(Claim.id)))
    ready = [claim_id for claim_id, _ in drawn]
    self_pay = {claim_id for claim_id, is_self_pay in drawn if is_self_pay}
    picked = rng.sample(ready, k=round(len(ready) * (HOLD_SHARE + VOID_SHARE + RETRACT_SHARE)))
    holds = round(len(ready) * HOLD_SHARE)
    voids = round(len(ready) * VOID_SHARE)
    reasons = iter(rng.choices(HOLD_REASONS, k=holds))
    groups = [[i for i in ids if i not in self_pay] for ids in (picked[:holds], picked[holds:holds + voids],
                                                                 picked[holds + voids:])]
    _apply(groups[0], lambda claim: hold_claim(claim, reason=next(reasons), actor=ACTOR))
    _apply(groups[1], lambda claim: void_claim(claim, reason=VOID_REASON, actor=ACTOR))
    _apply(groups[2], lambda claim: retract_claim(claim, actor=ACTOR))
    # A retracted claim's sessions are corrected and billed again, as the office would.
    generate_claims(actor=ACTOR)


def _apply(claim_ids: Sequence[int], operation: Callable[[Claim], None]) -> None:
    for chunk in chunked(claim_ids, CHUNK):
        for claim in db.session.scalars(select(Claim).where(any_of(Claim.id, chunk))):
            operation(claim)
        db.session.flush()


def claim_counts() -> Counter[str]:
    counts: Counter[str] = Counter()
    for status, n in db.session.execute(select(Claim.status, func.count()).group_by(Claim.status)):
        counts[f"{status.value}_claims"] = n
    counts["claim_lines"] = db.session.scalar(select(func.count(ClaimLine.id))) or 0
    return counts
