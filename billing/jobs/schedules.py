"""Job schedules: cron fields validated with day names, previewed, stored, paused and resumed."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from flask import current_app
from sqlalchemy import select

from billing.audit import Actor, AuditAction, record_change
from billing.db import db, utcnow
from billing.errors import Problem, ValidationFailed
from billing.jobs.definitions import JOBS, Cron, JobDefinition, job_definition
from billing.jobs.models import JobSchedule

DEFAULT_TIMEZONE = "America/Chicago"
CRON_FIELDS = ("minute", "hour", "day", "month", "day_of_week")
_DIGIT_WEEKDAY = re.compile(r"(^|[,\-/])\d")


def practice_timezone() -> ZoneInfo:
    """Schedules run on the practice's wall clock (CLAIMDESK_TIMEZONE)."""
    return ZoneInfo(current_app.config.get("CLAIMDESK_TIMEZONE", DEFAULT_TIMEZONE))


def cron_problems(cron: Cron, tz: tzinfo) -> list[Problem]:
    problems = []
    if _DIGIT_WEEKDAY.search(cron.day_of_week.replace("*/", "")):
        # APScheduler counts Monday as 0 while crontab counts Sunday as 0: "1-5" would mean Tue-Sat.
        problems.append(Problem("day_of_week", "Use day names (mon-fri, sat,sun), not numbers."))
    for field in CRON_FIELDS:
        value = getattr(cron, field).strip()
        if not value:
            problems.append(Problem(field, "Required; use * for every."))
            continue
        try:
            CronTrigger(**{field: value}, timezone=tz)
        except ValueError as exc:
            problems.append(Problem(field, f"Not a valid cron value: {exc}."))
    return problems


def cron_trigger(cron: Cron, tz: tzinfo | None = None) -> CronTrigger:
    """The APScheduler trigger for these fields; ValidationFailed names each bad field."""
    tz = tz or practice_timezone()
    problems = cron_problems(cron, tz)
    if problems:
        raise ValidationFailed(problems)
    return CronTrigger(**cron.as_kwargs(), timezone=tz)


def next_run_times(trigger: CronTrigger, after: datetime, count: int = 5) -> list[datetime]:
    """The next `count` fire times after `after`, computed without a scheduler."""
    times: list[datetime] = []
    previous = None
    now = after
    while len(times) < count:
        fire = trigger.get_next_fire_time(previous, now)
        if fire is None:
            break
        times.append(fire)
        previous, now = fire, fire + timedelta(microseconds=1)
    return times


def schedule_row(job_id: str) -> JobSchedule:
    """The stored schedule, created from the code's default the first time it is asked for."""
    row = db.session.scalar(select(JobSchedule).where(JobSchedule.job_id == job_id))
    if row is None:
        row = JobSchedule(job_id=job_id, **job_definition(job_id).default.as_kwargs(), paused=False)
        db.session.add(row)
        db.session.flush()
    return row


def cron_of(row: JobSchedule) -> Cron:
    return Cron(**{field: getattr(row, field) for field in CRON_FIELDS})


def trigger_for_row(row: JobSchedule) -> CronTrigger:
    return cron_trigger(cron_of(row))


def ensure_schedules() -> list[JobSchedule]:
    return [schedule_row(job.id) for job in JOBS if job.every_seconds is None]


def update_schedule(job_id: str, cron: Cron, *, actor: Actor) -> JobSchedule:
    """Store a new schedule after validating every field; the scheduler process applies it on its next sync."""
    definition = _editable(job_id)
    cron_trigger(cron)
    row = schedule_row(definition.id)
    before = str(cron_of(row))
    for field in CRON_FIELDS:
        setattr(row, field, getattr(cron, field).strip())
    row.updated_at, row.updated_by = utcnow(), actor.name
    record_change("job_schedule", row.id, AuditAction.JOB_SCHEDULE_CHANGED, actor=actor, before=before,
                  after=str(cron), data={"job_id": job_id})
    return row


def set_paused(job_id: str, paused: bool, *, actor: Actor) -> JobSchedule:
    row = schedule_row(_editable(job_id).id)
    if row.paused != paused:
        row.paused, row.updated_at, row.updated_by = paused, utcnow(), actor.name
        action = AuditAction.JOB_PAUSED if paused else AuditAction.JOB_RESUMED
        record_change("job_schedule", row.id, action, actor=actor, data={"job_id": job_id})
    return row


def request_run(job_id: str, *, actor: Actor) -> JobSchedule:
    """"Run now" from the admin: web workers never run jobs, so the scheduler process picks this up."""
    row = schedule_row(_editable(job_id).id)
    row.run_requested_at = utcnow()
    record_change("job_schedule", row.id, AuditAction.JOB_RUN_REQUESTED, actor=actor, data={"job_id": job_id})
    return row


def _editable(job_id: str) -> JobDefinition:
    definition = job_definition(job_id)
    if definition.every_seconds is not None:
        raise ValidationFailed([Problem("job", f"{definition.title} runs every {definition.every_seconds} s "
                                               "and has no schedule to edit.")])
    return definition
