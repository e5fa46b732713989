"""Locks between processes: one scheduler process at a time, and one run of each job at a time.

PostgreSQL gets session advisory locks on a connection held for the lock's lifetime (the lock is lost
if that connection drops); SQLite, a single-host database, gets `flock` on a file in instance/locks/.
"""

from __future__ import annotations

import fcntl
import hashlib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import current_app
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from billing.core.db import db

#: Held by the one `flask scheduler run` process; a second one waits for it.
SCHEDULER_LOCK = "claimdesk-scheduler"


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for pg advisory locks (Python's hash() changes per process)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def _lock_file(name: str) -> Path:
    folder = Path(current_app.instance_path) / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{name}.lock"


@contextmanager
def try_lock(name: str) -> Iterator[bool]:
    """Yield True while this process holds lock `name`, False (without waiting) if another process holds it."""
    bind = db.engine
    if bind.dialect.name == "postgresql":
        with _advisory_lock(bind, name) as held:
            yield held
    else:
        with _file_lock(name) as held:
            yield held


@contextmanager
def _advisory_lock(bind: Engine | Connection, name: str) -> Iterator[bool]:
    # The test harness binds the session to one Connection; everywhere else a dedicated connection
    # keeps the lock independent of the session's commits.
    conn = bind.connect() if isinstance(bind, Engine) else bind
    try:
        held = bool(conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": lock_key(name)}))
        try:
            yield held
        finally:
            if held:
                conn.scalar(text("SELECT pg_advisory_unlock(:key)"), {"key": lock_key(name)})
    finally:
        if conn is not bind:
            conn.close()


@contextmanager
def _file_lock(name: str) -> Iterator[bool]:
    with _lock_file(name).open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def wait_for_lock(
    name: str, *, poll_seconds: float = 5.0, announce: Callable[[], None] | None = None
) -> Iterator[None]:
    """Block until lock `name` is ours: a second scheduler process waits here instead of running jobs twice."""
    announced = False
    while True:
        with try_lock(name) as held:
            if held:
                yield
                return
        if announce is not None and not announced:
            announce()
            announced = True
        time.sleep(poll_seconds)
