"""The PHI access log: who viewed, exported or downloaded which record, when and from which address.

45 CFR 164.312(b) asks for a record of activity on systems holding PHI. The history (audit.py) records changes;
this records reads. Rows are written by one hook in the admin (admin_views/access.py) and by the commands that
write files; they are never edited or deleted: the ORM refuses it here and database triggers back that up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, Select, String, insert, select
from sqlalchemy.orm import Mapped, mapped_column

from billing.core.append_only import append_only
from billing.core.audit import Actor
from billing.core.db import db, enum_column, utcnow
from billing.core.errors import NotAllowed
from billing.core.time import practice_timezone


class AccessKind(StrEnum):
    VIEWED = "viewed"  # one record's page
    LISTED = "listed"  # a list page of records (the filters and search are kept, not each row)
    DOWNLOADED = "downloaded"  # a file: an 835 as received, an 837 batch file, a report
    EXPORTED = "exported"  # a report built to a file (the Reports page, a background export, the CLI)


class Subject(StrEnum):
    """What was looked at. A list's subject id is empty."""

    CLIENT = "client"
    CLAIM = "claim"
    SESSION = "session"
    POLICY = "policy"
    AUTHORIZATION = "authorization"
    REMITTANCE = "remittance"
    UNMATCHED = "unmatched"  # an 835 claim payment that matched none of our claims
    ERA_FILE = "era_file"  # an 835 file as received
    BATCH = "batch"  # an 837P submission batch
    REPORT = "report"
    ACCESS_LOG = "access_log"  # reading this log is itself logged
    POSTED_CHECK = "posted_check"  # a payer's check posted across claims (Post a check)


class AccessEntry(db.Model):
    """One row per request that showed or handed out PHI. Never updated, never deleted."""

    __tablename__ = "access_log"
    __table_args__ = (
        Index("ix_access_log_subject", "subject_type", "subject_id", "id"),
        Index("ix_access_log_user_at", "user_id", "at"),
        Index("ix_access_log_at", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(254))  # the login's email, or "system:cli:NAME"
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    kind: Mapped[AccessKind] = mapped_column(enum_column(AccessKind))
    subject_type: Mapped[Subject] = mapped_column(enum_column(Subject, open_ended=True))
    subject_id: Mapped[int | None]
    #: What else says which records: a list's filters and search, a file's name, a report's filters.
    detail: Mapped[str | None] = mapped_column(String(500))
    ip: Mapped[str | None] = mapped_column(String(45))  # IPv6 at most; after ProxyFix, the client's
    path: Mapped[str | None] = mapped_column(String(255))


class AccessLogIsAppendOnly(NotAllowed):
    def __init__(self) -> None:
        super().__init__("The access log is append-only: its rows are never edited or deleted.")


@dataclass(frozen=True)
class Access:
    """One access, as the view layer or a command describes it."""

    kind: AccessKind
    subject_type: Subject
    subject_id: int | None = None
    detail: str | None = None


def record_access(access: Access, *, actor: Actor, ip: str | None = None, path: str | None = None) -> None:
    """One INSERT, no ORM object: the hook runs on every PHI page and must stay cheap."""
    db.session.execute(insert(AccessEntry.__table__), [{
        "at": utcnow(), "actor": actor.name[:254], "user_id": actor.user_id, "kind": access.kind,
        "subject_type": access.subject_type, "subject_id": access.subject_id,
        "detail": access.detail[:500] if access.detail else None, "ip": (ip or None) and ip[:45],
        "path": path[:255] if path else None,
    }])


@dataclass(frozen=True)
class AccessFilters:
    """The access log's filters: a user (email, or part of it), a subject and a window of practice days."""

    user: str | None = None
    subject_type: str | None = None
    subject_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    limit: int | None = None


def day_start(day: date) -> datetime:
    """Midnight of a practice day, as an aware datetime."""
    return datetime.combine(day, time.min, tzinfo=practice_timezone())


def access_query(filters: AccessFilters) -> Select[tuple[AccessEntry]]:
    """Newest first. Days are the practice's calendar days, as everywhere else."""
    query = select(AccessEntry).order_by(AccessEntry.id.desc())
    if filters.user:
        query = query.where(AccessEntry.actor.contains(filters.user.strip().lower(), autoescape=True))
    if filters.subject_type:
        query = query.where(AccessEntry.subject_type == filters.subject_type)
    if filters.subject_id is not None:
        query = query.where(AccessEntry.subject_id == filters.subject_id)
    if filters.date_from:
        query = query.where(AccessEntry.at >= day_start(filters.date_from))
    if filters.date_to:
        query = query.where(AccessEntry.at < day_start(filters.date_to + timedelta(days=1)))
    return query.limit(filters.limit) if filters.limit else query


def access_document(entry: AccessEntry) -> dict[str, Any]:
    return {
        "id": entry.id, "at": entry.at.isoformat(), "actor": entry.actor, "user_id": entry.user_id,
        "kind": entry.kind.value, "subject_type": str(entry.subject_type), "subject_id": entry.subject_id,
        "detail": entry.detail, "ip": entry.ip, "path": entry.path,
    }


def list_access(filters: AccessFilters) -> list[dict[str, Any]]:
    return [access_document(e) for e in db.session.scalars(access_query(filters))]


append_only(AccessEntry, refusal=AccessLogIsAppendOnly)

