"""Rules as data, their version history, numbered billing runs, and what each run found per claim."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from billing.claims.models import Claim
from billing.core.db import db, enum_column, utcnow


class Rule(db.Model):
    """A biller's validation rule: business-rules conditions and actions, checked before every save."""

    __table_args__ = (
        CheckConstraint(
            "(CASE WHEN scope_company_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN scope_practice_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN scope_payer_id IS NULL THEN 0 ELSE 1 END) <= 1",
            "one_scope",
        ),
        CheckConstraint("version >= 1", "version_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str] = mapped_column(String(500), default="")
    conditions: Mapped[dict[str, Any]] = mapped_column(JSON)
    actions: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    enabled: Mapped[bool] = mapped_column(default=True)
    #: Rules run in this order (then by id); a hold placed by an earlier rule keeps its reason.
    position: Mapped[int] = mapped_column(default=100)
    # At most one scope; all three empty means every claim.
    scope_company_id: Mapped[int | None] = mapped_column(ForeignKey("company.id"), index=True)
    scope_practice_id: Mapped[int | None] = mapped_column(ForeignKey("practice.id"), index=True)
    scope_payer_id: Mapped[int | None] = mapped_column(ForeignKey("payer.id"), index=True)
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(254))

    versions: Mapped[list[RuleVersion]] = relationship(
        back_populates="rule", order_by="RuleVersion.version.desc()", viewonly=True
    )

    def __str__(self) -> str:
        return self.name


class RuleVersion(db.Model):
    """A rule as it was saved, once per save; old versions stay readable forever."""

    __table_args__ = (UniqueConstraint("rule_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("rule.id"))
    version: Mapped[int]
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    changed_by: Mapped[str] = mapped_column(String(254))

    rule: Mapped[Rule] = relationship(back_populates="versions")


class BillingRun(db.Model):
    """One evaluation of the rules over a set of claims; its id is the run number people search by."""

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    actor: Mapped[str] = mapped_column(String(254))
    #: The filters the run was asked for (company, practice, location, claim numbers).
    scope: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    claims_checked: Mapped[int] = mapped_column(default=0)
    claims_failing: Mapped[int] = mapped_column(default=0)
    rule_errors: Mapped[int] = mapped_column(default=0)
    holds_placed: Mapped[int] = mapped_column(default=0)
    holds_lifted: Mapped[int] = mapped_column(default=0)
    outcomes_resolved: Mapped[int] = mapped_column(default=0)

    @property
    def number(self) -> int:
        return self.id

    def __str__(self) -> str:
        return f"Run {self.id}"


class OutcomeKind(StrEnum):
    FAILURE = "failure"  # fail_charge: blocks submission until a run finds the claim passing
    ERROR = "error"  # the rule raised for this claim: fails closed, blocks like a failure
    HOLD = "hold"  # hold_claim: the claim is Held
    DELAY = "delay"  # delay_claim: blocks until `delay_until`
    WARNING = "warning"  # warn: shown, never blocks

    @property
    def label(self) -> str:
        return {"failure": "Failed", "error": "Rule error", "hold": "Held", "delay": "Delayed",
                "warning": "Warning"}[self.value]


#: Outcomes that keep a claim out of submission while open (delays only until their date).
BLOCKING = frozenset({OutcomeKind.FAILURE, OutcomeKind.ERROR, OutcomeKind.HOLD, OutcomeKind.DELAY})
OPEN_ONLY = text("resolved_at IS NULL")


class RuleOutcome(db.Model):
    """A failed charge (or hold, delay, warning, rule error): one claim, one rule, open until a run passes it."""

    __tablename__ = "failed_charge"
    __table_args__ = (
        # One open row per claim, rule and kind: a later run updates it, so the first failure time survives.
        Index(
            "uq_failed_charge_open", "claim_id", "rule_id", "kind", unique=True,
            sqlite_where=OPEN_ONLY, postgresql_where=OPEN_ONLY,
        ),
        Index("ix_failed_charge_claim_open", "claim_id", "resolved_at"),
        # The Failed Charges list (open ones, oldest failure first) reads its page off this index instead of
        # sorting every open failure joined to its claim: 255 ms with 14,430 open at a million claims.
        Index("ix_failed_charge_open_first", "first_failed_at", "id", sqlite_where=OPEN_ONLY,
              postgresql_where=OPEN_ONLY),
        CheckConstraint("(kind = 'delay') = (delay_until IS NOT NULL)", "delay_has_date"),
        CheckConstraint("last_failed_at >= first_failed_at", "last_after_first"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claim.id"))
    rule_id: Mapped[int] = mapped_column(ForeignKey("rule.id"), index=True)
    kind: Mapped[OutcomeKind] = mapped_column(enum_column(OutcomeKind))
    reason: Mapped[str] = mapped_column(String(500))
    delay_until: Mapped[date | None]
    #: True when the rules engine itself moved the claim to Held; only such holds are lifted by a pass.
    placed_hold: Mapped[bool] = mapped_column(default=False)
    first_failed_at: Mapped[datetime]
    last_failed_at: Mapped[datetime]
    first_run_id: Mapped[int] = mapped_column(ForeignKey("billing_run.id"))
    last_run_id: Mapped[int] = mapped_column(ForeignKey("billing_run.id"), index=True)
    resolved_at: Mapped[datetime | None]
    resolved_run_id: Mapped[int | None] = mapped_column(ForeignKey("billing_run.id"))

    claim: Mapped[Claim] = relationship()
    rule: Mapped[Rule] = relationship()
    last_run: Mapped[BillingRun] = relationship(foreign_keys=[last_run_id])

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


class RulesCheck(db.Model):
    """The last billing run that evaluated a claim, and the claim's version it saw.

    A claim whose version moved since (an edit, a line added by a session finalized later, a release) has not
    been checked as it is now: the New submission page says so, and generating a batch checks it first.
    """

    __tablename__ = "claim_rules_check"

    claim_id: Mapped[int] = mapped_column(ForeignKey("claim.id", ondelete="CASCADE"), primary_key=True)
    claim_version: Mapped[int]
    run_id: Mapped[int] = mapped_column(ForeignKey("billing_run.id"), index=True)
    checked_at: Mapped[datetime]
