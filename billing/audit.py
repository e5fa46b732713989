"""Append-only history: who changed what, when, from which state to which, and why."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, event
from sqlalchemy.orm import Mapped, Session, mapped_column

from billing.db import db, enum_column, utcnow
from billing.errors import BillingError


class AuditAction(StrEnum):
    CLAIM_CREATED = "claim.created"
    CLAIM_HELD = "claim.held"
    CLAIM_RELEASED = "claim.released"
    CLAIM_EDITED = "claim.edited"
    CLAIM_VOIDED = "claim.voided"
    CLAIM_RETRACTED = "claim.retracted"
    CLAIM_SUBMITTED = "claim.submitted"
    CLAIM_PAID = "claim.paid"
    CLAIM_DENIED = "claim.denied"
    CLAIM_RESUBMITTED = "claim.resubmitted"
    CLAIM_CORRECTED = "claim.corrected"
    SESSION_FINALIZED = "session.finalized"
    SESSION_CANCELLED = "session.cancelled"
    SESSION_DELETED = "session.deleted"


@dataclass(frozen=True)
class Actor:
    """Who did it: a logged-in user, or a named system process (CLI command, scheduled job)."""

    name: str
    user_id: int | None = None

    @classmethod
    def system(cls, process: str) -> Actor:
        return cls(name=f"system:{process}")

    @classmethod
    def user(cls, user: Any) -> Actor:
        return cls(name=user.email, user_id=user.id)


class StatusChange(db.Model):
    """One row per state change. Never updated, never deleted (guarded below)."""

    __table_args__ = (Index("ix_status_change_subject", "subject_type", "subject_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(254))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    subject_type: Mapped[str] = mapped_column(String(30))  # "claim", "session"
    subject_id: Mapped[int]
    action: Mapped[AuditAction] = mapped_column(enum_column(AuditAction, open_ended=True))
    from_status: Mapped[str | None] = mapped_column(String(30))
    to_status: Mapped[str | None] = mapped_column(String(30))
    reason: Mapped[str | None] = mapped_column(String(500))
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class HistoryIsAppendOnly(BillingError):
    def __init__(self) -> None:
        super().__init__("History is append-only: its rows are never edited or deleted.")


def record_change(
    subject_type: str,
    subject_id: int,
    action: AuditAction,
    *,
    actor: Actor,
    before: str | None = None,
    after: str | None = None,
    reason: str | None = None,
    data: dict[str, Any] | None = None,
) -> StatusChange:
    row = StatusChange(
        actor=actor.name,
        user_id=actor.user_id,
        subject_type=subject_type,
        subject_id=subject_id,
        action=action,
        from_status=before,
        to_status=after,
        reason=reason,
        data=data,
    )
    db.session.add(row)
    return row


@event.listens_for(Session, "before_flush")
def _history_is_append_only(session: Session, flush_context: Any, instances: Any) -> None:
    if any(isinstance(o, StatusChange) for o in session.deleted) or any(
        isinstance(o, StatusChange) and session.is_modified(o) for o in session.dirty
    ):
        raise HistoryIsAppendOnly


@event.listens_for(Session, "do_orm_execute")
def _no_bulk_history_edits(state: Any) -> None:
    """`update(StatusChange)` / `delete(StatusChange)` statements bypass before_flush; refuse them too."""
    if (state.is_update or state.is_delete) and any(m.class_ is StatusChange for m in state.all_mappers):
        raise HistoryIsAppendOnly
