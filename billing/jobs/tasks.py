"""Job bodies: each takes `now`, calls one service in its own units of work, and returns a one-line summary.

The services live in other packages (rules/, billing/submissions/, exports/) and are named by reference;
a job whose service has not landed fails with a clear "not available" message in its run record.
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app

from billing.errors import BillingError
from billing.jobs import export_runs
from billing.jobs.models import ExportStatus
from billing.jobs.runs import SCHEDULER
from billing.jobs.schedules import practice_timezone
from billing.unit_of_work import unit_of_work

DEFAULT_SCHEDULED_REPORTS = ("claims", "authorization-utilization")


def build_queued_exports(now: datetime) -> str:
    built = export_runs.build_queued(now=now)
    if not built:
        return "Nothing queued."
    failed = [r for r in built if r.error]
    return f"Built {len(built) - len(failed)} export(s); {len(failed)} failed."


def export_scheduled_reports(now: datetime) -> str:
    """Month to date, for each report in CLAIMDESK_SCHEDULED_REPORTS, into instance/exports/."""
    names = current_app.config.get("CLAIMDESK_SCHEDULED_REPORTS", DEFAULT_SCHEDULED_REPORTS)
    local = now.astimezone(practice_timezone())
    filters = {"date_from": local.date().replace(day=1).isoformat(), "date_to": local.date().isoformat()}
    runs = []
    for name in names:
        with unit_of_work():
            run = export_runs.queue_export(name, filters, actor=SCHEDULER)
            run.status, run.started_at = ExportStatus.RUNNING, now
        runs.append(export_runs.build_export(run, now=now))
    problems = [f"{r.report}: {r.error}" for r in runs if r.error]
    if problems:
        raise BillingError("Some scheduled exports failed: " + "; ".join(problems))
    return ", ".join(f"{r.report} ({r.row_count} rows) -> {r.file_name}" for r in runs) or "No reports configured."


def run_rules(now: datetime) -> str:
    raise NotImplementedError


def submit_ready_claims(now: datetime) -> str:
    raise NotImplementedError


def collect_responses(now: datetime) -> str:
    raise NotImplementedError
