"""Which claims may go into a submission batch, and why the others may not.

Submissions ask this one question; the rules engine answers it with what it knows (open failed
charges, rule errors, holds, delays still running) on top of the claim's own status. It fails
closed: a rule error blocks exactly as a failure does.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date

from sqlalchemy import exists, or_, select

from billing.claims.models import Claim, claim_number
from billing.claims.statuses import ClaimStatus
from billing.core.db import chunked, db
from billing.core.id_lists import any_of
from billing.core.time import practice_today
from rules.models import BLOCKING, OutcomeKind, Rule, RuleOutcome, RulesCheck

_PREFIX = {
    OutcomeKind.FAILURE: "failed rule",
    OutcomeKind.ERROR: "rule error in",
    OutcomeKind.HOLD: "held by rule",
}


#: Claims asked about per query: PostgreSQL takes at most 65,535 bound parameters in one statement.
CHUNK = 10_000


def submission_blockers(claim_ids: Collection[int], *, today: date | None = None) -> dict[int, str]:
    """Map each claim that may not be submitted now to the reason; eligible claims are absent."""
    blockers: dict[int, str] = {}
    for ids in chunked(list(claim_ids), CHUNK):
        blockers.update(_blockers(list(ids), today or practice_today()))
    return blockers


def _blockers(ids: list[int], today: date) -> dict[int, str]:
    rows = db.session.execute(select(Claim.id, Claim.status).where(any_of(Claim.id, ids)))
    blockers = {cid: f"claim is {status.label}" for cid, status in rows if status is not ClaimStatus.READY}
    for claim_id, reason in _open_outcome_reasons(ids, today).items():
        blockers.setdefault(claim_id, reason)
    return blockers


def _open_outcome_reasons(ids: list[int], today: date) -> dict[int, str]:
    rows = db.session.execute(
        select(RuleOutcome.claim_id, RuleOutcome.kind, RuleOutcome.reason, RuleOutcome.delay_until, Rule.name)
        .join(Rule, Rule.id == RuleOutcome.rule_id)
        .where(
            any_of(RuleOutcome.claim_id, ids),
            RuleOutcome.resolved_at.is_(None),
            RuleOutcome.kind != OutcomeKind.WARNING,
        )
        .order_by(RuleOutcome.claim_id, RuleOutcome.id)
    )
    reasons: dict[int, list[str]] = {}
    for claim_id, kind, reason, until, rule_name in rows:
        if kind is OutcomeKind.DELAY:
            if until <= today:
                continue  # a delay releases on its date
            text = f"delayed until {until:%Y-%m-%d} by rule {rule_name!r}: {reason}"
        else:
            text = f"{_PREFIX[kind]} {rule_name!r}: {reason}"
        reasons.setdefault(claim_id, []).append(text)
    return {claim_id: "; ".join(texts) for claim_id, texts in reasons.items()}


def unchecked_claims(claim_ids: Collection[int]) -> set[int]:
    """Of these claims, those no billing run has evaluated as they are now (never checked, or changed since)."""
    found: set[int] = set()
    for ids in chunked(list(claim_ids), CHUNK):
        seen = exists().where(RulesCheck.claim_id == Claim.id, RulesCheck.claim_version == Claim.version)
        found.update(db.session.scalars(select(Claim.id).where(any_of(Claim.id, ids), ~seen)))
    return found


@dataclass(frozen=True)
class RuleStop:
    """A claim a billing run keeps out of submission: which rule, what it does (failed, held...), and why."""

    claim_id: int
    rule: str
    kind: OutcomeKind
    reason: str
    #: The run found it for the first time (not a failure still open from an earlier run).
    new: bool

    @property
    def number(self) -> str:
        return claim_number(self.claim_id)

    def describe(self) -> str:
        return f"{self.number}: {self.kind.label} by rule {self.rule!r}: {self.reason}"

    def as_dict(self) -> dict[str, object]:
        return {"claim": self.number, "rule": self.rule, "outcome": self.kind.value, "reason": self.reason,
                "new": self.new}


def run_stops(run_id: int, *, today: date | None = None) -> list[RuleStop]:
    """What this run left blocking (failures, rule errors, holds, delays still running), claim by claim."""
    day = today or practice_today()
    rows = db.session.execute(
        select(RuleOutcome.claim_id, Rule.name, RuleOutcome.kind, RuleOutcome.reason, RuleOutcome.first_run_id)
        .join(Rule, Rule.id == RuleOutcome.rule_id)
        .where(RuleOutcome.last_run_id == run_id, RuleOutcome.resolved_at.is_(None),
               RuleOutcome.kind.in_([k.value for k in BLOCKING]),
               or_(RuleOutcome.delay_until.is_(None), RuleOutcome.delay_until > day))
        .order_by(RuleOutcome.claim_id, RuleOutcome.id)
    )
    return [RuleStop(claim_id, name, kind, reason, first == run_id) for claim_id, name, kind, reason, first in rows]
