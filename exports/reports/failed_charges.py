"""Failed Charges: claims the validation rules stopped, with the same filters as the admin report
(company, practice, location, run number, rule, payer, service dates, open only), oldest failure first.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy.orm import joinedload

from billing.claims.models import Claim
from billing.core.db import db
from billing.core.time import practice_timezone
from exports.columns import Chart, Column, Kind, Sheet
from exports.filters import ReportFilters
from exports.registry import COMMON_FILTERS, Report
from exports.reports.common import BATCH, person
from rules.models import Rule, RuleOutcome
from rules.queries import FailureFilters, failures_query

COLUMNS = (
    Column("Charge record"), Column("Client"), Column("Service date", Kind.DATE), Column("Payer"),
    Column("Location"), Column("Claim status"), Column("Rule"), Column("Outcome"), Column("Failure reason"),
    Column("Oldest failure", Kind.DATE), Column("Last failure", Kind.DATE), Column("Run number", Kind.INTEGER),
    Column("Delayed until", Kind.DATE), Column("Fixed on", Kind.DATE), Column("Billed", Kind.MONEY, total=True),
)
BY_RULE = (Column("Rule"), Column("Failures", Kind.INTEGER, total=True))


def failure_filters(filters: ReportFilters) -> FailureFilters:
    scope = filters.scope
    return FailureFilters(
        run=filters.run, open_only=bool(filters.open_only), company_id=scope.company_id,
        practice_id=scope.practice_id, location_id=scope.location_id, rule_id=filters.rule_id,
        payer_id=filters.payer_id, service_from=filters.date_from, service_to=filters.date_to,
    )


def _local_day(moment: datetime | None) -> Any:
    if moment is None:
        return None
    return moment.astimezone(practice_timezone()).date()  # the office's calendar day, not UTC's


def failure_rows(filters: ReportFilters) -> Iterator[Sequence[Any]]:
    query = failures_query(failure_filters(filters)).options(
        joinedload(RuleOutcome.rule), joinedload(RuleOutcome.claim).joinedload(Claim.client),
        joinedload(RuleOutcome.claim).joinedload(Claim.payer), joinedload(RuleOutcome.claim).joinedload(Claim.location),
    )
    for outcome in db.session.scalars(query.execution_options(yield_per=BATCH)):
        claim = outcome.claim
        yield (claim.number, person(claim.client.last_name, claim.client.first_name), claim.service_date,
               claim.payer.name if claim.payer else "(no payer)", claim.location.name, claim.status.label,
               outcome.rule.name, outcome.kind.label, outcome.reason, _local_day(outcome.first_failed_at),
               _local_day(outcome.last_failed_at), outcome.last_run_id, outcome.delay_until,
               _local_day(outcome.resolved_at), claim.total_charge)


def rule_rows(filters: ReportFilters) -> list[Sequence[Any]]:
    """Failures per rule, counted by the database (failures_query joins the rule)."""
    query = (failures_query(failure_filters(filters)).order_by(None)
             .with_only_columns(Rule.name, func.count()).group_by(Rule.name))
    counts = [(name, found) for name, found in db.session.execute(query)]
    return sorted(counts, key=lambda item: (-item[1], item[0]))


def count(filters: ReportFilters) -> int:
    query = failures_query(failure_filters(filters)).order_by(None).with_only_columns(func.count())
    return db.session.scalar(query) or 0


def sheets(filters: ReportFilters) -> list[Sheet]:
    return [
        Sheet("Failed charges", COLUMNS, failure_rows(filters)),
        Sheet("By rule", BY_RULE, rule_rows(filters), charts=(Chart("Failed charges by rule", 0, (1,)),)),
    ]


REPORT = Report(
    name="failed-charges",
    title="Failed Charges",
    description="Claims the validation rules stopped, with rule, reason, oldest and last failure and run number; "
                "the same filters as the admin report.",
    sheets=sheets,
    count=count,
    filters=COMMON_FILTERS | {"payer_id", "run", "rule_id", "open_only"},
)
