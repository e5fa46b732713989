"""A real `flask scheduler run` in a child process, on a database and instance folder of the test's choosing.

    python -m tests.billing.jobs.scheduler_process migrate INSTANCE URL
    python -m tests.billing.jobs.scheduler_process request-run INSTANCE URL JOB_ID
    python -m tests.billing.jobs.scheduler_process run INSTANCE URL SECONDS
"""

from __future__ import annotations

import sys

import flask_migrate
from flask.cli import ScriptInfo

from app import create_app
from billing.core.audit import Actor
from billing.core.unit_of_work import unit_of_work
from billing.jobs.schedules import request_run


def main(command: str, instance: str, url: str, *rest: str) -> None:
    app = create_app({"SECRET_KEY": "scheduler-test", "SQLALCHEMY_DATABASE_URI": url}, instance_path=instance)
    if command == "run":
        args = ["scheduler", "run", "--exit-after", rest[0]]
        app.cli.main(args, obj=ScriptInfo(create_app=lambda: app), standalone_mode=True)
    with app.app_context():
        if command == "migrate":
            flask_migrate.upgrade()
        elif command == "request-run":
            with unit_of_work():
                request_run(rest[0], actor=Actor.system("test"))


if __name__ == "__main__":
    main(*sys.argv[1:])
