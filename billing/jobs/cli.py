"""`flask scheduler run|jobs` (the scheduler process and its job list) and `flask jobs list|run NAME`."""

from __future__ import annotations

import json
import signal
import threading
from datetime import datetime
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup

from billing.db import db
from billing.errors import BillingError
from billing.jobs.definitions import JOBS, job_definition
from billing.jobs.locks import wait_for_lock
from billing.jobs.models import JobRunStatus
from billing.jobs.references import is_wired
from billing.jobs.runs import last_runs, run_job
from billing.jobs.scheduler import SCHEDULER_LOCK, build_scheduler, start_scheduler
from billing.jobs.schedules import cron_of, ensure_schedules, next_run_times, practice_timezone, trigger_for_row
from billing.unit_of_work import unit_of_work

scheduler_cli = AppGroup("scheduler", help="The scheduler process and its jobs.")
jobs_cli = AppGroup("jobs", help="List scheduled jobs or run one now.")


def job_documents(now: datetime) -> list[dict[str, Any]]:
    with unit_of_work():
        rows = {row.job_id: row for row in ensure_schedules()}
    latest = last_runs([job.id for job in JOBS])
    documents = []
    for job in JOBS:
        row = rows.get(job.id)
        next_runs = [] if row is None or row.paused else next_run_times(trigger_for_row(row), now, 1)
        last = latest.get(job.id)
        documents.append({
            "id": job.id,
            "title": job.title,
            "schedule": f"every {job.every_seconds} s" if row is None else str(cron_of(row)),
            "paused": bool(row and row.paused),
            "next_run": next_runs[0].isoformat() if next_runs else None,
            "wired": is_wired(job.func),
            "last_run": None if last is None else {
                "started_at": last.started_at.isoformat(), "status": last.status.value, "summary": last.summary,
            },
        })
    return documents


def _print_jobs(as_json: bool) -> None:
    documents = job_documents(datetime.now(practice_timezone()))
    if as_json:
        click.echo(json.dumps(documents, indent=2))
        return
    for doc in documents:
        state = "paused" if doc["paused"] else (doc["next_run"] or "-")
        last = doc["last_run"]["status"] if doc["last_run"] else "never run"
        wired = "" if doc["wired"] else "  [service not available]"
        click.echo(f"{doc['id']:20} {doc['schedule']:24} next: {state:27} last: {last}{wired}")


@scheduler_cli.command("jobs")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def scheduler_jobs(as_json: bool) -> None:
    """List the jobs with their schedules, next run times and last outcome."""
    _print_jobs(as_json)


@jobs_cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def jobs_list(as_json: bool) -> None:
    """List the jobs with their schedules, next run times and last outcome."""
    _print_jobs(as_json)


@jobs_cli.command("run")
@click.argument("job_id")
def jobs_run(job_id: str) -> None:
    """Run one job now in this process (under the job's lock), e.g. `flask jobs run nightly-rules`."""
    try:
        job_definition(job_id)
    except BillingError as exc:
        raise click.ClickException(exc.message) from None
    run = run_job(job_id, trigger="cli")
    click.echo(f"{job_id}: {run.status.value}. {run.summary or ''}".rstrip())
    if run.status is not JobRunStatus.SUCCEEDED:
        raise click.exceptions.Exit(1)


@scheduler_cli.command("run")
@click.option("--exit-after", type=float, default=None, hidden=True, help="Stop after N seconds (tests, demos).")
def scheduler_run(exit_after: float | None) -> None:
    """Run the scheduler in this process until stopped. A second copy waits for the first to stop."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    db.session.remove()
    with wait_for_lock(SCHEDULER_LOCK, announce=lambda: click.echo("Another scheduler is running; waiting.")):
        scheduler = build_scheduler(app)
        start_scheduler(app, scheduler)
        click.echo(f"Scheduler running ({len(JOBS)} jobs). Ctrl-C stops it.")
        try:
            stop.wait(exit_after)
        except KeyboardInterrupt:
            pass
        finally:
            scheduler.shutdown(wait=True)
            click.echo("Scheduler stopped.")
