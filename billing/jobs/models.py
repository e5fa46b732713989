"""Records of scheduled work: job schedules, job runs, report export runs and report downloads."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, Float, ForeignKey, Index, LargeBinary, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column

from billing.core.db import db, enum_column, utcnow


class JobRunStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"  # another process held the job's lock
    INTERRUPTED = "interrupted"  # its process died mid-run; closed when the scheduler next started


class JobSchedule(db.Model):
    """A job's cron schedule as the admin set it; the scheduler process picks up changes on its next sync."""

    id: Mapped[int] = mapped_column(primary_key=True)  # history rows point at integer ids
    job_id: Mapped[str] = mapped_column(String(60), unique=True)
    minute: Mapped[str] = mapped_column(String(60))
    hour: Mapped[str] = mapped_column(String(60))
    day: Mapped[str] = mapped_column(String(60), default="*")
    month: Mapped[str] = mapped_column(String(60), default="*")
    #: Day names only (mon-fri): APScheduler numbers weekdays from Monday = 0, crontab from Sunday = 0.
    day_of_week: Mapped[str] = mapped_column(String(60), default="*")
    paused: Mapped[bool] = mapped_column(default=False)
    #: "Run now" from the admin: the scheduler process runs the job at its next sync, then clears this.
    run_requested_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(254), default="system")


class JobRun(db.Model):
    """One execution of a job: when, how it ended, what it did, and the error if it failed."""

    __table_args__ = (
        Index("ix_job_run_job_started", "job_id", "started_at"),
        CheckConstraint("finished_at IS NULL OR finished_at >= started_at", "finished_after_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[str] = mapped_column(String(60))
    trigger: Mapped[str] = mapped_column(String(20))  # schedule, manual, cli
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    status: Mapped[JobRunStatus] = mapped_column(enum_column(JobRunStatus))
    summary: Mapped[str | None] = mapped_column(String(2000))
    error: Mapped[str | None] = mapped_column(Text)
    host: Mapped[str] = mapped_column(String(120))  # host:pid, to tell two scheduler copies apart
    #: One company's or clearinghouse's share of a job, run, committed and recorded on its own (None: the job).
    unit: Mapped[str | None] = mapped_column(String(120))


class ExportStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"
    INTERRUPTED = "interrupted"  # its process died mid-build; queued again as a new export (see retry_of_id)


class ExportRun(db.Model):
    """A report built in the background (large downloads and scheduled exports) and the file it produced."""

    __table_args__ = (
        Index("ix_export_run_status", "status", "id"),
        CheckConstraint("status != 'finished' OR file_name IS NOT NULL", "finished_has_file"),
        CheckConstraint("attempt >= 1", "attempt_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    report: Mapped[str] = mapped_column(String(60))
    filters: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[ExportStatus] = mapped_column(enum_column(ExportStatus), default=ExportStatus.QUEUED)
    requested_by: Mapped[str] = mapped_column(String(254))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    rows_expected: Mapped[int | None]
    row_count: Mapped[int | None]
    #: Inside instance/exports/; never a path from user input.
    file_name: Mapped[str | None] = mapped_column(String(255))
    error: Mapped[str | None] = mapped_column(String(2000))
    #: host:pid of the process building it (billing.jobs.process.host), set when it starts.
    host: Mapped[str | None] = mapped_column(String(120))
    #: 1 for the request itself; an export queued again after an interruption counts on from the one it retries.
    attempt: Mapped[int] = mapped_column(default=1, server_default="1")
    retry_of_id: Mapped[int | None] = mapped_column(ForeignKey("export_run.id"))


class ReportDownload(db.Model):
    """Who downloaded which report, with which filters, when. Append-only, like history."""

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(254))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    report: Mapped[str] = mapped_column(String(60))
    filters: Mapped[dict[str, Any]] = mapped_column(JSON)
    export_run_id: Mapped[int | None] = mapped_column(ForeignKey("export_run.id"), index=True)
    row_count: Mapped[int | None]


class ResponseImportStatus(StrEnum):
    IMPORTED = "imported"
    DUPLICATE = "duplicate"  # the same payment had already come in another file (or by hand)
    REFUSED = "refused"  # the 835 is broken; a biller looks at it, the job does not retry it


class ResponseImport(db.Model):
    """What the collect-responses job did with one collected 835: each file is imported once, whatever happens."""

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("clearinghouse_response.id"), unique=True)
    status: Mapped[ResponseImportStatus] = mapped_column(enum_column(ResponseImportStatus))
    summary: Mapped[str] = mapped_column(String(2000))
    at: Mapped[datetime] = mapped_column(default=utcnow)


# APScheduler's SQLAlchemyJobStore table, declared here (same shape as apscheduler/jobstores/sqlalchemy.py)
# so the migrations create it and `flask db migrate` never proposes dropping it.
apscheduler_jobs = Table(
    "apscheduler_jobs",
    db.metadata,
    Column("id", String(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)
