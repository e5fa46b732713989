"""Job schedules: cron fields validated with day names, previewed, stored, paused and resumed."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import select

from billing.core.audit import Actor, AuditAction, StatusChange, record_change
from billing.core.db import db, utcnow
from billing.core.errors import Problem, ValidationFailed
from billing.core.time import practice_timezone
from billing.jobs.definitions import JOBS, Cron, JobDefinition, job_definition
from billing.jobs.models import JobSchedule

CRON_FIELDS = ("minute", "hour", "day", "month", "day_of_week")
_DIGIT_WEEKDAY = re.compile(r"(^|[,\-/])\d")


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
    now = after
    while len(times) < count:
        fire = trigger.get_next_fire_time(None, now)
        if fire is None:
            break
        times.append(fire)
        # Step on in UTC: wall-clock arithmetic drops `fold`, so the second 01:30 of a fall-back night
        # plus a microsecond would land back before it and be found again.
        now = (fire.astimezone(UTC) + timedelta(microseconds=1)).astimezone(fire.tzinfo)
    return times


def dst_warnings(cron: Cron, tz: tzinfo) -> list[str]:
    """Daily times that daylight saving skips (spring) or repeats (fall) in the practice's zone."""
    hours = cron.hour.strip()
    if not hours.isdigit() or int(hours) not in (1, 2):
        return []
    return [f"{int(hours):02d}:{int(cron.minute) if cron.minute.isdigit() else 0:02d} falls in the hour that "
            f"daylight saving time skips in spring or repeats in fall ({tz}): the job may run an hour late once "
            "a year and twice on the night clocks go back. Prefer a time after 03:00."]


def preview(cron: Cron, after: datetime, count: int = 5) -> list[datetime]:
    """The next `count` run times of a schedule not yet saved; ValidationFailed names each bad field."""
    return next_run_times(cron_trigger(cron, after.tzinfo), after, count)


_DAY_NAMES = {"mon": "Monday", "tue": "Tuesday", "wed": "Wednesday", "thu": "Thursday", "fri": "Friday",
              "sat": "Saturday", "sun": "Sunday"}


def describe_cron(cron: Cron) -> str:
    """A schedule in words for the common shapes ("04:30 Monday to Friday"); the cron fields otherwise."""
    days = cron.day_of_week.strip().lower()
    if cron.day != "*" or cron.month != "*" or not (cron.minute.isdigit() and cron.hour.replace("-", "").isdigit()):
        return f"cron: {cron}"
    if "-" in cron.hour:
        first, last = cron.hour.split("-", 1)
        when = f"at :{int(cron.minute):02d} past each hour from {int(first):02d}:00 to {int(last):02d}:00"
    else:
        when = f"at {int(cron.hour):02d}:{int(cron.minute):02d}"
    if days == "*":
        return f"Every day {when}"
    if "-" in days and "," not in days:
        first, last = days.split("-", 1)
        return f"{_DAY_NAMES.get(first, first)} to {_DAY_NAMES.get(last, last)} {when}"
    names = [_DAY_NAMES.get(d, d) for d in days.split(",")]
    return f"{', '.join(names)} {when}"


def schedule_row(job_id: str) -> JobSchedule:
    """The stored schedule, created from the code's default the first time it is asked for."""
    row = db.session.scalar(select(JobSchedule).where(JobSchedule.job_id == job_id))
    if row is None:
        definition = job_definition(job_id)
        row = JobSchedule(job_id=job_id, **definition.default.as_kwargs(), paused=definition.paused_at_first)
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


def schedule_history(job_id: str) -> list[StatusChange]:
    """Who paused, resumed, rescheduled or ran the job by hand, and when, newest first (the job page shows it)."""
    row = db.session.scalar(select(JobSchedule).where(JobSchedule.job_id == job_id))
    if row is None:
        return []
    return list(db.session.scalars(
        select(StatusChange).where(StatusChange.subject_type == "job_schedule", StatusChange.subject_id == row.id)
        .order_by(StatusChange.id.desc())
    ))


def _editable(job_id: str) -> JobDefinition:
    definition = job_definition(job_id)
    if definition.every_seconds is not None:
        raise ValidationFailed([Problem("job", f"{definition.title} runs every {definition.every_seconds} s "
                                               "and has no schedule to edit.")])
    return definition
