"""The SQLAlchemy base, the shared `db` handle and the engine settings every backend needs."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from itertools import islice
from typing import Any, TypeVar

from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import Connection, DateTime, Enum, MetaData, Numeric, String, Table, event, insert, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, registry
from sqlalchemy.types import TypeDecorator

logger = logging.getLogger(__name__)

# Stable constraint names, so Alembic migrations are identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps; SQLite forgets the zone, so it is put back on read."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    # One registry carries both, since Flask-SQLAlchemy subclasses the base (SQLAlchemy 2.1 refuses
    # a per-base type_annotation_map beside a registry).
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={
            Decimal: Numeric(12, 2),  # money: see billing.core.money
            datetime: UTCDateTime(),
            str: String(255),
        },
    )


#: `Session.info` key: an engine every statement of that session goes to (exports.reading: a reporting replica).
READ_FROM = "claimdesk_read_from"


class Session(FlaskSession):
    """Flask-SQLAlchemy's session, which can be pointed at another engine for its whole life (`info[READ_FROM]`)."""

    def get_bind(self, mapper: Any | None = None, clause: Any | None = None, bind: Any | None = None,
                 **kwargs: Any) -> Any:
        engine = self.info.get(READ_FROM)
        if bind is None and engine is not None:
            return engine
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)


db = SQLAlchemy(
    model_class=Base,
    # join_transaction_mode only matters when the session is bound to a Connection (the test harness): the
    # app's own rollbacks then stop at a savepoint instead of ending the test's outer transaction.
    session_options={"class_": Session, "join_transaction_mode": "create_savepoint"},
)


def enum_column(enum_cls: type[StrEnum], *, open_ended: bool = False) -> Enum:
    """Store a StrEnum by value, as VARCHAR plus a CHECK, identically on SQLite and PostgreSQL.

    `open_ended` drops the CHECK and fixes the width for enums that grow with every feature (history
    actions): the ORM still refuses unknown values, and a new member needs no schema migration.
    """
    return Enum(
        enum_cls,
        values_callable=lambda members: [m.value for m in members],
        native_enum=False,
        create_constraint=not open_ended,
        validate_strings=True,
        length=60 if open_ended else max(len(m.value) for m in enum_cls),
        name=enum_cls.__name__.lower(),
    )


def utcnow() -> datetime:
    return datetime.now(UTC)


#: How long a SQLite connection waits for another's write lock before "database is locked". A job's
#: transaction (a billing run, an 835 import) can hold the lock for seconds; the driver's default is 5 s.
SQLITE_BUSY_TIMEOUT_MS = 15_000


@event.listens_for(Engine, "connect")
def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        # SQLite ignores foreign keys unless asked, per connection.
        dbapi_connection.execute("PRAGMA foreign_keys=ON")
        _wait_when_busy(dbapi_connection)
        _use_wal(dbapi_connection)
        # Let SQLAlchemy emit BEGIN itself: pysqlite's implicit transactions break SAVEPOINT
        # (the documented "serializable isolation / savepoints" recipe).
        dbapi_connection.isolation_level = None


def _wait_when_busy(connection: sqlite3.Connection) -> None:
    """At least SQLITE_BUSY_TIMEOUT_MS; an engine created with a longer `timeout` keeps it."""
    current = connection.execute("PRAGMA busy_timeout").fetchone()[0]
    if current < SQLITE_BUSY_TIMEOUT_MS:
        connection.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")


def _use_wal(connection: sqlite3.Connection) -> None:
    """Write-ahead logging: readers never wait for the writer, and the writer never waits for readers.

    With the default rollback journal a report download (a long read) blocks every write, and a writer
    blocks the download: the web server and the scheduler process then answer "database is locked".
    The mode is stored in the file, so this only changes something on a database's first connection.
    An in-memory database cannot use WAL (it stays in "memory" mode), so it is left alone.
    """
    if _is_in_memory(connection):
        return
    if connection.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal":
        return
    try:
        connection.execute("PRAGMA journal_mode=WAL")
    except sqlite3.OperationalError as exc:  # another connection is mid-transaction; a later connection retries
        logger.warning("SQLite could not switch to WAL mode yet: %s", exc)


