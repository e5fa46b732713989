"""Append-only history: who changed what, when, from which state to which, and why."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, insert
from sqlalchemy.orm import Mapped, mapped_column

from billing.core.append_only import append_only
from billing.core.db import db, enum_column, utcnow
from billing.core.errors import NotAllowed


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
    CLAIM_REOPENED = "claim.reopened"
    CLAIM_REVIEWED = "claim.reviewed"
    CLAIM_FLAGGED = "claim.flagged"  # posting found something a biller must look at (Needs Review)
    SELF_PAY_BILLED = "claim.self_pay_billed"  # a self-pay claim's charge went to the patient (claims/self_pay.py)
    PAYMENT_POSTED = "payment.posted"
    PAYMENT_REVERSED = "payment.reversed"
    WRITTEN_OFF = "payment.written_off"
    PATIENT_BILLED = "payment.patient_billed"
    CREDIT_REFUNDED = "payment.refunded"  # a credit balance sent back to the payer or the patient
    CREDIT_APPLIED = "payment.credit_applied"  # a patient credit moved to another claim of the same client
    PATIENT_PAYMENT_RECEIVED = "payment.patient_received"  # one patient payment, on a claim or oldest first
    CHECK_POSTED = "payment.check_posted"  # a payer's check posted across claims (billing/payments/checks.py)
    CHECK_APPLIED = "payment.check_applied"  # part of a check's unapplied remainder posted on claims
    DUNNING_LEVEL_CHANGED = "statement.dunning_level_changed"  # an admin edited the dunning messages
    STATEMENTS_FLAG_CHANGED = "client.statements_flag"  # the client's No statements flag was set or cleared
    STATEMENT_SENT = "client.statement_sent"  # a statement cycle sent the patient balance
    LINE_DENIAL = "claim.line_denial"  # a denied line opened, worked or cleared (billing/claims/line_denials.py)
    SECONDARY_CREATED = "claim.secondary_created"
    ERA_IMPORTED = "era.imported"
    ERA_MATCHED = "era.matched"
    ERA_SET_ASIDE = "era.set_aside"  # an unmatched 835 claim payment a biller says is not ours
    PAYER_ALIAS_ADDED = "payer.alias_added"  # a biller taught a name a payer prints on its 835s
    PAYER_ALIAS_REMOVED = "payer.alias_removed"
    PLB_DISPOSED = "era.plb_disposed"  # an import decided where a PLB's money goes (income, a claim, open)
    PLB_APPLIED = "era.plb_applied"  # a biller posted an open PLB on a claim
    PLB_SETTLED = "era.plb_settled"  # a biller closed an open PLB without posting it, with a reason
    SESSION_FINALIZED = "session.finalized"
    SESSION_CANCELLED = "session.cancelled"
    SESSION_DELETED = "session.deleted"
    SESSION_BILLED_AGAIN = "session.billed_again"  # its claim was retracted or voided; a new claim bills it
    JOB_SCHEDULE_CHANGED = "job.schedule_changed"
    JOB_PAUSED = "job.paused"
    JOB_RESUMED = "job.resumed"
    JOB_RUN_REQUESTED = "job.run_requested"
    JOB_RUN_INTERRUPTED = "job.run_interrupted"  # its process died; closed when the scheduler started
    EXPORT_INTERRUPTED = "export.interrupted"  # its process died; queued again (or given up after 3 tries)
    CLAIM_DELAYED = "claim.delayed"  # a rule delayed it until a date (rules engine)
    RULE_SAVED = "rule.saved"
    # Submissions
    CLAIM_BATCHED = "claim.batched"
    CLAIM_UNBATCHED = "claim.unbatched"
    CLAIM_VOID_SENT = "claim.void_sent"
    CLAIM_PRINTED = "claim.printed"  # a CMS-1500 printed for a paper payer (mailing it is CLAIM_SUBMITTED)
    CLAIM_PAYER_NUMBER_SET = "claim.payer_number_set"  # a biller typed the payer's claim number (ICN) for REF*F8
    CLAIM_VOID_NOT_NEEDED = "claim.void_not_needed"  # a void to send that the payer never needs (never sent, no record)
    CHARGES_WITHDRAWN = "payment.charges_withdrawn"  # a voided or corrected bill's unworked charges reversed
    BATCH_CREATED = "batch.created"
    BATCH_SENDING = "batch.sending"  # committed before the SFTP upload starts
    BATCH_SEND_FAILED = "batch.send_failed"  # the upload certainly did not arrive: back to Generated
    BATCH_SENT = "batch.sent"
    BATCH_CANCELLED = "batch.cancelled"
    BATCH_BUILD_QUEUED = "batch.build_queued"  # a generation too large for a request, left to a job
    BATCH_BUILD_FINISHED = "batch.build_finished"
    BATCH_BUILD_FAILED = "batch.build_failed"
    CLEARINGHOUSE_CHANGED = "clearinghouse.changed"
    RESPONSE_COLLECTED = "clearinghouse.response"
    ELIGIBILITY_REQUESTED = "policy.eligibility_requested"  # a 270 asked about the policy (or could not be sent)
    ELIGIBILITY_ANSWERED = "policy.eligibility_answered"  # a 271 answered it
    # Follow-up of unanswered claims
    FOLLOW_UP_NOTED = "claim.follow_up_noted"  # a note, and the next follow-up date it set
    FOLLOW_UP_ASSIGNED = "claim.follow_up_assigned"
    # Acknowledgments (999, 277CA)
    CLAIM_REJECTED = "claim.rejected"  # a 999 or 277CA turned the claim away before adjudication
    CLAIM_RESENT = "claim.resent"  # a fixed Rejected claim back to Ready, to go out as a new original
    CLAIM_ACKNOWLEDGED = "claim.acknowledged"  # a 277CA accepted it (and gave the payer's claim number)
    ACK_IMPORTED = "ack.imported"  # a 999 or 277CA file read and recorded
    # Claim status inquiries (276) and responses (277): never money, never the claim's status
    STATUS_INQUIRY_CREATED = "status_inquiry.created"
    STATUS_INQUIRY_SENT = "status_inquiry.sent"
    CLAIM_STATUS_ASKED = "claim.status_asked"  # the claim was in a 276
    CLAIM_STATUS_ANSWERED = "claim.status_answered"  # a 277 said where it stands (and moved its follow-up)
    CLAIM_STATUS_IMPORTED = "status_response.imported"  # a 277 file read and recorded
    # Logins (billing/people/logins.py, billing/people/mfa.py)
    USER_LOCKED = "user.locked"  # too many failed logins: refused until the window passes or an admin unlocks
    USER_UNLOCKED = "user.unlocked"
    PASSWORD_CHANGED = "user.password_changed"  # noqa: S105 - a history tag, not a password
    MFA_ENROLLED = "user.mfa_enrolled"
    MFA_RESET = "user.mfa_reset"  # an admin cleared the user's authenticator and recovery codes
    RECOVERY_CODE_USED = "user.recovery_code_used"
    # Secrets at rest (billing/core/secrets.py): a stored secret re-encrypted under the newest key
    SECRET_REENCRYPTED = "secret.reencrypted"  # noqa: S105 - a history tag, not a secret
    # A user's saved list filters (billing/people/saved_filters.py)
    FILTER_SAVED = "saved_filter.saved"
    FILTER_DELETED = "saved_filter.deleted"


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


class HistoryIsAppendOnly(NotAllowed):
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


@dataclass(frozen=True)
class Change:
    """One history row of a batch written by `record_changes`."""

    subject_id: int
    action: AuditAction
    before: str | None = None
    after: str | None = None
    reason: str | None = None
    data: dict[str, Any] | None = None


def record_changes(subject_type: str, changes: list[Change], *, actor: Actor) -> None:
    """Write many history rows in one INSERT: billing 2,000 sessions must not build 4,000 ORM objects."""
    now = utcnow()
    # Rows without data leave the column out (SQL NULL): a None bound to a JSON column would store JSON null.
    for with_data in (False, True):
        rows = [_history_row(c, subject_type, actor, now) | ({"data": c.data} if with_data else {})
                for c in changes if (c.data is not None) is with_data]
        if rows:
            db.session.execute(insert(StatusChange.__table__), rows)


def _history_row(c: Change, subject_type: str, actor: Actor, now: datetime) -> dict[str, Any]:
    return {
        "at": now,
        "actor": actor.name,
        "user_id": actor.user_id,
        "subject_type": subject_type,
        "subject_id": c.subject_id,
        "action": c.action,
        "from_status": c.before,
        "to_status": c.after,
        "reason": c.reason,
    }


append_only(StatusChange, refusal=HistoryIsAppendOnly)

