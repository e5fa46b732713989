"""Clearinghouses, submission batches, the claims in them and the files the clearinghouse sends back."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from billing.claims.models import Claim
from billing.core.db import db, enum_column, utcnow
from billing.core.money import ZERO
from billing.core.secrets import EncryptedText
from billing.coverage.models import Payer


class Clearinghouse(db.Model):
    """Where 837P files go: the X12 envelope identities and the SFTP drop box.

    `sftp_password` and `sftp_private_key` are write-only for people: the admin never renders them
    and nothing logs them. Both are encrypted at rest (`EncryptedText`).
    """

    __table_args__ = (
        CheckConstraint("usage_indicator IN ('T', 'P')", "usage_t_or_p"),
        CheckConstraint("sftp_port BETWEEN 1 AND 65535", "port_range"),
        CheckConstraint("last_control_number BETWEEN 0 AND 999999999", "control_fits_isa13"),
        CheckConstraint("max_claims_per_file >= 1", "max_claims_positive"),
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
    # Stored as Fernet tokens (billing/core/secrets.py): the database holds no usable credential.
    sftp_password: Mapped[str | None] = mapped_column(EncryptedText)
    sftp_private_key: Mapped[str | None] = mapped_column(EncryptedText)
    #: The server's public key as one OpenSSH line ("ssh-ed25519 AAAA..."); a different key is refused.
    sftp_host_key: Mapped[str | None] = mapped_column(Text)
    inbound_folder: Mapped[str] = mapped_column(String(255), default="inbound")  # where claims go
    outbound_folder: Mapped[str] = mapped_column(String(255), default="outbound")  # where responses come
    #: Placeholders: {batch} (B-000012), {control} (ISA13), {date} (YYYYMMDD), {time} (HHMMSS).
    file_name_pattern: Mapped[str] = mapped_column(String(120), default="{batch}_{control}.x12")
    #: The last ISA13 handed out; batches take the next ones with an atomic increment.
    last_control_number: Mapped[int] = mapped_column(default=0)
    #: The most claims the clearinghouse takes in one file; more Ready claims go out in several batches.
    max_claims_per_file: Mapped[int] = mapped_column(default=5000, server_default="5000")
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
    # Deferred: lists never read the file (a 12 MB ERA made the Remittances page 414 ms); opening one loads it.
    content: Mapped[str] = mapped_column(Text, deferred=True)
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
    #: Where the claim sits in the file, so a 999's error traces to it: the transaction's ST02 and the claim's first
    #: and last segment positions counted from ST = 1 (what IK302 counts). None on batches written before this.
    transaction_control: Mapped[str | None] = mapped_column(String(9))
    first_segment: Mapped[int | None]
    last_segment: Mapped[int | None]

    batch: Mapped[SubmissionBatch] = relationship(back_populates="entries")
    claim: Mapped[Claim] = relationship()


class AckKind(StrEnum):
    IMPLEMENTATION = "999"  # the clearinghouse's syntax check of our 837 transactions
    CLAIM = "277CA"  # the payer's (or clearinghouse's) front-end edits, claim by claim

    @property
    def label(self) -> str:
        return "999" if self is AckKind.IMPLEMENTATION else "277CA"


class AckOutcome(StrEnum):
    ACCEPTED = "accepted"
    ACCEPTED_WITH_ERRORS = "accepted_errors"  # a 999's IK5*E: accepted, the errors are warnings
    REJECTED = "rejected"
    INFORMATION = "information"  # a 277CA status that neither accepts nor rejects (pended, more to come)

    @property
    def label(self) -> str:
        return {"accepted_errors": "Accepted with errors"}.get(self.value, self.value.capitalize())


class Acknowledgment(db.Model):
    """A 999 or 277CA file, kept verbatim with what it answered; importing the same bytes again records nothing."""

    __table_args__ = (
        UniqueConstraint("sha256"),
        CheckConstraint("matched OR unmatched_reason IS NOT NULL", "unmatched_has_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[AckKind] = mapped_column(enum_column(AckKind))
    file_name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    # Deferred: lists never read the file (a 12 MB ERA made the Remittances page 414 ms); opening one loads it.
    content: Mapped[str] = mapped_column(Text, deferred=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    imported_by: Mapped[str] = mapped_column(String(254))
    clearinghouse_id: Mapped[int | None] = mapped_column(ForeignKey("clearinghouse.id"), index=True)
    #: The batch a 999 answers (AK102 = its GS06); a 277CA's claims name their batches one by one.
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("submission_batch.id"), index=True)
    #: A 999's AK901 (A, E, P, R) for the group.
    verdict: Mapped[str | None] = mapped_column(String(1))
    #: False when the file answers nothing of ours (another sender's file, an unknown batch): kept, with the reason.
    matched: Mapped[bool] = mapped_column(default=True)
    unmatched_reason: Mapped[str | None] = mapped_column(String(500))
    summary: Mapped[str] = mapped_column(String(500), default="")

    clearinghouse: Mapped[Clearinghouse | None] = relationship()
    batch: Mapped[SubmissionBatch | None] = relationship()

    @property
    def number(self) -> str:
        return f"ACK-{self.id:06d}" if self.id else "(new)"


class ClaimAcknowledgment(db.Model):
    """What one acknowledgment said about one claim: the trail a biller reads and the timely-filing evidence."""

    __table_args__ = (Index("ix_claim_acknowledgment_claim", "claim_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    acknowledgment_id: Mapped[int] = mapped_column(ForeignKey("acknowledgment.id"), index=True)
    #: None when the 277CA names a claim number we do not have (kept with `claim_reference`).
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("claim.id"))
    claim_reference: Mapped[str] = mapped_column(String(50))  # CLM01 as the file gives it (277CA TRN02)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("submission_batch.id"), index=True)
    transaction_control: Mapped[str | None] = mapped_column(String(9))
    outcome: Mapped[AckOutcome] = mapped_column(enum_column(AckOutcome))
    #: "IK5*R 5" or "STC A7:562:85"; the plain words are in `message`.
    codes: Mapped[str] = mapped_column(String(200), default="")
    message: Mapped[str] = mapped_column(String(2000), default="")
    payer_claim_number: Mapped[str | None] = mapped_column(String(50))
    #: The date the file states for its answer (277CA STC02), else the day it was imported.
    effective_on: Mapped[date | None]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Did it change the claim (status, payer claim number)? If not, `note` says why (e.g. the claim was Paid).
    applied: Mapped[bool] = mapped_column(default=False)
    note: Mapped[str | None] = mapped_column(String(300))
    #: The 999's errors traced to this claim: segment id, position, element, code, meaning, our segment's text.
    errors: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)

    acknowledgment: Mapped[Acknowledgment] = relationship()
    claim: Mapped[Claim | None] = relationship()
    batch: Mapped[SubmissionBatch | None] = relationship()


class ClearinghouseResponse(db.Model):
    """A file collected from the clearinghouse's outbound folder (999, 277CA, ...), kept verbatim."""

    __table_args__ = (UniqueConstraint("clearinghouse_id", "file_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clearinghouse_id: Mapped[int] = mapped_column(ForeignKey("clearinghouse.id"))
    file_name: Mapped[str] = mapped_column(String(255))
    transaction_type: Mapped[str | None] = mapped_column(String(3))  # ST01: 999, 277, TA1 ...
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("submission_batch.id"), index=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Deferred: lists never read the file (a 12 MB ERA made the Remittances page 414 ms); opening one loads it.
    content: Mapped[str] = mapped_column(Text, deferred=True)

    clearinghouse: Mapped[Clearinghouse] = relationship()
    batch: Mapped[SubmissionBatch | None] = relationship()


class BuildStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class BatchBuild(db.Model):
    """A generation too large for a web request (over `builds.LARGE_BUILD` claims), built by a background job.

    The job commits each batch as it is built and counts the claims done, so the Submissions page shows
    progress (done of total) while it runs; the batches made before a failure stay, each a valid file.
    """

    __table_args__ = (
        Index("ix_batch_build_status", "status", "id"),
        CheckConstraint("done >= 0 AND (total IS NULL OR done <= total)", "done_within_total"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[BuildStatus] = mapped_column(enum_column(BuildStatus), default=BuildStatus.QUEUED)
    payer_id: Mapped[int | None] = mapped_column(ForeignKey("payer.id"))
    #: The claims the biller chose (as ids); the job checks each again before it goes in a batch.
    claim_ids: Mapped[list[int]] = mapped_column(JSON)
    #: Claims the rules let through, known once the job has run them; `done` of them are in batches.
    total: Mapped[int | None]
    done: Mapped[int] = mapped_column(default=0)
    batch_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    summary: Mapped[str | None] = mapped_column(String(2000))
    error: Mapped[str | None] = mapped_column(String(2000))
    requested_by: Mapped[str] = mapped_column(String(254))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
