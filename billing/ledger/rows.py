"""Writing postings as rows: a few multi-row INSERTs instead of tens of thousands of ORM objects.

An 835 of 10,000 claims makes about 150,000 rows (adjudications, their lines and CAS reasons, ledger
entries, history). As ORM objects each costs a unit-of-work pass, and because SQLite cannot return ids
of a multi-row INSERT in order, the ORM inserts them one by one. So rows are buffered and written with
one executemany per table (SQLite) or one COPY per table (PostgreSQL). Adjudications and their lines, which
other rows point at, get their ids reserved up front: PostgreSQL hands out a block of its sequence; on SQLite
the transaction already holds the database's write lock (the remittance was inserted first), so nobody else can
take the ids after the current maximum before the buffer is flushed. Only inserts: the ledger stays append-only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Table, func, insert, select

from billing.core.audit import Actor, AuditAction, StatusChange
from billing.core.db import db, next_ids, utcnow
from billing.core.money import to_money
from billing.ledger.models import (
    Adjudication,
    AdjudicationAdjustment,
    AdjudicationLine,
    EntryKind,
    EntrySource,
    LedgerEntry,
)

#: Ids reserved from a PostgreSQL sequence at a time.
ID_BLOCK = 1000


def entry_values(*, claim_id: int, line_id: int | None, kind: EntryKind, amount: Decimal, actor: Actor,
                 posted_on: date, source: EntrySource, payer_id: int | None, **extra: Any) -> dict[str, Any]:
    """The one way a ledger row is made, buffered (`RowBuffer.entry`) or as an ORM object (`LedgerEntry(**...)`).

    Amounts are exact to the cent; money from the patient names no payer; `extra` may set the CAS codes,
    the adjudication, the entry reversed and a memo, and nothing else.
    """
    values: dict[str, Any] = {
        "claim_id": claim_id, "claim_line_id": line_id, "kind": kind, "amount": to_money(amount),
        "posted_on": posted_on, "actor": actor.name, "source": source,
        "payer_id": None if kind is EntryKind.PATIENT_PAYMENT else payer_id, "group_code": None,
        "reason_code": None, "adjudication_id": None, "reverses_id": None, "memo": None, "created_at": utcnow(),
    }
    unknown = set(extra) - set(values)
    if unknown:
        raise TypeError(f"not a ledger column: {', '.join(sorted(unknown))}")
    values.update(extra)
    if values["memo"]:
        values["memo"] = values["memo"][:500]
    return values


def _table(model: type[Any]) -> Table:
    return model.__table__  # type: ignore[no-any-return]


@dataclass
class _Ids:
    """Ids handed out for one table since the last flush."""

    next: int = 0
    free: list[int] = field(default_factory=list)


@dataclass
class RowBuffer:
    """Rows waiting for one executemany per table; callers flush before they read them back."""

    adjudications: list[dict[str, Any]] = field(default_factory=list)
    lines: list[dict[str, Any]] = field(default_factory=list)
    adjustments: list[dict[str, Any]] = field(default_factory=list)
    entries: list[dict[str, Any]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    _ids: dict[str, _Ids] = field(default_factory=dict)

    def adjudication(self, **row: Any) -> int:
        row["id"] = self._new_id(Adjudication)
        row.setdefault("created_at", utcnow())
        row.setdefault("reverses_id", None)
        for name in ("check_number", "check_date", "payment_method", "posted_check_id"):
            row.setdefault(name, None)  # every row of one bulk INSERT carries the same columns
        self.adjudications.append(row)
        return int(row["id"])

    def adjudication_line(self, **row: Any) -> int:
        row["id"] = self._new_id(AdjudicationLine)
        self.lines.append(row)
        return int(row["id"])

    def adjustment(self, **row: Any) -> None:
        row.setdefault("adjudication_line_id", None)
        row.setdefault("quantity", None)
        self.adjustments.append(row)

    def entry(self, row: dict[str, Any]) -> dict[str, Any]:
        """Buffer one ledger row made by `entry_values`."""
        self.entries.append(row)
        return row

    def change(self, subject_type: str, subject_id: int, action: AuditAction, *, actor: Actor,
               before: str | None = None, after: str | None = None, reason: str | None = None,
               data: dict[str, Any] | None = None) -> None:
        """A history row, the same one `record_change` writes."""
        self.history.append({"at": utcnow(), "actor": actor.name, "user_id": actor.user_id,
                             "subject_type": subject_type, "subject_id": subject_id, "action": action,
                             "from_status": before, "to_status": after, "reason": reason, "data": data})

    def flush(self) -> None:
        """Pending ORM changes first (claims, reversals), then the rows, parents before children."""
        db.session.flush()
        connection = db.session.connection()
        for model, rows in ((Adjudication, self.adjudications), (AdjudicationLine, self.lines),
                            (AdjudicationAdjustment, self.adjustments), (LedgerEntry, self.entries),
                            (StatusChange, self.history)):
            if rows:
                write_rows(connection, _table(model), rows)
                rows.clear()
        if connection.dialect.name != "postgresql":
            self._ids.clear()  # the next ids follow the rows just written

    def _new_id(self, model: type[Any]) -> int:
        table = _table(model)
        ids = self._ids.setdefault(table.name, _Ids())
        if ids.next:  # SQLite, after the first id: asking the session for its connection costs more than the rest
            ids.next += 1
            return ids.next - 1
        if ids.free:
            return ids.free.pop()
        connection = db.session.connection()
        if connection.dialect.name == "postgresql":
            ids.free = next_ids(connection, table, ID_BLOCK)[::-1]
            return ids.free.pop()
        ids.next = (connection.execute(select(func.max(table.c.id))).scalar() or 0) + 2
        return ids.next - 1


def write_rows(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Rows of one shape in one statement per table: a COPY on PostgreSQL (see copy_rows), an executemany on
    SQLite (its row triggers run per row whatever the statement)."""
    if connection.dialect.name == "postgresql":
        copy_rows(connection, table, rows)
    else:
        connection.execute(insert(table), rows)


def copy_rows(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Rows of one shape into a PostgreSQL table with one COPY, each value bound as SQLAlchemy binds it.

    psycopg's executemany sends one INSERT per row, so a statement-level trigger runs once per row: the ledger's
    kept summaries (balances, day and month totals) for each charge, the filing-deadline recompute for each
    adjudication. One COPY runs each of them once for the lot, and saves the server a statement per row for the
    tables without triggers (adjudication lines and reasons, history).
    5,000 charges in one transaction on a copy of the scale-10 demo, CPU seconds client + server: COPY 0.02 + 0.23;
    multi-row INSERTs 0.6 + 0.35; executemany 0.1 + 1.1 (up to 14 with the dead rows of earlier rolled-back runs).
    Columns with a Python-side default must be in the rows (`entry_values` sets every one): COPY applies only the
    database's own defaults (the id).
    """
    columns = list(rows[0])
    missing = [c.name for c in table.columns if c.default is not None and c.name not in columns]
    if missing:
        raise ValueError(f"copy_rows needs a value for {', '.join(missing)} in every row")
    dialect = connection.dialect
    processors = [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns]
    converters = list(zip(columns, processors, strict=True))
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([value if (value := row[name]) is None or process is None else process(value)
                                for name, process in converters])
    finally:
        cursor.close()
