"""Writing postings as rows: a few multi-row INSERTs instead of tens of thousands of ORM objects.

An 835 of 10,000 claims makes about 150,000 rows (adjudications, their lines and CAS reasons, ledger
entries, history). As ORM objects they cost a unit-of-work pass each, and SQLite (no ordered RETURNING)
makes the ORM insert them one by one. Rows whose ids others point at (adjudications, their lines) are
inserted one statement each with RETURNING; everything else waits in this buffer for one executemany.
Only inserts: the ledger stays append-only whichever way it is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert

from billing.audit import Actor, AuditAction, StatusChange
from billing.db import db, utcnow
from billing.payments.models import Adjudication, AdjudicationAdjustment, AdjudicationLine, LedgerEntry


def insert_returning_id(model: type[Any], row: dict[str, Any]) -> int:
    """One row, its new id back (adjudications and their lines: other rows refer to them)."""
    return db.session.execute(insert(model).returning(model.id), [row]).scalar_one()  # type: ignore[attr-defined]


def new_adjudication(row: dict[str, Any]) -> int:
    return insert_returning_id(Adjudication, {"created_at": utcnow(), **row})


def new_adjudication_line(row: dict[str, Any]) -> int:
    return insert_returning_id(AdjudicationLine, row)


@dataclass
class RowBuffer:
    """Rows that nothing refers to yet: written together by `flush()` (callers flush before reading them)."""

    entries: list[dict[str, Any]] = field(default_factory=list)
    adjustments: list[dict[str, Any]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)

    def entry(self, **row: Any) -> dict[str, Any]:
        row.setdefault("created_at", utcnow())
        for name in ("group_code", "reason_code", "claim_line_id", "payer_id", "adjudication_id", "reverses_id",
                     "memo"):
            row.setdefault(name, None)
        self.entries.append(row)
        return row

    def adjustment(self, **row: Any) -> None:
        row.setdefault("adjudication_line_id", None)
        row.setdefault("quantity", None)
        self.adjustments.append(row)

    def change(self, subject_type: str, subject_id: int, action: AuditAction, *, actor: Actor,
               before: str | None = None, after: str | None = None, reason: str | None = None,
               data: dict[str, Any] | None = None) -> None:
        """A history row, the same one `record_change` writes."""
        self.history.append({"at": utcnow(), "actor": actor.name, "user_id": actor.user_id,
                             "subject_type": subject_type, "subject_id": subject_id, "action": action,
                             "from_status": before, "to_status": after, "reason": reason, "data": data})

    def flush(self) -> None:
        db.session.flush()  # pending ORM rows (claims, adjudications' neighbours) go first
        for model, rows in ((LedgerEntry, self.entries), (AdjudicationAdjustment, self.adjustments),
                            (StatusChange, self.history)):
            if rows:
                db.session.execute(insert(model), rows)
                rows.clear()
