"""What the Jobs page and `flask scheduler jobs` show: each job with its schedule, next and last run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from billing.core.unit_of_work import unit_of_work
from billing.jobs.definitions import JOBS, JobDefinition
from billing.jobs.locks import SCHEDULER_LOCK, try_lock
from billing.jobs.models import JobRun, JobSchedule
from billing.jobs.runs import last_runs
from billing.jobs.schedules import cron_of, describe_cron, ensure_schedules, next_run_times, trigger_for_row


@dataclass(frozen=True)
class JobOverview:
    definition: JobDefinition
    schedule: JobSchedule | None  # None for housekeeping jobs that run every few seconds
    next_run: datetime | None
    last_run: JobRun | None

    @property
    def id(self) -> str:
        return self.definition.id

    @property
    def paused(self) -> bool:
        return bool(self.schedule and self.schedule.paused)

    @property
    def cron(self) -> str:
        return str(cron_of(self.schedule)) if self.schedule else f"every {self.definition.every_seconds} s"

    @property
    def described(self) -> str:
        return describe_cron(cron_of(self.schedule)) if self.schedule else f"Every {self.definition.every_seconds} s"

    def as_json(self) -> dict[str, Any]:
        last = self.last_run
        return {
            "id": self.id, "title": self.definition.title, "schedule": self.cron, "described": self.described,
            "paused": self.paused, "next_run": self.next_run.isoformat() if self.next_run else None,
            "run_requested_at": _iso(self.schedule.run_requested_at) if self.schedule else None,
            "last_run": None if last is None else {
                "started_at": _iso(last.started_at), "finished_at": _iso(last.finished_at),
                "status": last.status.value, "summary": last.summary, "error": last.error, "trigger": last.trigger,
            },
        }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def job_overviews(now: datetime) -> list[JobOverview]:
    """Every job in code order; stored schedules are created from the code's defaults on first sight."""
    with unit_of_work():
        rows = {row.job_id: row for row in ensure_schedules()}
    latest = last_runs([job.id for job in JOBS])
    overviews = []
    for job in JOBS:
        row = rows.get(job.id)
        upcoming = [] if row is None or row.paused else next_run_times(trigger_for_row(row), now, 1)
        overviews.append(JobOverview(job, row, upcoming[0] if upcoming else None, latest.get(job.id)))
    return overviews


def scheduler_is_running() -> bool:
    """Whether a `flask scheduler run` process holds the scheduler lock right now (checked without waiting)."""
    with try_lock(SCHEDULER_LOCK) as free:
        return not free
