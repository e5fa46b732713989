"""Reports read in a session of their own, in a READ ONLY transaction, from a read replica when one is set.

A report is the longest read the application makes. It runs in a fresh application context (so a session and a
connection of its own, never the request's or the job's), and the database itself refuses any write: PostgreSQL by
`SET TRANSACTION READ ONLY`, SQLite by `PRAGMA query_only`. With `CLAIMDESK_REPORTS_DATABASE_URI` set (a
PostgreSQL streaming replica, docs/deployment.md) every statement of that session goes to the replica instead, so
a year-long export never competes with posting for the primary's CPU and buffers.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import current_app
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine

from billing.core.db import READ_FROM, db

REPORTS_URI = "CLAIMDESK_REPORTS_DATABASE_URI"
_ENGINES = "claimdesk_reports_engines"


def reports_engine() -> Engine | None:
    """The replica's engine, made once per application and URI; None when reports read the primary."""
    uri = current_app.config.get(REPORTS_URI)
    if not uri:
        return None
    engines: dict[str, Engine] = current_app.extensions.setdefault(_ENGINES, {})
    if uri not in engines:
        # pre-ping: a replica restarted for maintenance must not fail the next report with a dead connection.
        engines[uri] = create_engine(uri, pool_pre_ping=True)
    return engines[uri]


@contextmanager
def reading() -> Iterator[None]:
    """Inside: `db.session` is a new session whose transaction cannot write (and reads the replica, if set)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    # Whatever the caller's session holds unsent goes to the database first: a report reads what is there, and
    # under the test harness (one shared connection) what was flushed is what a fresh session sees.
    db.session.flush()
    with app.app_context():
        session = db.session()
        engine = reports_engine()
        if engine is not None:
            session.info[READ_FROM] = engine
        undo = _read_only(session.connection())
        try:
            yield
        finally:
            undo()
            db.session.rollback()


def _read_only(connection: Connection) -> Any:
    """Make the connection's transaction read-only; returns what puts it back (SQLite's switch is the connection's)."""
    if connection.dialect.name == "postgresql":
        # The transaction's first statement (a savepoint's, under the test harness, where a rollback to it undoes it).
        connection.execute(text("SET TRANSACTION READ ONLY"))
        # A report reads every row of its cursors: plan them for the whole read, not for the first tenth (the
        # default, which made Revenue's By month sums walk the ledger by date with a claim lookup per entry, 4x
        # slower). LOCAL: the transaction's alone, like READ ONLY.
        connection.execute(text("SET LOCAL cursor_tuple_fraction = 1"))
        return lambda: None
    raw = connection.connection.dbapi_connection
    if isinstance(raw, sqlite3.Connection):
        raw.execute("PRAGMA query_only = ON")
        # Off again on this very connection before it goes back to the pool, whatever state the transaction is in.
        return lambda: raw.execute("PRAGMA query_only = OFF")
    return lambda: None
