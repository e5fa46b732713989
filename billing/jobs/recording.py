"""Recording a run's end, and running one unit of a job (a company's or a clearinghouse's share) on its own row.

Kept apart from `billing.jobs.runs` so the job bodies (billing.jobs.tasks), which that module's definitions
import, can record their units without an import cycle.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from sqlalchemy.exc import OperationalError

from billing.core.db import db, is_busy, utcnow
from billing.core.errors import BillingError, withheld_summary
from billing.core.unit_of_work import unit_of_work
from billing.jobs.models import JobRun, JobRunStatus
from billing.jobs.process import host

logger = logging.getLogger("billing.jobs.runs")


def run_unit(job_id: str, unit: str, work: Callable[[], str]) -> JobRun:
    """One company's or clearinghouse's share of a job, run, committed and recorded on its own row.

    `work` commits its own units of work and returns a one-line summary; raising marks this row failed and is
    never passed on, so the job's next unit runs whatever happened here.
    """
    with unit_of_work():
        run = JobRun(job_id=job_id, unit=unit[:120], trigger="unit", status=JobRunStatus.RUNNING, host=host())
        db.session.add(run)
    run_id = run.id
    try:
        summary, error, status = work(), None, JobRunStatus.SUCCEEDED
    except Exception as exc:  # one unit's failure must not stop the others
        db.session.rollback()
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