def _is_in_memory(connection: sqlite3.Connection) -> bool:
    # database_list names the main database's file; an in-memory (or temporary) database has none.
    return not next((row[2] for row in connection.execute("PRAGMA database_list") if row[1] == "main"), "")


def is_busy(error: BaseException) -> bool:
    """Whether a database error means "someone else holds the lock; the same request will work in a moment".

    SQLite says "database is locked" once its busy timeout has passed; PostgreSQL reports a lock it could
    not get (55P03), a deadlock it broke (40P01) or a serialization failure (40001).
    """
    if not isinstance(error, DBAPIError):
        return False
    if isinstance(error.orig, sqlite3.OperationalError):
        return "locked" in str(error.orig) or "busy" in str(error.orig)
    return getattr(error.orig, "sqlstate", None) in BUSY_SQLSTATES


BUSY_SQLSTATES = frozenset({"55P03", "40P01", "40001"})


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn: Any) -> None:
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(conn.get_execution_options().get("sqlite_begin", "BEGIN"))


def end_read() -> None:
    """End a transaction that has only read, before one that writes (a request that streams, then logs).

    On SQLite (WAL), a transaction that read and then writes after another process committed is refused
    at once with "database is locked" (its snapshot is stale; the busy timeout does not apply). A write
    that begins its own transaction waits for the lock instead. Nothing is pending here, so nothing is lost.
    """
    db.session.commit()


def take_sqlite_write_lock_at_begin(engine: Engine) -> None:
    """Make every transaction of this engine take SQLite's write lock when it begins (BEGIN IMMEDIATE).

    In a process whose threads each read and then write (the scheduler: a job's transaction beside the job
    store's and the schedule sync's writes), a transaction that read first and then wants to write while
    another holds the write lock is a deadlock to SQLite, which answers "database is locked" at once instead
    of waiting. Taking the lock up front turns that into a wait of at most the busy timeout. The web
    process keeps plain BEGIN (its many read-only requests must not queue). No effect on PostgreSQL.
    """
    if engine.dialect.name == "sqlite":
        engine.update_execution_options(sqlite_begin="BEGIN IMMEDIATE")


T = TypeVar("T")


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Lists of at most `size` items: IN lists and bulk statements stay bounded (itertools.batched is 3.12)."""
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def next_ids(connection: Connection, table: Table, count: int) -> list[int]:
    """`count` new ids from a PostgreSQL table's id sequence, in the order drawn.

    The sequence is looked up once: OFFSET 0 keeps the planner from calling the lookup again for each id, which
    took 5.4 of the 6.2 ms of a block of 1,000."""
    return list(connection.execute(
        text("SELECT nextval(s.seq) FROM (SELECT pg_get_serial_sequence(:table, 'id')::regclass AS seq OFFSET 0) "
             "AS s CROSS JOIN generate_series(1, :n)"), {"table": table.name, "n": count}).scalars())


def insert_returning_ids(table: Table, rows: list[dict[str, Any]]) -> list[int]:
    """Bulk INSERT that returns the new ids in the order of `rows`.

    On PostgreSQL the ids are drawn from the table's sequence first and the rows go in with a plain
    pipelined executemany: an INSERT ... RETURNING of 10,000 rows costs ~350 microseconds a row there
    (one huge statement to build and parse per 1,000 rows), the executemany ~75.
    """
    if not rows:
        return []
    session = db.session
    if session.get_bind().dialect.name == "postgresql":
        ids = next_ids(session.connection(), table, len(rows))
        session.execute(insert(table), [row | {"id": new_id} for row, new_id in zip(rows, ids, strict=True)])
        return ids
    return list(session.scalars(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows))
