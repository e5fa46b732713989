"""The one scheduler process (`flask scheduler run`): APScheduler 3.11 with its job store in the app database.

APScheduler runs every job once per process that starts a scheduler (measured: two processes, two runs), so web
workers never start one; this process does, under a lock. It reads schedule edits, pauses and "run now"
requests from JobSchedule every few seconds, since APScheduler has no way to hear about them otherwise.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from apscheduler.job import Job
from apscheduler.jobstores.base import BaseJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask
from sqlalchemy import update
from sqlalchemy.exc import OperationalError

from billing.core.db import db, take_sqlite_write_lock_at_begin
from billing.core.time import practice_timezone
from billing.core.unit_of_work import unit_of_work
from billing.jobs import runs
from billing.jobs.definitions import JOBS, Cron, JobDefinition
from billing.jobs.models import JobSchedule
from billing.jobs.recovery import recover_interrupted
from billing.jobs.schedules import cron_of, cron_trigger, ensure_schedules

RUN = "billing.jobs.runs:scheduled_run"
SYNC_ID = "scheduler-sync"
SYNC_SECONDS = 10
#: How often a running scheduler looks for runs a dead process left "running" (a `flask jobs run` killed
#: mid-run, say), besides at its own start: the check is a lock probe per job with a "running" row, so cheap.
RECOVER_SECONDS = 300
#: Stored with each job (APScheduler keeps the adding scheduler's options per job). The default grace of
#: 1 s would silently drop a nightly job missed during a restart; with coalescing it runs once instead.
JOB_OPTIONS: dict[str, Any] = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 6 * 3600}

#: How long a job-store write waits for a job's transaction before giving up (SQLite has one writer).
STORE_PATIENCE_SECONDS = 300

_scheduler: BaseScheduler | None = None
_last_recovery = 0.0  # time.monotonic() of this process's last recovery pass
logger = logging.getLogger(__name__)


class PatientJobStore(SQLAlchemyJobStore):
    """The job store in the app database, retrying writes the database refuses for a while.

    After handing a job to its thread, APScheduler writes the job's next run time from its main loop, and
    an exception there ends that loop for good. On SQLite a job's own transaction can hold the single
    write lock longer than the driver's 5 s busy timeout, so the store keeps trying (and says so in the log)
    instead of letting the scheduler die with a stale next run time.
    """

    def _patiently(self, write: Callable[[], None], what: str) -> None:
        deadline = time.monotonic() + STORE_PATIENCE_SECONDS
        while True:
            try:
                write()
                return
            except OperationalError as exc:
                if time.monotonic() >= deadline:
                    raise
                logger.warning("Job store busy while %s; retrying: %s", what, exc.orig)
                time.sleep(1)

    def add_job(self, job: Job) -> None:
        self._patiently(lambda: SQLAlchemyJobStore.add_job(self, job), f"adding {job.id}")

    def update_job(self, job: Job) -> None:
        self._patiently(lambda: SQLAlchemyJobStore.update_job(self, job), f"updating {job.id}")

    def remove_job(self, job_id: str) -> None:
        self._patiently(lambda: SQLAlchemyJobStore.remove_job(self, job_id), f"removing {job_id}")


def is_alive(scheduler: BaseScheduler) -> bool:
    """Whether the scheduler still runs its loop (a BackgroundScheduler's thread can die on an error)."""
    thread = getattr(scheduler, "_thread", None)
    return scheduler.running and (thread is None or thread.is_alive())


@dataclass(frozen=True)
class StoredSchedule:
    """A JobSchedule row as read at one sync, detached from the session."""

    cron: Cron
    paused: bool
    run_requested_at: datetime | None


def trigger_for(definition: JobDefinition, stored: StoredSchedule | None, tz: tzinfo) -> BaseTrigger:
    if definition.every_seconds is not None:
        return IntervalTrigger(seconds=definition.every_seconds, timezone=tz)
    assert stored is not None
    return cron_trigger(stored.cron, tz)


def same_trigger(a: BaseTrigger, b: BaseTrigger) -> bool:
    return type(a) is type(b) and str(a) == str(b) and getattr(a, "timezone", None) == getattr(b, "timezone", None)


def apply_schedule(scheduler: BaseScheduler, definition: JobDefinition, stored: StoredSchedule | None,
                   tz: tzinfo) -> None:
    """Add or update one job. An unchanged job keeps its stored next run time, so a run missed while the
    scheduler was down still fires (once, coalesced) when it comes back."""
    trigger = trigger_for(definition, stored, tz)
    existing: Job | None = scheduler.get_job(definition.id)
    if existing is None:
        scheduler.add_job(RUN, trigger, args=[definition.id], id=definition.id, name=definition.title,
                          replace_existing=True, **JOB_OPTIONS)
    elif not same_trigger(existing.trigger, trigger):
        scheduler.reschedule_job(definition.id, trigger=trigger)
    paused = bool(stored and stored.paused)
    job = scheduler.get_job(definition.id)
    if paused and job.next_run_time is not None:
        scheduler.pause_job(definition.id)
    elif not paused and job.next_run_time is None:
        scheduler.resume_job(definition.id)


def stored_schedules() -> dict[str, StoredSchedule]:
    with unit_of_work():
        return {row.job_id: StoredSchedule(cron_of(row), row.paused, row.run_requested_at)
                for row in ensure_schedules()}


def sync(scheduler: BaseScheduler, now: datetime) -> None:
    """Apply stored schedules and pauses; start any requested "run now" as a one-off job.

    The rows are read and the transaction closed before the job store writes: on SQLite the store's own
    connection could not write while this session held the database.
    """
    tz = scheduler.timezone
    stored = stored_schedules()
    requested = []
    for definition in JOBS:
        schedule = stored.get(definition.id)
        apply_schedule(scheduler, definition, schedule, tz)
        if schedule is not None and schedule.run_requested_at is not None:
            scheduler.add_job(RUN, "date", run_date=now, args=[definition.id, "manual"], id=f"{definition.id}-now",
                              replace_existing=True, **JOB_OPTIONS)
            requested.append((definition.id, schedule.run_requested_at))
    if requested:
        with unit_of_work():
            for job_id, at in requested:
                # Only the request we saw: one made since then runs at the next sync.
                db.session.execute(update(JobSchedule).where(JobSchedule.job_id == job_id,
                                                             JobSchedule.run_requested_at == at)
                                   .values(run_requested_at=None))


def sync_tick() -> None:
    """The housekeeping job: what APScheduler calls every SYNC_SECONDS."""
    app = runs.current_scheduler_app()
    if _scheduler is None or app is None:
        return
    with app.app_context():
        sync(_scheduler, datetime.now(_scheduler.timezone))
        recover_when_due()
        db.session.remove()


def recover_when_due(*, now: float | None = None, force: bool = False) -> bool:
    """Run `recover_interrupted` when RECOVER_SECONDS have passed since this process last did (or `force`, at
    start); True if it ran."""
    global _last_recovery
    now = time.monotonic() if now is None else now
    if not force and now - _last_recovery < RECOVER_SECONDS:
        return False
    _last_recovery = now
    recovered = recover_interrupted()
    if recovered.runs or recovered.exports:
        logger.warning("%s", recovered.summary())
    return True


def build_scheduler(app: Flask, *, scheduler_cls: type[BaseScheduler] = BackgroundScheduler,
                    jobstore: BaseJobStore | None = None) -> BaseScheduler:
    """A scheduler for this process, not yet started; `start_scheduler` starts it."""
    global _scheduler
    runs.use_app(app)
    with app.app_context():
        tz = practice_timezone()
        store = jobstore or PatientJobStore(engine=db.engine, tablename="apscheduler_jobs")
    scheduler = scheduler_cls(jobstores={"default": store}, job_defaults=JOB_OPTIONS, timezone=tz)
    _scheduler = scheduler
    return scheduler


def start_scheduler(app: Flask, scheduler: BaseScheduler) -> None:
    """Close what a dead process left running, start paused, bring the stored jobs in line with the code and
    the admin's schedules, then run."""
    with app.app_context():
        take_sqlite_write_lock_at_begin(db.engine)
        recover_when_due(force=True)
        db.session.remove()
    scheduler.start(paused=True)
    with app.app_context():
        sync(scheduler, datetime.now(scheduler.timezone))
        scheduler.add_job("billing.jobs.scheduler:sync_tick", "interval", seconds=SYNC_SECONDS, id=SYNC_ID,
                          replace_existing=True, coalesce=True, max_instances=1, misfire_grace_time=None)
        db.session.remove()
    scheduler.resume()
