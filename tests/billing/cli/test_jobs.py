"""`flask scheduler jobs [--json]` and `flask jobs run JOB_ID` through the CLI runner."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from billing.core.db import db
from billing.jobs.definitions import JOBS
from billing.jobs.models import JobRun, JobRunStatus

pytestmark = pytest.mark.usefixtures("instance_in_tmp")  # exports and locks go to instance/


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=list(args))


def test_scheduler_jobs_lists_every_job_with_schedule_and_next_run(cli):
    result = cli("scheduler", "jobs")
    assert result.exit_code == 0, result.output
    for job in JOBS:
        assert job.id in result.output
    assert "30 4 * * *" in result.output
    assert "never run" in result.output


def test_scheduler_jobs_json_is_machine_readable(cli):
    result = cli("scheduler", "jobs", "--json")
    assert result.exit_code == 0, result.output
    jobs = {job["id"]: job for job in json.loads(result.output)}
    assert set(jobs) == {job.id for job in JOBS}
    rules = jobs["nightly-rules"]
    assert (rules["schedule"], rules["described"], rules["paused"]) == ("30 4 * * *", "Every day at 04:30", False)
    assert rules["next_run"].endswith(("-05:00", "-06:00"))  # practice time (Chicago)
    assert rules["last_run"] is None
    assert jobs["export-queue"]["schedule"] == "every 10 s"


def test_jobs_run_runs_one_job_now_and_records_it(cli, world):
    result = cli("jobs", "run", "nightly-rules")
    assert result.exit_code == 0, result.output
    # The nightly rules run once per company, each recorded on its own; the summary names the company's run.
    assert result.output.startswith("nightly-rules: succeeded. "), result.output
    assert world.company.legal_name in result.output, result.output
    run = db.session.scalars(select(JobRun).where(JobRun.unit.is_(None))).one()
    assert (run.job_id, run.trigger, run.status) == ("nightly-rules", "cli", JobRunStatus.SUCCEEDED)
    last = json.loads(cli("scheduler", "jobs", "--json").output)[0]["last_run"]
    assert (last["status"], last["trigger"]) == ("succeeded", "cli")


def test_an_unknown_job_exits_non_zero_and_records_nothing(cli):
    result = cli("jobs", "run", "no-such-job")
    assert result.exit_code != 0
    assert "There is no job 'no-such-job'" in result.output
    assert db.session.scalars(select(JobRun)).all() == []


def test_the_scheduler_process_watches_its_loop(monkeypatch):
    import threading

    from billing.cli import jobs as jobs_cli

    monkeypatch.setattr(jobs_cli, "WATCH_SECONDS", 0.01)
    alive = {"value": True}
    monkeypatch.setattr(jobs_cli, "is_alive", lambda scheduler: alive["value"])
    stop = threading.Event()
    assert jobs_cli._watch(object(), stop, exit_after=0.05) is False  # a demo run that ends on time
    alive["value"] = False
    assert jobs_cli._watch(object(), stop, exit_after=None) is True  # the loop died: exit so it is restarted
    stop.set()
    assert jobs_cli._watch(object(), stop, exit_after=None) is False  # SIGTERM: a clean stop


def test_jobs_pause_and_resume_from_the_command_line(app):
    import json as _json

    from billing.jobs.schedules import schedule_row

    runner = app.test_cli_runner()
    resumed = runner.invoke(args=["jobs", "resume", "submit-claims", "--json"])
    assert resumed.exit_code == 0, resumed.output
    assert _json.loads(resumed.output) == {"id": "submit-claims", "paused": False}
    assert not schedule_row("submit-claims").paused
    paused = runner.invoke(args=["jobs", "pause", "submit-claims"])
    assert paused.exit_code == 0
    assert schedule_row("submit-claims").paused
    unknown = runner.invoke(args=["jobs", "pause", "no-such-job"])
    assert unknown.exit_code == 1
    assert "There is no job" in unknown.output
