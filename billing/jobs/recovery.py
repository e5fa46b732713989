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

Large submission builds (billing.submissions.builds) are run only by the `batch-builds` job, one after the
other in id order, so they follow its lock the same way: lock free, every "running" build is dead; lock held,
all but the newest. A dead build is failed, with history and what it saved, never queued again: each of its
batches committed with its progress, the batch it was building died with its transaction (its claims are
Ready and in no batch), and the biller decides whether to generate again (see `fail_abandoned`).
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
from billing.submissions.builds import fail_abandoned
from billing.submissions.models import BatchBuild, BuildStatus

MAX_EXPORT_ATTEMPTS = 3
#: The job that runs submission builds (billing/jobs/definitions.py); its lock says whether one can be alive.
BUILD_JOB = "batch-builds"
SCHEDULER = Actor.system("scheduler")
logger = logging.getLogger(__name__)


@dataclass
class Recovered:
    runs: list[int] = field(default_factory=list)  # job runs closed as interrupted
    exports: list[int] = field(default_factory=list)  # exports closed as interrupted
    queued: list[int] = field(default_factory=list)  # the new exports that retry them
    builds: list[int] = field(default_factory=list)  # submission builds failed as interrupted

    def summary(self) -> str:
        if not (self.runs or self.exports or self.builds):
            return "No interrupted runs, exports or builds."
        return (f"Closed as interrupted: {len(self.runs)} job run(s), {len(self.exports)} export(s), "
                f"{len(self.builds)} submission build(s); {len(self.queued)} export(s) queued again.")  # fmt: skip


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
    with try_lock(f"job-{BUILD_JOB}") as free, unit_of_work():
        recovered.builds += [_fail_build(build) for build in _dead_builds(lock_free=free)]
    if recovered.runs or recovered.exports or recovered.builds:
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


def _dead_builds(*, lock_free: bool) -> list[BatchBuild]:
    running = select(BatchBuild.id).where(BatchBuild.status == BuildStatus.RUNNING).order_by(BatchBuild.id)
    ids = list(db.session.scalars(running))
    dead = ids if lock_free else ids[:-1]  # the lock's holder builds the newest
    if not dead:
        return []
    # Only the dead rows are locked: the live build's row is locked by its own batch transactions.
    query = select(BatchBuild).where(BatchBuild.id.in_(dead), BatchBuild.status == BuildStatus.RUNNING)
    return list(db.session.scalars(query.order_by(BatchBuild.id).with_for_update()))


def _fail_build(build: BatchBuild) -> int:
    fail_abandoned(build, reason="the process building it stopped before the build finished (closed by the "
                   "scheduler).", actor=SCHEDULER)  # fmt: skip
    return build.id


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
