"""Schedule arithmetic and editing: day names, the next five runs, DST, validation that changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from billing.core.audit import Actor, AuditAction, StatusChange
from billing.core.db import db
from billing.core.errors import ValidationFailed
from billing.jobs.definitions import JOBS, Cron
from billing.jobs.schedules import (
    cron_of,
    cron_trigger,
    describe_cron,
    dst_warnings,
    next_run_times,
    preview,
    request_run,
    schedule_row,
    set_paused,
    update_schedule,
)

CHICAGO = ZoneInfo("America/Chicago")
ADMIN = Actor.system("test")


def test_weekday_names_run_monday_to_friday():
    trigger = cron_trigger(Cron(minute="0", hour="6", day_of_week="mon-fri"), CHICAGO)
    saturday = datetime(2026, 3, 14, 12, 0, tzinfo=CHICAGO)
    runs = next_run_times(trigger, saturday)
    assert [r.strftime("%a %H:%M") for r in runs] == ["Mon 06:00", "Tue 06:00", "Wed 06:00", "Thu 06:00", "Fri 06:00"]


@pytest.mark.parametrize("weekdays", ["1-5", "0", "mon,3"])
def test_weekday_numbers_are_refused(weekdays):
    """APScheduler's 1-5 is Tuesday to Saturday; crontab's is Monday to Friday. Names leave no doubt."""
    with pytest.raises(ValidationFailed, match="day names"):
        cron_trigger(Cron(minute="0", hour="6", day_of_week=weekdays), CHICAGO)


@pytest.mark.parametrize(("field", "value"), [("hour", "25"), ("minute", "every"), ("day", ""), ("month", "13")])
def test_invalid_fields_are_named(field, value):
    with pytest.raises(ValidationFailed) as caught:
        cron_trigger(Cron(**{"minute": "0", "hour": "4", field: value}), CHICAGO)
    assert [p.field for p in caught.value.problems] == [field]


def test_a_nightly_job_keeps_its_wall_clock_time_across_the_dst_change():
    trigger = cron_trigger(Cron(minute="30", hour="4"), CHICAGO)
    runs = next_run_times(trigger, datetime(2026, 3, 6, 12, 0, tzinfo=CHICAGO), count=2)
    assert [r.strftime("%m-%d %H:%M") for r in runs] == ["03-07 04:30", "03-08 04:30"]  # clocks jump at 02:00 on 03-08
    assert [r.astimezone(UTC).hour for r in runs] == [10, 9]  # CST (-6), then CDT (-5)


def test_schedules_start_from_the_code_defaults():
    for job in JOBS:
        if job.every_seconds is None:
            assert cron_of(schedule_row(job.id)) == job.default


def test_updating_a_schedule_stores_it_and_writes_history():
    row = update_schedule("nightly-rules", Cron(minute="45", hour="22", day_of_week="sun,mon-thu"), actor=ADMIN)
    assert str(cron_of(row)) == "45 22 * * sun,mon-thu"
    change = db.session.scalars(select(StatusChange).where(StatusChange.subject_type == "job_schedule")).one()
    assert change.action is AuditAction.JOB_SCHEDULE_CHANGED
    assert (change.from_status, change.to_status) == ("30 4 * * *", "45 22 * * sun,mon-thu")


def test_an_invalid_schedule_changes_nothing():
    before = str(cron_of(schedule_row("nightly-rules")))
    with pytest.raises(ValidationFailed):
        update_schedule("nightly-rules", Cron(minute="0", hour="4", day_of_week="1-5"), actor=ADMIN)
    db.session.expire_all()
    assert str(cron_of(schedule_row("nightly-rules"))) == before
    assert db.session.scalars(select(StatusChange).where(StatusChange.subject_type == "job_schedule")).all() == []


def test_sending_claims_starts_paused_until_a_biller_resumes_it():
    assert schedule_row("submit-claims").paused
    assert not schedule_row("nightly-rules").paused


def test_pause_resume_and_run_now_are_recorded():
    assert not set_paused("submit-claims", False, actor=ADMIN).paused  # it starts paused: this resumes it
    assert set_paused("submit-claims", True, actor=ADMIN).paused
    assert not set_paused("submit-claims", False, actor=ADMIN).paused
    assert request_run("submit-claims", actor=ADMIN).run_requested_at is not None
    actions = db.session.scalars(select(StatusChange.action).where(StatusChange.subject_type == "job_schedule"))
    assert list(actions) == [AuditAction.JOB_RESUMED, AuditAction.JOB_PAUSED, AuditAction.JOB_RESUMED,
                             AuditAction.JOB_RUN_REQUESTED]


def test_housekeeping_jobs_have_no_editable_schedule():
    with pytest.raises(ValidationFailed, match="no schedule to edit"):
        update_schedule("export-queue", Cron(), actor=ADMIN)


def test_a_time_that_spring_forward_skips_runs_once_that_day():
    trigger = cron_trigger(Cron(minute="30", hour="2"), CHICAGO)
    runs = next_run_times(trigger, datetime(2026, 3, 7, 12, 0, tzinfo=CHICAGO), count=3)
    assert [r.astimezone(UTC).strftime("%m-%d %H:%M") for r in runs] == ["03-08 08:30", "03-09 07:30", "03-10 07:30"]


def test_a_time_that_fall_back_repeats_is_listed_twice_and_the_preview_moves_on():
    """APScheduler fires 01:30 in CDT and again in CST; the preview shows both, then the next day."""
    trigger = cron_trigger(Cron(minute="30", hour="1"), CHICAGO)
    runs = next_run_times(trigger, datetime(2026, 10, 31, 12, 0, tzinfo=CHICAGO), count=3)
    assert [r.astimezone(UTC).strftime("%m-%d %H:%M") for r in runs] == ["11-01 06:30", "11-01 07:30", "11-02 07:30"]
    assert dst_warnings(Cron(minute="30", hour="1"), CHICAGO)
    assert dst_warnings(Cron(minute="30", hour="4"), CHICAGO) == []
    assert dst_warnings(Cron(minute="15", hour="7-19"), CHICAGO) == []


def test_the_preview_lists_five_times_in_the_practice_zone():
    runs = preview(Cron(minute="0", hour="6", day_of_week="sat,sun"), datetime(2026, 3, 18, 12, 0, tzinfo=CHICAGO))
    assert [r.strftime("%a %m-%d %H:%M %Z") for r in runs] == [
        "Sat 03-21 06:00 CDT", "Sun 03-22 06:00 CDT", "Sat 03-28 06:00 CDT", "Sun 03-29 06:00 CDT",
        "Sat 04-04 06:00 CDT"]


@pytest.mark.parametrize(("cron", "words"), [
    (Cron(minute="30", hour="4"), "Every day at 04:30"),
    (Cron(minute="0", hour="6", day_of_week="mon-fri"), "Monday to Friday at 06:00"),
    (Cron(minute="15", hour="7-19", day_of_week="mon-fri"),
     "Monday to Friday at :15 past each hour from 07:00 to 19:00"),
    (Cron(minute="0", hour="6", day_of_week="sat,sun"), "Saturday, Sunday at 06:00"),
    (Cron(minute="0", hour="6", day="1"), "cron: 0 6 1 * *"),
])
def test_schedules_read_in_words(cron, words):
    assert describe_cron(cron) == words
