"""Follow-up of sent claims the payer has not answered: who works each one, when next, and the notes so far."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from billing.claims.models import Claim
from billing.core.append_only import append_only
from billing.core.db import db, utcnow
from billing.core.errors import NotAllowed
from billing.people.models import User

#: A note is a phone call's worth of text; longer belongs in a document.
NOTE_MAX = 2000


class ClaimFollowUp(db.Model):
    """The current state of one claim's follow-up: its assignee and the date it is due again.

    Created on the first note or assignment; each change also writes a history row.
    """

    claim_id: Mapped[int] = mapped_column(ForeignKey("claim.id"), primary_key=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    #: The claim leaves the queue until this day, unless the payer answers first.
    next_follow_up_on: Mapped[date | None]
    #: When next_follow_up_on was set: a date set before the payer's last word no longer counts.
    next_set_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(254))

    claim: Mapped[Claim] = relationship()
    assignee: Mapped[User | None] = relationship()


class FollowUpNote(db.Model):
    """One note on a claim's follow-up. Notes are history: written once, never edited or deleted."""

    __table_args__ = (Index("ix_follow_up_note_claim", "claim_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claim.id"))
    text: Mapped[str] = mapped_column(Text)
    #: The next follow-up date this note set, if it set one.
    next_follow_up_on: Mapped[date | None]
    written_at: Mapped[datetime] = mapped_column(default=utcnow)
    written_by: Mapped[str] = mapped_column(String(254))


class NotesAreAppendOnly(NotAllowed):
    def __init__(self) -> None:
        super().__init__("Follow-up notes are history: add a new note instead of changing one.")


append_only(FollowUpNote, refusal=NotesAreAppendOnly)

