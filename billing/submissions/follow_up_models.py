"""Follow-up of sent claims the payer has not answered: who works each one, when next, and the notes so far."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from billing.claims.models import Claim
from billing.core.append_only import append_only
from billing.core.db import db, utcnow
from billing.core.errors import NotAllowed
from billing.core.time import practice_date, practice_timezone
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
    #: The practice's day of next_set_at, and the moment that day ended (UTC), both kept with it (`_set_day`):
    #: what the database compares the claim's clocks with (claim_follow_up_clock.next_on), since it knows no
    #: time zones.
    next_set_on: Mapped[date | None]
    next_set_day_ends_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(254))

    claim: Mapped[Claim] = relationship()
    assignee: Mapped[User | None] = relationship()

    @validates("next_set_at")
    def _set_day(self, _key: str, moment: datetime | None) -> datetime | None:
        self.next_set_on, self.next_set_day_ends_at = set_day(moment)
        return moment


def set_day(moment: datetime | None) -> tuple[date | None, datetime | None]:
    """The practice's day at `moment` and the UTC moment that day ends (the next day's midnight there)."""
    if moment is None:
        return None, None
    day = practice_date(moment)
    ends = datetime.combine(day + timedelta(days=1), datetime.min.time(), practice_timezone())
    return day, ends.astimezone(UTC)


class ClaimFollowUpClock(db.Model):
    """What decides when a claim waiting at a payer is due for follow-up, kept by the database itself.

    One row per claim waiting at a payer (Submitted, not self-pay); billing/submissions/follow_up_clock.py says
    how the triggers keep it. Moments are UTC and the payer's word a date, so the row is the same whatever the
    practice's time zone; the queue turns "due today" into ranges of them.
    """

    __table_args__ = (
        # Claims without a standing next date are due `follow_up_days` after the later of their moment and
        # their payer's word: per payer, a range of since_at, the rest read from the index.
        Index("ix_claim_follow_up_clock_since", "payer_id", "since_at", "heard_on", "location_id",
              postgresql_where=sql_text("next_on IS NULL"), sqlite_where=sql_text("next_on IS NULL")),
        # Claims a biller (or a 277 answer) gave a next date that still stands: due on it.
        Index("ix_claim_follow_up_clock_next", "next_on", "payer_id", "location_id",
              postgresql_where=sql_text("next_on IS NOT NULL"), sqlite_where=sql_text("next_on IS NOT NULL")),
    )

    claim_id: Mapped[int] = mapped_column(ForeignKey("claim.id", ondelete="CASCADE"), primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"))
    payer_id: Mapped[int | None] = mapped_column(ForeignKey("payer.id"))
    #: When it last became Submitted (a batch sent it, a clawback reopened it); None if no history says so.
    sent_at: Mapped[datetime | None]
    #: The later of sent_at and the claim's created_at: the moment its clock started, short of the payer's word.
    since_at: Mapped[datetime]
    #: The latest day the payer said anything about it (follow_up.last_heard_from_payer).
    heard_on: Mapped[date | None]
    #: The next follow-up date of its ClaimFollowUp while it stands: set on or after the day of since_at and of
    #: heard_on; None otherwise.
    next_on: Mapped[date | None]


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

