"""Eligibility checks (270/271): what the payer said about a policy on a service date, kept as history.

Rows are append-only. A 270 sent writes a *pending* check per policy; the 271 that answers it writes a new check
(`answers_id` points to the pending one, at most one answer each), so the latest row per policy is the current
word and the older rows are its history. Lives in coverage (below rules) so rule variables can read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Numeric, String, Text, func, select, true
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column, relationship, selectinload

from billing.core.append_only import append_only
from billing.core.db import db, enum_column, utcnow
from billing.core.errors import NotAllowed
from billing.core.id_lists import any_of
from billing.core.time import practice_date
from billing.coverage.models import InsurancePolicy


class EligibilityStatus(StrEnum):
    PENDING = "pending"  # a 270 went out; no answer yet
    ACTIVE = "active"
    INACTIVE = "inactive"
    UNKNOWN = "unknown"  # the payer could not identify the member, or said nothing about coverage
    FAILED = "failed"  # the inquiry could not be sent, or the payer refused it (AAA)


#: Statuses the Eligibility worklist shows.
NEEDS_ATTENTION = (EligibilityStatus.INACTIVE, EligibilityStatus.UNKNOWN, EligibilityStatus.FAILED)


class EligibilityCheck(db.Model):
    __table_args__ = (Index("ix_eligibility_check_policy_latest", "policy_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("insurance_policy.id"))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    service_date: Mapped[date]
    status: Mapped[EligibilityStatus] = mapped_column(enum_column(EligibilityStatus))
    trace_number: Mapped[str] = mapped_column(String(30), index=True)  # TRN02 of the 270
    #: The pending check this answer answers; unique, so an answer is recorded once whatever repeats.
    answers_id: Mapped[int | None] = mapped_column(ForeignKey("eligibility_check.id"), unique=True)
    inquiry_file: Mapped[str | None] = mapped_column(String(255))  # the 270's file name
    response_file: Mapped[str | None] = mapped_column(String(255))  # the 271's file name
    plan_name: Mapped[str | None] = mapped_column(String(80))
    group_number: Mapped[str | None] = mapped_column(String(50))
    plan_begin: Mapped[date | None]
    plan_end: Mapped[date | None]
    rejection_reasons: Mapped[list[str] | None] = mapped_column(JSON)  # AAA in words
    raw_271: Mapped[str | None] = mapped_column(Text)  # the member's part of the 271, as received
    requested_by: Mapped[str] = mapped_column(String(254))

    policy: Mapped[InsurancePolicy] = relationship()
    benefits: Mapped[list[EligibilityBenefit]] = relationship(
        back_populates="check", order_by="EligibilityBenefit.service_type"
    )


class EligibilityBenefit(db.Model):
    """One service type's benefits in an answer (in network, the client's own amounts)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    check_id: Mapped[int] = mapped_column(ForeignKey("eligibility_check.id"), index=True)
    service_type: Mapped[str] = mapped_column(String(2))  # EB03, e.g. PT, AD, AF, MH, 30
    service_type_name: Mapped[str] = mapped_column(String(60))
    copay: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    coinsurance_percent: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    deductible_remaining: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    out_of_pocket_remaining: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    visits_limit: Mapped[int | None]
    visits_used: Mapped[int | None]
    visits_remaining: Mapped[int | None]

    check: Mapped[EligibilityCheck] = relationship(back_populates="benefits")


class ChecksAreAppendOnly(NotAllowed):
    def __init__(self) -> None:
        super().__init__("Eligibility checks are history: they are never edited or deleted.")


append_only(EligibilityCheck, EligibilityBenefit, refusal=ChecksAreAppendOnly, include_collections=False)


class EligibilityLatest(db.Model):
    """Each policy's latest answered check and whether it needs attention (inactive, unknown, failed), kept by a
    trigger on eligibility_check (billing/coverage/eligibility_latest.py): the Eligibility worklist starts from the
    few policies needing attention instead of reading every answer of every policy with a session this week."""

    __tablename__ = "eligibility_latest"
    __table_args__ = (
        Index("ix_eligibility_latest_attention", "policy_id", postgresql_where=sql_text("needs_attention = true"),
              sqlite_where=sql_text("needs_attention = 1")),
    )

    policy_id: Mapped[int] = mapped_column(ForeignKey("insurance_policy.id"), primary_key=True)
    check_id: Mapped[int] = mapped_column(ForeignKey("eligibility_check.id"))
    needs_attention: Mapped[bool]


