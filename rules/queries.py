"""Reads for the Failed Charges report and `flask rules failures`: shaped rows, never writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload

from billing.claims.models import Claim
from billing.core.db import db
from billing.core.id_lists import any_of
from billing.org.models import Location, Practice
from rules.models import BLOCKING, BillingRun, Rule, RuleOutcome


@dataclass(frozen=True)
class FailureFilters:
    run: int | None = None
    open_only: bool = False
    company_id: int | None = None
    practice_id: int | None = None
    location_id: int | None = None
    rule_id: int | None = None
    payer_id: int | None = None
    service_from: date | None = None
    service_to: date | None = None
    blocking_only: bool = True


def failures_query(filters: FailureFilters) -> Select[Any]:
    """Failed charges (and holds, delays, rule errors), oldest failure first, filtered by columns only."""
    query = select(RuleOutcome).join(Claim, Claim.id == RuleOutcome.claim_id).join(Rule, Rule.id == RuleOutcome.rule_id)
    if filters.blocking_only:
        query = query.where(RuleOutcome.kind.in_([k.value for k in BLOCKING]))
    if filters.open_only:
        query = query.where(RuleOutcome.resolved_at.is_(None))
    if filters.run is not None:
        query = query.where(RuleOutcome.last_run_id == filters.run)
    if filters.rule_id is not None:
        query = query.where(RuleOutcome.rule_id == filters.rule_id)
    if filters.payer_id is not None:
        query = query.where(Claim.payer_id == filters.payer_id)
    if filters.location_id is not None:
        query = query.where(Claim.location_id == filters.location_id)
    elif filters.practice_id is not None:
        locations = select(Location.id).where(Location.practice_id == filters.practice_id)
        query = query.where(any_of(Claim.location_id, locations))
    elif filters.company_id is not None:
        practices = select(Practice.id).where(Practice.company_id == filters.company_id)
        query = query.where(Claim.location_id.in_(select(Location.id).where(Location.practice_id.in_(practices))))
    if filters.service_from is not None:
        query = query.where(Claim.service_date >= filters.service_from)
    if filters.service_to is not None:
        query = query.where(Claim.service_date <= filters.service_to)
    return query.order_by(RuleOutcome.first_failed_at, RuleOutcome.id)


def failure_row(outcome: RuleOutcome) -> dict[str, Any]:
    return {
        "claim": outcome.claim.number,
        "rule": outcome.rule.name,
        "kind": outcome.kind.value,
        "reason": outcome.reason,
        "first_failure": outcome.first_failed_at.isoformat(),
        "last_failure": outcome.last_failed_at.isoformat(),
        "last_run": outcome.last_run_id,
        "delay_until": outcome.delay_until.isoformat() if outcome.delay_until else None,
        "resolved": outcome.resolved_at.isoformat() if outcome.resolved_at else None,
    }


def failure_rows(filters: FailureFilters, limit: int | None = None) -> list[dict[str, Any]]:
    query = failures_query(filters).options(joinedload(RuleOutcome.claim), joinedload(RuleOutcome.rule))
    if limit:
        query = query.limit(limit)
    return [failure_row(o) for o in db.session.scalars(query)]


def run_record(run: BillingRun) -> dict[str, Any]:
    """A billing run as plain data (CLI and JSON)."""
    return {
        "run": run.id, "started": run.started_at.isoformat(),
        "finished": run.finished_at.isoformat() if run.finished_at else None, "actor": run.actor,
        "scope": run.scope, "claims_checked": run.claims_checked, "claims_failing": run.claims_failing,
        "rule_errors": run.rule_errors, "holds_placed": run.holds_placed, "holds_lifted": run.holds_lifted,
        "failures_resolved": run.outcomes_resolved,
    }
