"""`flask scheduler run|jobs` (the scheduler process and its job list) and `flask jobs list|run NAME`."""

from __future__ import annotations

import json
import signal
import threading
import time
from datetime import datetime
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup

from billing.cli.claims import CLI_ACTOR
from billing.cli.output import json_option, refusals, run_command
from billing.core.db import db
from billing.core.time import practice_timezone
from billing.jobs.definitions import JOBS, job_definition
from billing.jobs.locks import SCHEDULER_LOCK, wait_for_lock
from billing.jobs.models import JobRunStatus
from billing.jobs.overview import job_overviews
from billing.jobs.runs import run_job
from billing.jobs.scheduler import build_scheduler, is_alive, start_scheduler
from billing.jobs.schedules import set_paused

scheduler_cli = AppGroup("scheduler", help="The scheduler process and its jobs.")
jobs_cli = AppGroup("jobs", help="List scheduled jobs, run one now, pause or resume one.")
#: How often the scheduler process checks that APScheduler's loop is still alive.
WATCH_SECONDS = 5.0


def _print_jobs(as_json: bool) -> None:
    overviews = job_overviews(datetime.now(practice_timezone()))
    if as_json:
        click.echo(json.dumps([o.as_json() for o in overviews], indent=2))
        return
    for o in overviews:
        state = "paused" if o.paused else (f"{o.next_run:%Y-%m-%d %H:%M %Z}" if o.next_run else "-")
        last = f"{o.last_run.status.value} {o.last_run.started_at:%Y-%m-%d %H:%M} UTC" if o.last_run else "never run"
        click.echo(f"{o.id:18} {o.cron:22} next: {state:22} last: {last}")


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
    with refusals(False):
        job_definition(job_id)
    run = run_job(job_id, trigger="cli")  # the job's own units of work; a failure is recorded on the run
    click.echo(f"{job_id}: {run.status.value}. {run.summary or ''}".rstrip())
    if run.status is not JobRunStatus.SUCCEEDED:
        raise click.exceptions.Exit(1)


def _set_paused(job_id: str, paused: bool, as_json: bool) -> None:
    run_command(lambda: set_paused(job_id, paused, actor=CLI_ACTOR), as_json=as_json,
                text=f"{job_id}: {'paused' if paused else 'resumed'}; the scheduler applies it on its next sync.",
                data=lambda row: {"id": job_id, "paused": row.paused})


@jobs_cli.command("pause")
@click.argument("job_id")
@json_option
def jobs_pause(job_id: str, as_json: bool) -> None:
    """Stop a job's scheduled runs until it is resumed (it can still be run by hand)."""
    _set_paused(job_id, True, as_json)


@jobs_cli.command("resume")
@click.argument("job_id")
@json_option
def jobs_resume(job_id: str, as_json: bool) -> None:
    """Let a paused job run on its schedule again (e.g. `flask jobs resume submit-claims`)."""
    _set_paused(job_id, False, as_json)


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
            died = _watch(scheduler, stop, exit_after)
        except KeyboardInterrupt:
            died = False
        if died:
            # Exit non-zero so the service manager restarts it; missed runs then run once (misfire grace).
            raise click.ClickException("The scheduler loop stopped on an error (see the log above); exiting.")
        scheduler.shutdown(wait=True)
        click.echo("Scheduler stopped.")


def _watch(scheduler: Any, stop: threading.Event, exit_after: float | None) -> bool:
    """Wait for a stop request or the end of `exit_after`; True if the scheduler's loop died first."""
    deadline = None if exit_after is None else time.monotonic() + exit_after
    while True:
        left = WATCH_SECONDS if deadline is None else min(WATCH_SECONDS, max(0.0, deadline - time.monotonic()))
        if stop.wait(left) or (deadline is not None and time.monotonic() >= deadline):
            return False
        if not is_alive(scheduler):
            return True