def needing_attention() -> Any:
    """SELECT of (policy_id, check_id) for the policies whose latest answer needs attention."""
    return select(EligibilityLatest.policy_id, EligibilityLatest.check_id).where(
        EligibilityLatest.needs_attention == true())


def latest_check(policy_id: int) -> EligibilityCheck | None:
    query = select(EligibilityCheck).where(EligibilityCheck.policy_id == policy_id)
    return db.session.scalars(query.order_by(EligibilityCheck.id.desc()).limit(1)).first()


def check_history(policy_id: int, *, limit: int = 50) -> list[EligibilityCheck]:
    query = select(EligibilityCheck).where(EligibilityCheck.policy_id == policy_id)
    return list(db.session.scalars(query.order_by(EligibilityCheck.id.desc()).limit(limit)))


def latest_checks(policy_ids: list[int]) -> dict[int, EligibilityCheck]:
    """The latest check of each policy that has one."""
    if not policy_ids:
        return {}
    newest = (select(func.max(EligibilityCheck.id)).where(any_of(EligibilityCheck.policy_id, policy_ids))
              .group_by(EligibilityCheck.policy_id))  # fmt: skip
    rows = db.session.scalars(select(EligibilityCheck).where(EligibilityCheck.id.in_(newest)))
    return {row.policy_id: row for row in rows}


def latest_answers(policy_ids: list[int]) -> dict[int, EligibilityCheck]:
    """The latest answered (not pending) check of each policy that has one."""
    if not policy_ids:
        return {}
    newest = (select(func.max(EligibilityCheck.id))
              .where(any_of(EligibilityCheck.policy_id, list(policy_ids)),
                     EligibilityCheck.status != EligibilityStatus.PENDING)
              .group_by(EligibilityCheck.policy_id))  # fmt: skip
    rows = db.session.scalars(select(EligibilityCheck).where(EligibilityCheck.id.in_(newest)))
    return {row.policy_id: row for row in rows}


@dataclass(frozen=True)
class PolicyEligibility:
    """One policy of a client, with its latest check, its latest answer and its history (newest first)."""

    policy: InsurancePolicy
    latest: EligibilityCheck | None
    answer: EligibilityCheck | None
    history: list[EligibilityCheck]


def client_eligibility(client_id: int, *, limit: int = 10) -> list[PolicyEligibility]:
    """Every policy of the client (primary first) and what the payers said; what the client page shows.

    Three statements whatever the number of policies and checks: the policies, each one's newest `limit` checks
    (a window over the policy's checks) with their benefits, and each one's latest answer.
    """
    policies = db.session.scalars(select(InsurancePolicy).where(InsurancePolicy.client_id == client_id)
                                  .options(selectinload(InsurancePolicy.payer))
                                  .order_by(InsurancePolicy.rank, InsurancePolicy.id)).all()  # fmt: skip
    ids = [p.id for p in policies]
    if not ids:
        return []
    place = func.row_number().over(partition_by=EligibilityCheck.policy_id, order_by=EligibilityCheck.id.desc())
    newest = select(EligibilityCheck.id, place.label("place")).where(EligibilityCheck.policy_id.in_(ids)).subquery()
    checks = db.session.scalars(
        select(EligibilityCheck).join(newest, newest.c.id == EligibilityCheck.id).where(newest.c.place <= limit)
        .options(selectinload(EligibilityCheck.benefits)).order_by(EligibilityCheck.id.desc())).all()
    history: dict[int, list[EligibilityCheck]] = {policy_id: [] for policy_id in ids}
    for check in checks:
        history[check.policy_id].append(check)
    answered = db.session.scalars(select(EligibilityCheck).where(EligibilityCheck.id.in_(
        select(func.max(EligibilityCheck.id)).where(EligibilityCheck.policy_id.in_(ids),
                                                    EligibilityCheck.status != EligibilityStatus.PENDING)
        .group_by(EligibilityCheck.policy_id)))).all()  # fmt: skip
    answers = {check.policy_id: check for check in answered}
    return [PolicyEligibility(policy, history[policy.id][0] if history[policy.id] else None, answers.get(policy.id),
                              history[policy.id]) for policy in policies]


