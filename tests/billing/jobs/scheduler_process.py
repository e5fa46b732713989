"""A real `flask scheduler run` in a child process, on a database and instance folder of the test's choosing.

    python -m tests.billing.jobs.scheduler_process migrate INSTANCE URL
    python -m tests.billing.jobs.scheduler_process request-run INSTANCE URL JOB_ID
    python -m tests.billing.jobs.scheduler_process run INSTANCE URL SECONDS
    python -m tests.billing.jobs.scheduler_process die-mid-export INSTANCE URL

`die-mid-export` queues an export, starts the export-queue job, takes the export and then the process is
killed (os._exit) while it builds: the run and the export stay "running", as after a crash or kill -9.
"""

from __future__ import annotations

import os
import sys
from datetime import datetime

import flask_migrate
from flask.cli import ScriptInfo

from app import create_app
from billing.core.audit import Actor
from billing.core.unit_of_work import unit_of_work
from billing.jobs import export_runs, runs
from billing.jobs.definitions import Cron, JobDefinition
from billing.jobs.schedules import request_run


def _die_while_building(now: datetime) -> str:
    export_runs.claim_next_queued()
    os._exit(9)  # no cleanup, no commit: what a killed process leaves


def _die_mid_export() -> None:
    with unit_of_work():
        export_runs.queue_export("claims", {}, actor=Actor.system("test"))
    dying = JobDefinition("export-queue", "Build requested exports", _die_while_building, Cron())
    runs.job_definition = lambda job_id: dying  # type: ignore[assignment]
    runs.run_job("export-queue")


def main(command: str, instance: str, url: str, *rest: str) -> None:
    app = create_app({"SECRET_KEY": "scheduler-test", "SQLALCHEMY_DATABASE_URI": url}, instance_path=instance)
    if command == "run":
        args = ["scheduler", "run", "--exit-after", rest[0]]
        app.cli.main(args, obj=ScriptInfo(create_app=lambda: app), standalone_mode=True)
    with app.app_context():
        if command == "migrate":
            flask_migrate.upgrade()
        elif command == "die-mid-export":
            _die_mid_export()
        elif command == "request-run":
            with unit_of_work():
                request_run(rest[0], actor=Actor.system("test"))


if __name__ == "__main__":
    main(*sys.argv[1:])
