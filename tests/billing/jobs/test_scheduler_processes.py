"""Two `flask scheduler run` processes started together: one runs the jobs, the other waits on the lock.

The processes share a database of their own (a fresh SQLite file, or a fresh schema of the PostgreSQL
test database), so what they commit never meets the rolled-back tests.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from billing.core.db import db
from tests.paths import REPO_ROOT as ROOT


def child(*args: str) -> list[str]:
    return [sys.executable, "-m", "tests.billing.jobs.scheduler_process", *args]


@pytest.fixture
def shared_database(app, tmp_path) -> Iterator[str]:
    if db.engine.dialect.name != "postgresql":
        yield f"sqlite:///{tmp_path / 'scheduler.sqlite'}"
        return
    schema = f"scheduler_test_{os.getpid()}"
    admin = create_engine(db.engine.engine.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    url = make_url(db.engine.engine.url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.mark.slow
def test_two_schedulers_started_together_run_a_requested_job_once(shared_database, tmp_path):
    instance = str(tmp_path / "instance")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env = {k: v for k, v in env.items() if not k.startswith("FLASK_")}  # the test chooses the database
    # S603: the command lines are this test's own, built from sys.executable and fixed arguments.
    subprocess.run(child("migrate", instance, shared_database), cwd=ROOT, env=env, check=True,  # noqa: S603
                   timeout=120)
    subprocess.run(child("request-run", instance, shared_database, "nightly-rules"), cwd=ROOT,  # noqa: S603
                   env=env, check=True, timeout=60)
    processes = [subprocess.Popen(child("run", instance, shared_database, "3"), cwd=ROOT,  # noqa: S603
                                  env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                 for _ in range(2)]
    outputs = [p.communicate(timeout=120)[0] for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    assert sum("Another scheduler is running; waiting." in out for out in outputs) == 1, outputs
    assert all("Scheduler stopped." in out for out in outputs), outputs
    engine = create_engine(shared_database)
    with engine.connect() as conn:
        runs = conn.execute(text("SELECT job_id, status, trigger FROM job_run")).all()
        requested = conn.execute(text("SELECT run_requested_at FROM job_schedule WHERE job_id = 'nightly-rules'"))
        still_requested = requested.scalar()
    engine.dispose()
    assert [tuple(run) for run in runs] == [("nightly-rules", "succeeded", "manual")]
    assert still_requested is None


@pytest.mark.slow
def test_a_scheduler_starting_after_a_killed_run_closes_it_and_queues_its_export_again(shared_database, tmp_path):
    instance = str(tmp_path / "instance")
    env = {k: v for k, v in {**os.environ, "PYTHONPATH": str(ROOT)}.items() if not k.startswith("FLASK_")}
    subprocess.run(child("migrate", instance, shared_database), cwd=ROOT, env=env, check=True,  # noqa: S603
                   timeout=120)
    killed = subprocess.run(child("die-mid-export", instance, shared_database), cwd=ROOT, env=env,  # noqa: S603
                            timeout=60, check=False)
    assert killed.returncode == 9
    engine = create_engine(shared_database)
    with engine.connect() as conn:
        left = conn.execute(text("SELECT status FROM job_run UNION ALL SELECT status FROM export_run")).scalars().all()
    assert left == ["running", "running"]  # what the dead process left behind

    subprocess.run(child("run", instance, shared_database, "1"), cwd=ROOT, env=env, check=True,  # noqa: S603
                   timeout=120, capture_output=True)
    with engine.connect() as conn:
        run = conn.execute(text("SELECT status, summary FROM job_run ORDER BY id")).first()
        exports = conn.execute(text("SELECT id, status, attempt, retry_of_id FROM export_run ORDER BY id")).all()
    engine.dispose()
    assert run.status == "interrupted"
    assert "stopped before the run finished" in run.summary
    first, retry = exports
    assert first.status == "interrupted"
    assert (retry.status, retry.attempt, retry.retry_of_id) == ("queued", 2, first.id)
