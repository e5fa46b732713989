"""The web server and the scheduler share one SQLite file: WAL and a busy timeout, so neither sees "database is locked".

These tests use a SQLite file of their own (tmp_path) whatever backend the suite runs on: two threads,
each with its own connection as each process would have, write at the same time.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from billing.core.db import SQLITE_BUSY_TIMEOUT_MS, db, is_busy, take_sqlite_write_lock_at_begin
from billing.jobs.models import ExportRun, JobRun, ReportDownload

ROUNDS = 25
NOW = datetime(2026, 3, 18, 20, 0, tzinfo=UTC)


@pytest.fixture
def shared_file(tmp_path: Path) -> Engine:
    engine = create_engine(f"sqlite:///{tmp_path / 'shared.sqlite'}")
    db.metadata.create_all(engine, tables=[JobRun.__table__, ExportRun.__table__, ReportDownload.__table__,
                                           db.metadata.tables["user"]])  # fmt: skip
    yield engine
    engine.dispose()


def _pragma(engine: Engine, name: str) -> object:
    with engine.connect() as conn:
        return conn.exec_driver_sql(f"PRAGMA {name}").scalar()


def test_every_file_connection_uses_wal_and_waits_when_busy(shared_file):
    assert _pragma(shared_file, "journal_mode") == "wal"
    assert _pragma(shared_file, "busy_timeout") == SQLITE_BUSY_TIMEOUT_MS
    assert _pragma(shared_file, "foreign_keys") == 1


def test_a_longer_timeout_asked_for_by_an_engine_is_kept(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'patient.sqlite'}", connect_args={"timeout": 60})
    assert _pragma(engine, "busy_timeout") == 60_000
    engine.dispose()


def test_an_in_memory_database_still_connects_without_wal():
    engine = create_engine("sqlite://")
    assert _pragma(engine, "journal_mode") == "memory"
    assert _pragma(engine, "foreign_keys") == 1
    engine.dispose()


def _in_thread(work: Callable[[], None], errors: list[BaseException]) -> threading.Thread:
    def run() -> None:
        try:
            work()
        except BaseException as exc:  # the test reports whatever stopped a side
            errors.append(exc)

    return threading.Thread(target=run)


def test_a_report_download_and_a_job_run_write_the_same_file_at_once_without_a_locked_error(tmp_path, shared_file):
    url = shared_file.url
    scheduler = create_engine(url)  # the scheduler process: BEGIN IMMEDIATE, as `flask scheduler run` sets it
    take_sqlite_write_lock_at_begin(scheduler)
    web = create_engine(url)  # the web process: plain BEGIN
    errors: list[BaseException] = []

    def job_runs() -> None:
        for n in range(ROUNDS):
            with scheduler.begin() as conn:
                run_id = conn.execute(insert(JobRun).values(
                    job_id="collect-responses", trigger="schedule", status="running", host="sched:1", started_at=NOW,
                ).returning(JobRun.id)).scalar_one()  # fmt: skip
                time.sleep(0.03)  # the job's work, holding the write lock
                conn.execute(update(JobRun).where(JobRun.id == run_id).values(status="succeeded", finished_at=NOW,
                                                                              summary=f"round {n}"))  # fmt: skip

    def report_downloads() -> None:
        for n in range(ROUNDS):
            with web.connect() as conn:
                for _row in conn.execute(select(JobRun.id, JobRun.status)):  # the download streams while the job writes
                    time.sleep(0.001)
                conn.commit()  # end_read(): the log's write then waits for the lock instead of meeting a stale snapshot
                conn.execute(insert(ReportDownload).values(actor="ann", report="claims", filters={"n": n}, at=NOW))
                conn.commit()

    threads = [_in_thread(job_runs, errors), _in_thread(report_downloads, errors)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    with web.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(JobRun).where(JobRun.status == "succeeded")) == ROUNDS
        assert conn.scalar(select(func.count()).select_from(ReportDownload)) == ROUNDS
    scheduler.dispose()
    web.dispose()


def test_a_locked_database_is_recognised_as_busy_and_other_errors_are_not():
    locked = OperationalError("INSERT ...", {}, sqlite3.OperationalError("database is locked"))
    broken = OperationalError("INSERT ...", {}, sqlite3.OperationalError("no such table: claim"))
    assert is_busy(locked)
    assert not is_busy(broken)
    assert not is_busy(ValueError("database is locked"))


def test_a_busy_database_answers_a_page_with_try_again_not_a_500(client, login, monkeypatch):
    login("biller")

    def locked(*args, **kwargs):
        raise OperationalError("SELECT secret_column FROM claim WHERE id = ?", (42,),
                               sqlite3.OperationalError("database is locked"))  # fmt: skip

    monkeypatch.setattr("admin_views.submissions.batches_page", locked)
    response = client.get("/admin/submissions/")
    body = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "busy" in body
    assert "try again" in body
    assert "secret_column" not in body
    assert response.headers["Retry-After"] == "5"
