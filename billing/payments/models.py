"""Remittances as received: 835 files kept byte for byte, their checks, PLB adjustments and the unmatched queue."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from billing.claims.models import Claim
from billing.core.db import db, enum_column, utcnow
from billing.coverage.models import Payer
from billing.ledger.models import PaymentMethod

if TYPE_CHECKING:
    from billing.ledger.models import Adjudication


class Remittance(db.Model):
    """One 835 transaction (ST..SE): a check or EFT from a payer, with the claims it pays and its PLBs."""

    __table_args__ = (
        # The same check for the same payer is one payment, whatever file it arrives in.
        UniqueConstraint("payer_key", "check_number", "paid_on", "amount"),
        Index("ix_remittance_paid_on", "paid_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    era_file_id: Mapped[int] = mapped_column(ForeignKey("era_file.id"), index=True)
    payer_id: Mapped[int | None] = mapped_column(ForeignKey("payer.id"), index=True)
    payer_name: Mapped[str] = mapped_column(String(60))
    payer_key: Mapped[str] = mapped_column(String(80))  # TRN03 (or the payer name when absent)
    payee_name: Mapped[str | None] = mapped_column(String(60))
    payee_id: Mapped[str | None] = mapped_column(String(80))
    check_number: Mapped[str] = mapped_column(String(50))  # TRN02
    method: Mapped[str] = mapped_column(String(3))  # BPR04: CHK, ACH, NON, FWT, BOP
    handling: Mapped[str] = mapped_column(String(2))  # BPR01: I, H, C, D, P, U, X
    amount: Mapped[Decimal]  # BPR02
    paid_on: Mapped[date]  # BPR16, or DTM*405 when missing
    claim_count: Mapped[int]
    claims_paid_total: Mapped[Decimal]  # sum of CLP04
    plb_total: Mapped[Decimal]
    balanced: Mapped[bool]
    warnings: Mapped[list[str] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    era_file: Mapped[EraFile] = relationship(back_populates="remittances")
    payer: Mapped[Payer | None] = relationship()
    provider_adjustments: Mapped[list[ProviderAdjustment]] = relationship(
        back_populates="remittance", order_by="ProviderAdjustment.id"
    )
    adjudications: Mapped[list[Adjudication]] = relationship(
        back_populates="remittance", order_by="Adjudication.id", viewonly=True
    )
    unmatched: Mapped[list[UnmatchedClaim]] = relationship(
        back_populates="remittance", order_by="UnmatchedClaim.id", viewonly=True
    )


class EraFile(db.Model):
    """An imported 835 file, kept byte for byte."""

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    # Deferred: lists never read the file (a 12 MB ERA made the Remittances page 414 ms); opening one loads it.
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(254))

    remittances: Mapped[list[Remittance]] = relationship(back_populates="era_file", order_by="Remittance.id")


class PlbDisposition(StrEnum):
    """Where a PLB's money went (posting rule 7); see billing/payments/plb.py."""

    INCOME = "income"  # interest (L6) or money added with no claim named: income, shown in Revenue
    APPLIED = "applied"  # posted on a claim as insurance payment entries, the whole amount
    OPEN = "open"  # an offset naming none of our claims (or more than it could take): open in A/R
    SETTLED = "settled"  # a biller closed the open item without posting it (netted elsewhere), with a reason


class ProviderAdjustment(db.Model):
    """A PLB adjustment: money the payer adds or takes at the provider level, and what became of it."""

    id: Mapped[int] = mapped_column(primary_key=True)
    remittance_id: Mapped[int] = mapped_column(ForeignKey("remittance.id"), index=True)
    provider_id: Mapped[str] = mapped_column(String(50))  # PLB01
    fiscal_period_end: Mapped[date | None]  # PLB02
    reason_code: Mapped[str] = mapped_column(String(2))  # PLB03-1, e.g. WO, FB, CV, L6
    reference: Mapped[str | None] = mapped_column(String(50))  # PLB03-2
    amount: Mapped[Decimal]  # positive reduces the payment
    disposition: Mapped[PlbDisposition] = mapped_column(enum_column(PlbDisposition), default=PlbDisposition.OPEN)
    #: Posted on claims so far (the sum of its entries, negated): the whole amount once applied.
    applied_amount: Mapped[Decimal] = mapped_column(default=Decimal(0))
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("claim.id"), index=True)  # the claim it was posted on
    note: Mapped[str | None] = mapped_column(String(300))  # why it is open, or why it was settled
    disposed_at: Mapped[datetime | None]
    disposed_by: Mapped[str | None] = mapped_column(String(254))

    remittance: Mapped[Remittance] = relationship(back_populates="provider_adjustments")
    claim: Mapped[Claim | None] = relationship()

    @property
    def open_amount(self) -> Decimal:
        """What still sits on the remittance as an open provider-level item (positive: the payer kept it)."""
        return self.amount - self.applied_amount if self.disposition is PlbDisposition.OPEN else Decimal(0)


