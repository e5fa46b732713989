"""Run a job once: under its lock, with a JobRun row recording start, end, outcome, summary and error."""

from __future__ import annotations

import logging
import time
from datetime import datetime

from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from billing.core.db import db, is_busy, utcnow
from billing.core.errors import BillingError, withheld_summary
from billing.core.unit_of_work import unit_of_work
from billing.jobs.definitions import job_definition
from billing.jobs.locks import try_lock
from billing.jobs.models import JobRun, JobRunStatus
from billing.jobs.process import host

__all__ = ["host", "last_runs", "recent_runs", "run_job", "scheduled_run", "use_app"]

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


def _failure(exc: Exception) -> str:
    if isinstance(exc, BillingError):
        return exc.message
    if is_busy(exc):  # the statement and its parameters stay out of the summary
        return "The database stayed busy (locked by other work) past the wait; the job runs again at its next time."
    return f"{type(exc).__name__}: the job failed unexpectedly; the error below says where (its message is withheld)."


#: How long the end of a run keeps trying to record itself while the database is busy.
FINISH_PATIENCE_SECONDS = 120


def _finish(run_id: int, status: JobRunStatus, summary: str | None, error: str | None) -> JobRun:
    """Record how the run ended; a busy database is waited for, so the run never stays "running" for that."""
    deadline = time.monotonic() + FINISH_PATIENCE_SECONDS
    while True:
        try:
            with unit_of_work():
                run = db.session.get(JobRun, run_id)
                run.status, run.summary, run.error, run.finished_at = status, (summary or "")[:2000], error, utcnow()
            return run
        except OperationalError as exc:
            if not is_busy(exc) or time.monotonic() >= deadline:
                raise
            logger.warning("Database busy while recording the end of job run %s; retrying", run_id)
            time.sleep(1)


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
    latest = select(JobRun.job_id, db.func.max(JobRun.id).label("id")).group_by(JobRun.job_id).subquery()
    runs = db.session.scalars(select(JobRun).join(latest, latest.c.id == JobRun.id).where(JobRun.job_id.in_(job_ids)))
    return {run.job_id: run for run in runs}


def recent_runs(job_id: str | None = None, limit: int = 30) -> list[JobRun]:
    query = select(JobRun).order_by(JobRun.id.desc()).limit(limit)
    if job_id:
        query = query.where(JobRun.job_id == job_id)
    return list(db.session.scalars(query))
