"""Registering jobs on a scheduler that is started paused (so it never runs them) and restarting it."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler

from billing.core.audit import Actor
from billing.core.unit_of_work import unit_of_work
from billing.jobs.definitions import JOBS, Cron
from billing.jobs.scheduler import JOB_OPTIONS, RUN, SYNC_ID, build_scheduler, sync
from billing.jobs.schedules import request_run, set_paused, update_schedule

ADMIN = Actor.system("test")
CHICAGO = ZoneInfo("America/Chicago")


@pytest.fixture
def paused_scheduler(app, tmp_path):
    """A scheduler as `flask scheduler run` builds it, started paused: jobs are registered, none runs.

    Its job store is a file of its own, so a second call is the same scheduler after a restart.
    """
    started = []
    url = f"sqlite:///{tmp_path / 'jobstore.sqlite'}"

    def start() -> BackgroundScheduler:
        scheduler = build_scheduler(app, scheduler_cls=BackgroundScheduler, jobstore=SQLAlchemyJobStore(url=url))
        # Paused already runs nothing; this also closes the window during shutdown() in which
        # APScheduler's thread may still pick a due job. Tests never execute jobs through a scheduler.
        scheduler._process_jobs = lambda: None
        scheduler.start(paused=True)
        started.append(scheduler)
        sync(scheduler, datetime.now(scheduler.timezone))
        return scheduler

    yield start
    for scheduler in started:
        if scheduler.running:
            scheduler.shutdown(wait=False)


def test_every_job_is_registered_with_its_fixed_id_and_safe_options(paused_scheduler):
    scheduler = paused_scheduler()
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {job.id for job in JOBS}
    for job in jobs.values():
        assert job.func_ref == RUN
        assert job.args == (job.id,)
        assert (job.coalesce, job.max_instances, job.misfire_grace_time) == (True, 1, JOB_OPTIONS["misfire_grace_time"])
    assert str(jobs["submit-claims"].trigger).startswith("cron[")
    assert "day_of_week='mon-fri'" in str(jobs["submit-claims"].trigger)
    assert SYNC_ID not in jobs  # the housekeeping tick is added only when the process really starts


def test_edits_pauses_and_run_requests_reach_the_scheduler_on_sync(paused_scheduler):
    scheduler = paused_scheduler()
    with unit_of_work():
        update_schedule("nightly-rules", Cron(minute="5", hour="23"), actor=ADMIN)
        set_paused("submit-claims", True, actor=ADMIN)
        request_run("collect-responses", actor=ADMIN)
    sync(scheduler, datetime.now(scheduler.timezone))
    assert "hour='23', minute='5'" in str(scheduler.get_job("nightly-rules").trigger)
    assert scheduler.get_job("submit-claims").next_run_time is None
    one_off = scheduler.get_job("collect-responses-now")
    assert one_off is not None
    assert one_off.args == ("collect-responses", "manual")
    with unit_of_work():
        set_paused("submit-claims", False, actor=ADMIN)
    sync(scheduler, datetime.now(scheduler.timezone))
    assert scheduler.get_job("submit-claims").next_run_time is not None
    assert scheduler.get_job("collect-responses-now").next_run_time is not None  # not requested twice


def test_a_run_missed_during_a_restart_runs_once_when_the_scheduler_returns(paused_scheduler):
    first = paused_scheduler()
    # The process went down before 04:30 and came back at 07:30: the store holds the 04:30 run time.
    missed = datetime(2026, 3, 18, 4, 30, tzinfo=CHICAGO)
    back_at = datetime(2026, 3, 18, 7, 30, tzinfo=CHICAGO)
    first.modify_job("nightly-rules", next_run_time=missed)
    first.shutdown(wait=False)

    second = paused_scheduler()
    again = second.get_job("nightly-rules")
    assert again.next_run_time == missed  # restarting kept the missed time instead of skipping ahead
    due = again._get_run_times(back_at)
    assert due == [missed]  # one run, not one per missed day (coalesce)
    assert (back_at - due[-1]).total_seconds() < again.misfire_grace_time
    assert (back_at - due[-1]).total_seconds() > 1  # APScheduler's default grace (1 s) would have skipped it


def test_a_busy_database_delays_a_job_store_write_instead_of_ending_the_scheduler(tmp_path, monkeypatch):
    """APScheduler's loop dies on a job-store error, so the store retries what SQLite refuses while busy."""
    from sqlalchemy.exc import OperationalError

    from billing.jobs import scheduler as scheduler_module

    store = scheduler_module.PatientJobStore(url=f"sqlite:///{tmp_path / 'store.sqlite'}")
    calls = []

    def flaky_update(self, job):
        calls.append(job.id)
        if len(calls) < 3:
            raise OperationalError("UPDATE apscheduler_jobs", {}, Exception("database is locked"))

    monkeypatch.setattr(SQLAlchemyJobStore, "update_job", flaky_update)
    monkeypatch.setattr(scheduler_module.time, "sleep", lambda seconds: None)
    job = type("StoredJob", (), {"id": "nightly-rules"})()
    store.update_job(job)
    assert calls == ["nightly-rules"] * 3


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # the thread dies on purpose
def test_a_dead_scheduler_loop_is_noticed():
    from billing.jobs.scheduler import is_alive

    scheduler = BackgroundScheduler()
    scheduler._process_jobs = lambda: 1 / 0  # what an unhandled job-store error does to APScheduler's loop
    scheduler.start()
    scheduler._thread.join(timeout=5)
    assert not is_alive(scheduler)
    healthy = BackgroundScheduler()
    healthy.start(paused=True)
    assert is_alive(healthy)
    healthy.shutdown(wait=False)