def latest_answer(policy_id: int) -> EligibilityCheck | None:
    """The latest check that is not pending (what the payer last said, or that asking failed)."""
    query = select(EligibilityCheck).where(EligibilityCheck.policy_id == policy_id,
                                           EligibilityCheck.status != EligibilityStatus.PENDING)  # fmt: skip
    return db.session.scalars(query.order_by(EligibilityCheck.id.desc()).limit(1)).first()


@dataclass(frozen=True)
class EligibilityFacts:
    """What rules may know of a policy's latest answered check."""

    status: str
    plan_begin: date | None
    plan_end: date | None
    days_since: int
    visits_remaining: int | None  # the fewest visits left among the service types with a limit

    def active_on(self, day: date | None) -> bool:
        if self.status != EligibilityStatus.ACTIVE.value or day is None:
            return False
        return (self.plan_begin is None or self.plan_begin <= day) and (self.plan_end is None or day <= self.plan_end)


def eligibility_facts(policy_ids: set[int], today: date) -> dict[int, EligibilityFacts]:
    """Per policy, its latest answered (not pending) check, in two set-based queries."""
    if not policy_ids:
        return {}
    newest = (select(func.max(EligibilityCheck.id))
              .where(any_of(EligibilityCheck.policy_id, list(policy_ids)),
                     EligibilityCheck.status != EligibilityStatus.PENDING)
              .group_by(EligibilityCheck.policy_id))  # fmt: skip
    rows = db.session.execute(
        select(EligibilityCheck.id, EligibilityCheck.policy_id, EligibilityCheck.status, EligibilityCheck.plan_begin,
               EligibilityCheck.plan_end, EligibilityCheck.requested_at).where(EligibilityCheck.id.in_(newest))
    ).all()  # fmt: skip
    visits = dict(db.session.execute(
        select(EligibilityBenefit.check_id, func.min(EligibilityBenefit.visits_remaining))
        .where(any_of(EligibilityBenefit.check_id, [r[0] for r in rows]),
               EligibilityBenefit.visits_remaining.is_not(None))
        .group_by(EligibilityBenefit.check_id)
    ).all())  # fmt: skip
    return {
        policy_id: EligibilityFacts(status=status.value, plan_begin=begin, plan_end=end,
                                    days_since=max((today - practice_date(at)).days, 0),
                                    visits_remaining=visits.get(check_id))
        for check_id, policy_id, status, begin, end, at in rows
    }  # fmt: skip


@dataclass(frozen=True)
class CheckView:
    """A check as the CLI's --json and the pages show it."""

    check: EligibilityCheck

    def as_dict(self) -> dict[str, Any]:
        c = self.check
        return {
            "id": c.id, "policy_id": c.policy_id, "status": c.status.value, "service_date": c.service_date.isoformat(),
            "requested_at": c.requested_at.isoformat(), "trace_number": c.trace_number, "plan": c.plan_name,
            "group": c.group_number, "plan_begin": c.plan_begin.isoformat() if c.plan_begin else None,
            "plan_end": c.plan_end.isoformat() if c.plan_end else None,
            "rejection_reasons": list(c.rejection_reasons or []),
            "benefits": [
                {"service_type": b.service_type, "name": b.service_type_name,
                 "copay": _money(b.copay), "coinsurance_percent": _money(b.coinsurance_percent),
                 "deductible_remaining": _money(b.deductible_remaining),
                 "out_of_pocket_remaining": _money(b.out_of_pocket_remaining), "visits_limit": b.visits_limit,
                 "visits_used": b.visits_used, "visits_remaining": b.visits_remaining}
                for b in c.benefits
            ],
        }  # fmt: skip


def _money(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")
