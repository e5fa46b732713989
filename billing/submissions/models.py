"""Clearinghouses, submission batches, the claims in them and the files the clearinghouse sends back."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from billing.claims.models import Claim
from billing.core.db import db, enum_column, utcnow
from billing.core.money import ZERO
from billing.coverage.models import Payer


class Clearinghouse(db.Model):
    """Where 837P files go: the X12 envelope identities and the SFTP drop box.

    `sftp_password` and `sftp_private_key` are write-only for people: the admin never renders them
    and nothing logs them.
    """

    __table_args__ = (
        CheckConstraint("usage_indicator IN ('T', 'P')", "usage_t_or_p"),
        CheckConstraint("sftp_port BETWEEN 1 AND 65535", "port_range"),
        CheckConstraint("last_control_number BETWEEN 0 AND 999999999", "control_fits_isa13"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    isa_sender_qualifier: Mapped[str] = mapped_column(String(2), default="ZZ")  # ISA05
    isa_sender_id: Mapped[str] = mapped_column(String(15))  # ISA06
    isa_receiver_qualifier: Mapped[str] = mapped_column(String(2), default="ZZ")  # ISA07
    isa_receiver_id: Mapped[str] = mapped_column(String(15))  # ISA08
    gs_sender_code: Mapped[str] = mapped_column(String(15))  # GS02
    gs_receiver_code: Mapped[str] = mapped_column(String(15))  # GS03
    submitter_name: Mapped[str] = mapped_column(String(60))  # 1000A NM103
    submitter_etin: Mapped[str] = mapped_column(String(80))  # 1000A NM109
    submitter_contact_name: Mapped[str] = mapped_column(String(60))  # 1000A PER02
    submitter_contact_phone: Mapped[str | None] = mapped_column(String(10))
    submitter_contact_email: Mapped[str | None] = mapped_column(String(80))
    receiver_name: Mapped[str] = mapped_column(String(60))  # 1000B NM103
    receiver_id: Mapped[str] = mapped_column(String(80))  # 1000B NM109
    #: ISA15: T sends test files the clearinghouse will not forward to payers.
    usage_indicator: Mapped[str] = mapped_column(String(1), default="T")
    sftp_host: Mapped[str | None] = mapped_column(String(255))
    sftp_port: Mapped[int] = mapped_column(default=22)
    sftp_username: Mapped[str | None] = mapped_column(String(80))
    sftp_password: Mapped[str | None] = mapped_column(String(255))
    sftp_private_key: Mapped[str | None] = mapped_column(Text)
    #: The server's public key as one OpenSSH line ("ssh-ed25519 AAAA..."); a different key is refused.
    sftp_host_key: Mapped[str | None] = mapped_column(Text)
    inbound_folder: Mapped[str] = mapped_column(String(255), default="inbound")  # where claims go
    outbound_folder: Mapped[str] = mapped_column(String(255), default="outbound")  # where responses come
    #: Placeholders: {batch} (B-000012), {control} (ISA13), {date} (YYYYMMDD), {time} (HHMMSS).
    file_name_pattern: Mapped[str] = mapped_column(String(120), default="{batch}_{control}.x12")
    #: The last ISA13 handed out; batches take the next ones with an atomic increment.
    last_control_number: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)

    payers: Mapped[list[Payer]] = relationship(back_populates="clearinghouse", order_by="Payer.name")

    def __str__(self) -> str:
        return self.name


class BatchStatus(StrEnum):
    GENERATED = "generated"  # validated file kept, claims still Ready
    #: Committed before the upload starts: the file may be at the clearinghouse, so a retry looks there first.
    SENDING = "sending"
    SENT = "sent"  # uploaded (or marked uploaded); read-only from here
    CANCELLED = "cancelled"  # every claim was taken out before it went

    @property
    def label(self) -> str:
        return self.value.capitalize()


class SendMethod(StrEnum):
    SFTP = "sftp"
    MANUAL = "manual"  # downloaded and uploaded by hand, then marked as uploaded


class SubmissionBatch(db.Model):
    """One 837P interchange for one clearinghouse; the file is kept exactly as it was sent."""

    __table_args__ = (
        UniqueConstraint("clearinghouse_id", "control_number"),
        CheckConstraint("(status = 'sent') = (sent_at IS NOT NULL)", "sent_has_timestamp"),
        CheckConstraint("status != 'sending' OR send_started_at IS NOT NULL", "sending_has_timestamp"),
        CheckConstraint("claim_count >= 0", "claim_count_not_negative"),
        Index("ix_submission_batch_status", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clearinghouse_id: Mapped[int] = mapped_column(ForeignKey("clearinghouse.id"))
    #: The payer the biller chose, or None for "all EDI payers".
    payer_id: Mapped[int | None] = mapped_column(ForeignKey("payer.id"), index=True)
    status: Mapped[BatchStatus] = mapped_column(enum_column(BatchStatus), default=BatchStatus.GENERATED)
    #: ISA13 and GS06; the transactions take ST02 = control_number, control_number + 1, ...
    control_number: Mapped[int]
    transaction_count: Mapped[int] = mapped_column(default=1)
    usage_indicator: Mapped[str] = mapped_column(String(1))
    claim_count: Mapped[int] = mapped_column(default=0)
    total_charge: Mapped[Decimal] = mapped_column(default=ZERO)
    file_name: Mapped[str] = mapped_column(String(255))
    content: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(254))
    #: The latest SFTP attempt: when and by whom the batch went Sending, and how many attempts there were.
    send_started_at: Mapped[datetime | None]
    send_started_by: Mapped[str | None] = mapped_column(String(254))
    send_attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    sent_at: Mapped[datetime | None]
    sent_by: Mapped[str | None] = mapped_column(String(254))
    sent_how: Mapped[SendMethod | None] = mapped_column(enum_column(SendMethod))
    #: 999 acknowledgement code for the group (A accepted, E with errors, R rejected, P partial).
    ack_code: Mapped[str | None] = mapped_column(String(1))

    clearinghouse: Mapped[Clearinghouse] = relationship()
    payer: Mapped[Payer | None] = relationship()
    entries: Mapped[list[BatchClaim]] = relationship(
        back_populates="batch", order_by="BatchClaim.position", cascade="all, delete-orphan"
    )

    @property
    def number(self) -> str:
        return f"B-{self.id:06d}" if self.id else "(new)"

    @property
    def is_sent(self) -> bool:
        return self.status is BatchStatus.SENT

    def __str__(self) -> str:
        return self.number


class BatchClaim(db.Model):
    """A claim as it went into a batch: the frequency it was sent with and the version it was built from."""

    __table_args__ = (
        UniqueConstraint("batch_id", "claim_id"),
        CheckConstraint("frequency_code IN ('1', '7', '8')", "frequency_code_known"),
        # A claim waits in at most one unsent batch; the database keeps two racing batches honest.
        Index(
            "uq_batch_claim_pending_claim",
            "claim_id",
            unique=True,
            sqlite_where=text("pending"),
            postgresql_where=text("pending"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("submission_batch.id", ondelete="CASCADE"))
    claim_id: Mapped[int] = mapped_column(ForeignKey("claim.id"), index=True)
    position: Mapped[int]
    frequency_code: Mapped[str] = mapped_column(String(1))
    charge: Mapped[Decimal]
    #: Claim.version when the file was built: a claim edited or held since then stops the send.
    claim_version: Mapped[int]
    #: True while the batch is unsent.
    pending: Mapped[bool] = mapped_column(default=True)

    batch: Mapped[SubmissionBatch] = relationship(back_populates="entries")
    claim: Mapped[Claim] = relationship()


class ClearinghouseResponse(db.Model):
    """A file collected from the clearinghouse's outbound folder (999, 277CA, ...), kept verbatim."""

    __table_args__ = (UniqueConstraint("clearinghouse_id", "file_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clearinghouse_id: Mapped[int] = mapped_column(ForeignKey("clearinghouse.id"))
    file_name: Mapped[str] = mapped_column(String(255))
    transaction_type: Mapped[str | None] = mapped_column(String(3))  # ST01: 999, 277, TA1 ...
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("submission_batch.id"), index=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    content: Mapped[str] = mapped_column(Text)

    clearinghouse: Mapped[Clearinghouse] = relationship()
    batch: Mapped[SubmissionBatch | None] = relationship()

