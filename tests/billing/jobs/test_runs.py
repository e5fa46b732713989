"""Running a job: the run record, failures that do not stop later runs, the per-job lock, job bodies."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pytest
from flask import current_app
from sqlalchemy import create_engine, select, text

from billing.core.db import db
from billing.core.errors import BillingError
from billing.jobs import runs
from billing.jobs.definitions import JOBS, Cron, JobDefinition
from billing.jobs.locks import lock_key
from billing.jobs.models import ExportRun, ExportStatus, JobRun, JobRunStatus
from billing.jobs.runs import last_runs, run_job
from billing.jobs.tasks import build_queued_exports, export_scheduled_reports
from tests.billing.jobs.conftest import NOW

CALLS: list[datetime] = []


def succeeding_body(now: datetime) -> str:
    CALLS.append(now)
    return "did 3 things"


def failing_body(now: datetime) -> str:
    raise BillingError("The clearinghouse refused the login.")


def crashing_body(now: datetime) -> str:
    raise ZeroDivisionError("boom")


@pytest.fixture
def job(monkeypatch):
    """Point the job id 'test-job' at a body chosen by the test."""

    def use(body: str) -> str:
        definition = JobDefinition("test-job", "Test job", globals()[body], Cron())
        monkeypatch.setattr(runs, "job_definition", lambda job_id: definition)
        return definition.id

    CALLS.clear()
    return use


@contextmanager
def lock_held_elsewhere(name: str) -> Iterator[None]:
    """Hold a job's lock as another process would: its own PostgreSQL session, or its own open lock file."""
    if db.engine.dialect.name == "postgresql":
        engine = create_engine(db.engine.engine.url)
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": lock_key(name)})
            yield
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": lock_key(name)})
        engine.dispose()
    else:
        path = Path(current_app.instance_path) / "locks" / f"{name}.lock"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield


def test_a_successful_run_is_recorded_with_its_summary(job):
    run = run_job(job("succeeding_body"), trigger="cli", now=NOW)
    assert CALLS == [NOW]
    assert (run.status, run.summary, run.error, run.trigger) == (JobRunStatus.SUCCEEDED, "did 3 things", None, "cli")
    assert run.finished_at is not None
    assert run.started_at is not None


def test_a_failed_run_keeps_its_error_and_the_next_run_still_happens(job, monkeypatch):
    failed = run_job(job("failing_body"), now=NOW)
    assert failed.status is JobRunStatus.FAILED
    assert failed.summary == "The clearinghouse refused the login."
    assert "BillingError" in failed.error
    crashed = run_job(job("crashing_body"), now=NOW)
    assert crashed.status is JobRunStatus.FAILED
    assert crashed.summary.startswith("ZeroDivisionError: the job failed unexpectedly")
    # The page shows the class and where it failed, never the message (it may hold SQL or patient data).
    assert "boom" not in crashed.summary + crashed.error
    assert "crashing_body" in crashed.error
    later = run_job(job("succeeding_body"), now=NOW)
    assert later.status is JobRunStatus.SUCCEEDED
    assert last_runs(["test-job"])["test-job"].id == later.id


def test_a_job_another_process_is_running_is_skipped(job):
    job_id = job("succeeding_body")
    with lock_held_elsewhere(f"job-{job_id}"):
        skipped = run_job(job_id, now=NOW)
    assert skipped.status is JobRunStatus.SKIPPED
    assert CALLS == []
    assert run_job(job_id, now=NOW).status is JobRunStatus.SUCCEEDED


def test_every_job_calls_a_real_function_wired_in_code():
    # Jobs hold callables, not "module:function" strings: a job that names nothing cannot be defined.
    for definition in JOBS:
        assert callable(definition.func), definition.id
        assert definition.has_work is None or callable(definition.has_work), definition.id
    assert {d.func.__module__ for d in JOBS} == {"billing.jobs.tasks"}


def test_scheduled_exports_write_each_configured_report_into_instance_exports(app, world, monkeypatch):
    claim = world.claim()
    monkeypatch.setitem(app.config, "CLAIMDESK_SCHEDULED_REPORTS", ["claims", "authorization-utilization"])
    summary = export_scheduled_reports(NOW)
    exports = list(db.session.scalars(select(ExportRun).order_by(ExportRun.id)))
    assert [(e.report, e.status, e.requested_by) for e in exports] == [
        ("claims", ExportStatus.FINISHED, "system:scheduler"),
        ("authorization-utilization", ExportStatus.FINISHED, "system:scheduler"),
    ]
    assert exports[0].filters == {"date_from": "2026-03-01", "date_to": "2026-03-18"}  # month to date, Chicago
    assert exports[0].row_count == 1
    assert claim.number
    assert (Path(app.instance_path) / "exports" / exports[0].file_name).is_file()
    assert "claims (1 rows)" in summary


def test_a_failing_scheduled_export_fails_the_run_but_keeps_the_others(app, monkeypatch):
    monkeypatch.setitem(app.config, "CLAIMDESK_SCHEDULED_REPORTS", ["no-such-report", "claims"])
    with pytest.raises(BillingError, match="no-such-report: There is no report named"):
        export_scheduled_reports(NOW)
    statuses = {report: status for report, status in db.session.execute(select(ExportRun.report, ExportRun.status))}
    assert statuses == {"no-such-report": ExportStatus.FAILED, "claims": ExportStatus.FINISHED}


def test_the_export_queue_job_reports_when_nothing_is_queued():
    assert build_queued_exports(NOW) == "Nothing queued."
    assert db.session.scalars(select(JobRun)).all() == []


def test_an_idle_poll_of_the_export_queue_is_not_recorded_but_a_busy_one_is(app, world):
    from billing.core.audit import Actor
    from billing.core.unit_of_work import unit_of_work
    from billing.jobs.export_runs import queue_export

    runs.use_app(app)
    runs.scheduled_run("export-queue")
    assert db.session.scalars(select(JobRun)).all() == []
    world.claim()
    with unit_of_work():
        queue_export("claims", {}, actor=Actor.system("test"))
    runs.scheduled_run("export-queue")
    recorded = db.session.scalars(select(JobRun)).one()
    assert (recorded.job_id, recorded.status, recorded.summary) == ("export-queue", JobRunStatus.SUCCEEDED,
                                                                   "Built 1 export(s); 0 failed.")
