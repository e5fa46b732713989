"""Claim status inquiries (276) we sent, the 277 files that answered, and what each said about each claim.

None of these rows touches money or a claim's status: they are what the payer told us, kept as history.
The answers are written once and never edited (a later 277 is a new row).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from billing.claims.models import Claim
from billing.core.append_only import append_only
from billing.core.db import db, enum_column, utcnow
from billing.core.errors import NotAllowed
from billing.submissions.models import Clearinghouse


class InquiryStatus(StrEnum):
    GENERATED = "generated"  # built and validated, not uploaded (no SFTP settings, or the upload failed)
    SENT = "sent"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class StatusInquiry(db.Model):
    """One 276 interchange for one clearinghouse, kept exactly as built."""

    __table_args__ = (
        UniqueConstraint("clearinghouse_id", "control_number"),
        CheckConstraint("(status = 'sent') = (sent_at IS NOT NULL)", "sent_has_timestamp"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clearinghouse_id: Mapped[int] = mapped_column(ForeignKey("clearinghouse.id"))
    status: Mapped[InquiryStatus] = mapped_column(enum_column(InquiryStatus), default=InquiryStatus.GENERATED)
    #: ISA13 and GS06, from the clearinghouse's sequence shared with 837 batches.
    control_number: Mapped[int]
    claim_count: Mapped[int] = mapped_column(default=0)
    file_name: Mapped[str] = mapped_column(String(255))
    content: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(254))
    sent_at: Mapped[datetime | None]
    sent_by: Mapped[str | None] = mapped_column(String(254))

    clearinghouse: Mapped[Clearinghouse] = relationship()
    entries: Mapped[list[StatusInquiryClaim]] = relationship(back_populates="inquiry", cascade="all, delete-orphan")

    @property
    def number(self) -> str:
        return f"SI-{self.id:06d}" if self.id else "(new)"


class StatusInquiryClaim(db.Model):
    """A claim asked about in an inquiry; `trace` is the TRN02 the 277 echoes."""

    __table_args__ = (Index("ix_status_inquiry_claim_claim", "claim_id", "inquiry_id"),)

    inquiry_id: Mapped[int] = mapped_column(ForeignKey("status_inquiry.id"), primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claim.id"), primary_key=True)
    trace: Mapped[str] = mapped_column(String(50))

    inquiry: Mapped[StatusInquiry] = relationship(back_populates="entries")
    claim: Mapped[Claim] = relationship()


class StatusResponseFile(db.Model):
    """A 277 file, kept verbatim; the same bytes imported again record nothing."""

    __table_args__ = (UniqueConstraint("sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    file_name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    imported_by: Mapped[str] = mapped_column(String(254))
    clearinghouse_id: Mapped[int | None] = mapped_column(ForeignKey("clearinghouse.id"), index=True)
    summary: Mapped[str] = mapped_column(String(500), default="")

    @property
    def number(self) -> str:
        return f"CS-{self.id:06d}" if self.id else "(new)"


class StatusOutcome(StrEnum):
    """What a 277 status means for the biller working the claim (from its category code, STC01-1)."""

    PENDING = "pending"  # P0-P5: in process at the payer
    PAID = "paid"  # F1: finalized, a payment is coming (its 835 follows)
    DENIED = "denied"  # F2: finalized, denied (the 835 brings the reasons)
    FINALIZED = "finalized"  # F0, F3, F4: processing complete (the 835 follows)
    NOT_FOUND = "not_found"  # A4, D0, or status 35: the payer has no such claim; it must be sent again
    RETURNED = "returned"  # A3, A6, A7, A8: refused as unprocessable; fix and resend
    RECEIVED = "received"  # A0, A1, A2, A5: acknowledged, nothing decided yet
    NO_ANSWER = "no_answer"  # E0-E4: the inquiry itself could not be answered; ask again
    INFORMATION = "information"  # anything else (requests for information, Y codes)

    @property
    def label(self) -> str:
        return {"not_found": "Not found", "no_answer": "No answer"}.get(self.value, self.value.capitalize())

    @property
    def counts_as_heard(self) -> bool:
        """Does the answer restart the follow-up clock? Not when the payer has no such claim or could not answer:
        the claim still needs a person."""
        return self not in (StatusOutcome.NOT_FOUND, StatusOutcome.RETURNED, StatusOutcome.NO_ANSWER)


class ClaimStatusResponse(db.Model):
    """What one 277 said about one claim (one row per STC): the claim's status trail. Written once."""

    __table_args__ = (Index("ix_claim_status_response_claim", "claim_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("status_response_file.id"), index=True)
    #: None when the 277 names a claim number we do not have (kept with `claim_reference`).
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("claim.id"))
    claim_reference: Mapped[str] = mapped_column(String(50))  # TRN02 as the file gives it
    #: The inquiry that asked (the latest one naming this claim), when there is one.
    inquiry_id: Mapped[int | None] = mapped_column(ForeignKey("status_inquiry.id"), index=True)
    outcome: Mapped[StatusOutcome] = mapped_column(enum_column(StatusOutcome))
    #: "STC F2:65:PR"; the plain words are in `message`.
    codes: Mapped[str] = mapped_column(String(200), default="")
    message: Mapped[str] = mapped_column(String(2000), default="")
    effective_on: Mapped[date | None]  # STC02
    charge: Mapped[Decimal | None]  # STC04
    paid: Mapped[Decimal | None]  # STC05
    finalized_on: Mapped[date | None]  # STC06
    check_issued_on: Mapped[date | None]  # STC08
    check_number: Mapped[str | None] = mapped_column(String(16))  # STC09
    payer_claim_number: Mapped[str | None] = mapped_column(String(50))  # REF*1K
    #: The practice's day the answer arrived: what the follow-up queue counts as hearing from the payer.
    heard_on: Mapped[date]
    #: The next follow-up date this answer set on the claim's follow-up (None: it set none).
    next_follow_up_on: Mapped[date | None]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Did it update the claim's follow-up? If not, `note` says why (the claim was no longer Submitted...).
    applied: Mapped[bool] = mapped_column(default=False)
    note: Mapped[str | None] = mapped_column(String(300))

    file: Mapped[StatusResponseFile] = relationship()
    claim: Mapped[Claim | None] = relationship()
    inquiry: Mapped[StatusInquiry | None] = relationship()


class StatusResponsesAreAppendOnly(NotAllowed):
    def __init__(self) -> None:
        super().__init__("Claim status answers are history: a later 277 adds rows, it never changes one.")


append_only(ClaimStatusResponse, refusal=StatusResponsesAreAppendOnly)
