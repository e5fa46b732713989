"""Therapy sessions and the session classes that explain a cancellation."""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from billing.core.db import db, enum_column
from billing.coverage.models import Authorization, ServiceCode
from billing.org.models import Company, Location
from billing.people.models import Client, Provider

if TYPE_CHECKING:
    from billing.claims.models import ClaimLine


class SessionClass(db.Model):
    """Why a session did not happen as planned (No-show, Late cancel...) and whether it is billable."""

    __table_args__ = (UniqueConstraint("company_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    billable: Mapped[bool] = mapped_column(default=False)
    description: Mapped[str | None] = mapped_column(String(200))

    company: Mapped[Company] = relationship()

    def __str__(self) -> str:
        return self.name


class NoteStatus(StrEnum):
    DRAFT = "draft"
    FINALIZED = "finalized"


class TherapySession(db.Model):
    """One appointment: a client seen by a rendering provider for a service code on a date."""

    __table_args__ = (
        CheckConstraint("end_time > start_time", "ends_after_start"),
        CheckConstraint("length(place_of_service) = 2", "pos_2_chars"),
        CheckConstraint(
            "(note_status = 'finalized') = (finalized_at IS NOT NULL)", "finalized_has_timestamp"
        ),
        CheckConstraint(
            "(session_class_id IS NULL) = (cancelled_at IS NULL)", "cancelled_has_class"
        ),
        Index("ix_therapy_session_client_date", "client_id", "service_date"),
        Index("ix_therapy_session_provider_date", "provider_id", "service_date"),
        # The Sessions list's order (newest day, latest start): its first page is read off this index, not sorted
        # out of a day's worth of sessions.
        Index("ix_therapy_session_date_start", "service_date", "start_time"),
        # Notes still to finalize (the front page's count) are few among a million sessions: index only those.
        Index("ix_therapy_session_draft_notes", "session_class_id", "service_date",
              postgresql_where=sql_text("note_status = 'draft' AND session_class_id IS NULL"),
              sqlite_where=sql_text("note_status = 'draft' AND session_class_id IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id"))
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id"))
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"), index=True)
    service_code_id: Mapped[int] = mapped_column(ForeignKey("service_code.id"), index=True)
    modifiers: Mapped[str] = mapped_column(String(11), default="")
    service_date: Mapped[date] = mapped_column(index=True)
    start_time: Mapped[time]
    end_time: Mapped[time]
    place_of_service: Mapped[str] = mapped_column(String(2))
    authorization_id: Mapped[int | None] = mapped_column(ForeignKey("service_authorization.id"), index=True)
    note_text: Mapped[str | None] = mapped_column(Text)
    note_status: Mapped[NoteStatus] = mapped_column(enum_column(NoteStatus), default=NoteStatus.DRAFT)
    finalized_at: Mapped[datetime | None]
    session_class_id: Mapped[int | None] = mapped_column(ForeignKey("session_class.id"), index=True)
    cancelled_at: Mapped[datetime | None]

    client: Mapped[Client] = relationship()
    provider: Mapped[Provider] = relationship()
    location: Mapped[Location] = relationship()
    service_code: Mapped[ServiceCode] = relationship()
    authorization: Mapped[Authorization | None] = relationship()
    session_class: Mapped[SessionClass | None] = relationship()
    #: Every claim line that ever billed this session (voided claims included: history matters).
    billed_on: Mapped[list[ClaimLine]] = relationship("ClaimLine", viewonly=True, order_by="ClaimLine.id")

    @property
    def minutes(self) -> int:
        start = self.start_time.hour * 60 + self.start_time.minute
        return self.end_time.hour * 60 + self.end_time.minute - start

    @property
    def is_cancelled(self) -> bool:
        return self.session_class_id is not None

    def __str__(self) -> str:
        return f"{self.service_date:%m/%d/%Y} {self.start_time:%H:%M}"
