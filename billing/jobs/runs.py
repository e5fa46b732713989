"""Run a job once: under its lock, with a JobRun row recording start, end, outcome, summary and error."""

from __future__ import annotations

import logging
from datetime import datetime

from flask import Flask
from sqlalchemy import select

from billing.core.db import db, utcnow
from billing.core.errors import withheld_summary
from billing.core.unit_of_work import unit_of_work
from billing.jobs.definitions import job_definition
from billing.jobs.locks import try_lock
from billing.jobs.models import JobRun, JobRunStatus
from billing.jobs.process import host
from billing.jobs.recording import _failure, _finish, run_unit

__all__ = ["host", "last_runs", "recent_runs", "run_job", "run_unit", "scheduled_run", "use_app"]

logger = logging.getLogger(__name__)

#: Set by the scheduler process: APScheduler calls module-level functions, which need an app context.
_app: Flask | None = None


def use_app(app: Flask) -> None:
    global _app
    _app = app


def current_scheduler_app() -> Flask | None:
    return _app


def run_job(job_id: str, *, trigger: str = "schedule", now: datetime | None = None) -> JobRun:
    """Run job `job_id` now unless another process is running it; a failure is recorded, never raised."""
    definition = job_definition(job_id)
    with try_lock(f"job-{job_id}") as held:
        if not held:
            return _finished_run(job_id, trigger, JobRunStatus.SKIPPED, "Another process is running this job.")
        with unit_of_work():
            run = JobRun(job_id=job_id, trigger=trigger, status=JobRunStatus.RUNNING, host=host())
            db.session.add(run)
        run_id = run.id
        try:
            summary, error, status = definition.func(now or utcnow()), None, JobRunStatus.SUCCEEDED
        except Exception as exc:  # a failed run is recorded and must not stop later runs
            db.session.rollback()
            # Shown on the Jobs page: the class and the code path, never the message (SQL, patient data).
            status, error, summary = JobRunStatus.FAILED, withheld_summary(exc, frames=20), _failure(exc)
        return _finish(run_id, status, summary, error)


def _finished_run(job_id: str, trigger: str, status: JobRunStatus, summary: str) -> JobRun:
    with unit_of_work():
        now = utcnow()
        run = JobRun(job_id=job_id, trigger=trigger, status=status, summary=summary, host=host(),
                     started_at=now, finished_at=now)
        db.session.add(run)
    return run


def scheduled_run(job_id: str, trigger: str = "schedule") -> None:
    """What APScheduler stores and calls (by reference, with the job id, and "manual" for a run-now request)."""
    if _app is None:
        raise RuntimeError("billing.jobs.runs.use_app(app) was not called in this scheduler process")
    with _app.app_context():
        definition = job_definition(job_id)
        idle = trigger == "schedule" and definition.has_work is not None and not definition.has_work()
        db.session.rollback()  # end the read before the job's own transactions (SQLite has one writer)
        if not idle:
            run_job(job_id, trigger=trigger)
        db.session.remove()


def last_runs(job_ids: list[str]) -> dict[str, JobRun]:
    latest = (select(JobRun.job_id, db.func.max(JobRun.id).label("id")).where(JobRun.unit.is_(None))
              .group_by(JobRun.job_id).subquery())  # a job's own run, not its units (recorded after it started)
    runs = db.session.scalars(select(JobRun).join(latest, latest.c.id == JobRun.id).where(JobRun.job_id.in_(job_ids)))
    return {run.job_id: run for run in runs}


def recent_runs(job_id: str | None = None, limit: int = 30) -> list[JobRun]:
    query = select(JobRun).order_by(JobRun.id.desc()).limit(limit)
    if job_id:
        query = query.where(JobRun.job_id == job_id)
    return list(db.session.scalars(query))