class ProviderAdjustmentEntry(db.Model):
    """Links a PLB to the ledger entries that posted it on a claim (the ledger itself knows no remittances)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_adjustment_id: Mapped[int] = mapped_column(ForeignKey("provider_adjustment.id"), index=True)
    ledger_entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entry.id"), unique=True)


class UnmatchedStatus(StrEnum):
    OPEN = "open"
    MATCHED = "matched"
    SET_ASIDE = "set_aside"  # a biller says it is not ours (another provider's patient); still kept, still matchable


class UnmatchedClaim(db.Model):
    """An 835 claim payment that matched none of our claims, kept whole for a biller to match by hand."""

    id: Mapped[int] = mapped_column(primary_key=True)
    remittance_id: Mapped[int] = mapped_column(ForeignKey("remittance.id"), index=True)
    claim_number: Mapped[str] = mapped_column(String(50))  # CLP01 as sent
    status_code: Mapped[str] = mapped_column(String(2))
    patient_name: Mapped[str] = mapped_column(String(120), default="")
    charge: Mapped[Decimal]
    paid: Mapped[Decimal]
    reason: Mapped[str] = mapped_column(String(300))  # why it did not match
    data: Mapped[dict[str, Any]] = mapped_column(JSON)  # the whole CLP loop, parsed
    raw: Mapped[str] = mapped_column(Text)  # its segments, as received
    status: Mapped[UnmatchedStatus] = mapped_column(enum_column(UnmatchedStatus), default=UnmatchedStatus.OPEN)
    matched_claim_id: Mapped[int | None] = mapped_column(ForeignKey("claim.id"), index=True)
    matched_at: Mapped[datetime | None]  # when it was matched or set aside
    matched_by: Mapped[str | None] = mapped_column(String(254))
    note: Mapped[str | None] = mapped_column(String(300))  # why it was set aside

    remittance: Mapped[Remittance] = relationship(back_populates="unmatched")
    matched_claim: Mapped[Claim | None] = relationship()


class PostedCheck(db.Model):
    """A paper check (or EFT) a biller posted across claims from its EOB on the Post a check page.

    The claims' payments are adjudications that point here; `unapplied` is what the check paid beyond them, kept
    visible on the checks list until it is applied to claims (it never enters the ledger on its own).
    """

    __table_args__ = (
        # Posting rule 8: the same payer and check number is the same money, whatever its date.
        UniqueConstraint("payer_id", "check_number"),
        CheckConstraint("amount >= 0", "amount_not_negative"),
        CheckConstraint("unapplied >= 0", "unapplied_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    payer_id: Mapped[int] = mapped_column(ForeignKey("payer.id"), index=True)
    check_number: Mapped[str] = mapped_column(String(50))
    check_date: Mapped[date]
    method: Mapped[PaymentMethod] = mapped_column(enum_column(PaymentMethod))
    amount: Mapped[Decimal]
    applied: Mapped[Decimal]  # the sum of the payments posted from it
    unapplied: Mapped[Decimal]  # amount - applied: money received and not yet on any claim
    note: Mapped[str | None] = mapped_column(String(300))  # why a remainder is unapplied
    posted_at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(254))

    payer: Mapped[Payer] = relationship()
    adjudications: Mapped[list[Adjudication]] = relationship(
        primaryjoin="PostedCheck.id == foreign(Adjudication.posted_check_id)", order_by="Adjudication.id",
        viewonly=True,
    )
