"""Job runs and exports a dead process left "running": closed as interrupted when the scheduler starts and every
RECOVER_SECONDS of its life (billing.jobs.scheduler).

Whether the process behind a "running" row is alive is decided by the locks, not by host and pid, nor by a
heartbeat. A job runs only while its process holds the job's lock (billing.jobs.locks), and the lock goes
the moment that process dies: the kernel drops a `flock` with its last file handle (SQLite), PostgreSQL
drops a session advisory lock with its connection. A pid proves nothing about another host and is reused
on this one; a heartbeat needs a writer thread (more writes for SQLite's one writer) and a guess at how
late means dead. So, per job with "running" rows:

- its lock is free: nobody runs the job, and every "running" row of it is dead;
- its lock is held: that process has at most one row, the newest; older ones are dead (one run at a time).

Exports are built only inside job runs, and record the host:pid building them (billing.jobs.export_runs).
Once the dead runs are closed, an export whose host:pid has no "running" job run left is dead too. It is
closed as interrupted and asked for again as a new queued export, at most MAX_EXPORT_ATTEMPTS in all, so a
report that kills its builder every time (memory) cannot loop for ever.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from billing.core.audit import Actor, AuditAction, record_change
from billing.core.db import db, utcnow
from billing.core.unit_of_work import unit_of_work
from billing.jobs.export_runs import exports_dir
from billing.jobs.locks import try_lock
from billing.jobs.models import ExportRun, ExportStatus, JobRun, JobRunStatus

MAX_EXPORT_ATTEMPTS = 3
SCHEDULER = Actor.system("scheduler")
logger = logging.getLogger(__name__)


@dataclass
class Recovered:
    runs: list[int] = field(default_factory=list)  # job runs closed as interrupted
    exports: list[int] = field(default_factory=list)  # exports closed as interrupted
    queued: list[int] = field(default_factory=list)  # the new exports that retry them

    def summary(self) -> str:
        if not (self.runs or self.exports):
            return "No interrupted runs or exports."
        return (f"Closed as interrupted: {len(self.runs)} job run(s), {len(self.exports)} export(s); "
                f"{len(self.queued)} export(s) queued again.")  # fmt: skip


def recover_interrupted(*, now: datetime | None = None) -> Recovered:
    """Close what dead processes left running; each step commits on its own."""
    now = now or utcnow()
    recovered = Recovered()
    with unit_of_work():
        job_ids = sorted(set(db.session.scalars(select(JobRun.job_id).where(JobRun.status == JobRunStatus.RUNNING))))
    for job_id in job_ids:
        with try_lock(f"job-{job_id}") as free, unit_of_work():
            recovered.runs += [_close_run(run, now) for run in _dead_runs(job_id, lock_free=free)]
    with unit_of_work():
        for export in _dead_exports():
            recovered.exports.append(export.id)
            if (retry := _close_export(export, now)) is not None:
                recovered.queued.append(retry.id)
    if recovered.runs or recovered.exports:
        logger.warning("%s", recovered.summary())
    return recovered


def _dead_runs(job_id: str, *, lock_free: bool) -> list[JobRun]:
    query = select(JobRun).where(JobRun.job_id == job_id, JobRun.status == JobRunStatus.RUNNING)
    running = list(db.session.scalars(query.order_by(JobRun.id).with_for_update()))
    return running if lock_free else running[:-1]  # the lock's holder runs the newest


def _close_run(run: JobRun, now: datetime) -> int:
    reason = (f"Interrupted: the process running it ({run.host}) stopped before the run finished; closed by "
              "the scheduler.")  # fmt: skip
    run.status, run.summary, run.finished_at = JobRunStatus.INTERRUPTED, reason, max(now, run.started_at)
    record_change("job_run", run.id, AuditAction.JOB_RUN_INTERRUPTED, actor=SCHEDULER, before="running",
                  after="interrupted", reason=reason, data={"job": run.job_id, "host": run.host})  # fmt: skip
    return run.id


def _dead_exports() -> list[ExportRun]:
    live = select(JobRun.host).where(JobRun.status == JobRunStatus.RUNNING)
    query = select(ExportRun).where(ExportRun.status == ExportStatus.RUNNING)
    dead = query.where((ExportRun.host.is_(None)) | ExportRun.host.not_in(live))
    return list(db.session.scalars(dead.order_by(ExportRun.id).with_for_update()))


def _close_export(export: ExportRun, now: datetime) -> ExportRun | None:
    """Interrupted; and asked for again as a new export unless this was the last attempt."""
    retry = None
    if export.attempt < MAX_EXPORT_ATTEMPTS:
        retry = ExportRun(report=export.report, filters=export.filters, status=ExportStatus.QUEUED,
                          requested_by=export.requested_by, user_id=export.user_id, rows_expected=export.rows_expected,
                          attempt=export.attempt + 1, retry_of_id=export.id)  # fmt: skip
        db.session.add(retry)
        db.session.flush()
        then = f"queued again as export #{retry.id}"
    else:
        then = f"not queued again after {export.attempt} attempts; ask for the report again with fewer rows"
    reason = f"Interrupted: the process building it ({export.host or 'unknown'}) stopped; {then}."
    export.status, export.error = ExportStatus.INTERRUPTED, reason
    export.finished_at = max(now, export.started_at or now)
    record_change("export_run", export.id, AuditAction.EXPORT_INTERRUPTED, actor=SCHEDULER, before="running",
                  after="interrupted", reason=reason, data={"retry": retry.id if retry else None})  # fmt: skip
    _remove_leftovers(export)
    return retry


def _remove_leftovers(export: ExportRun) -> None:
    # A half-written workbook and its progress marker; the names are ours (report id + run id), never user input.
    folder = exports_dir()
    for leftover in [*folder.glob(f"{export.report}-{export.id:06d}-*.xlsx"), folder / f"export-{export.id}.progress"]:
        leftover.unlink(missing_ok=True)
