"""The ledger: insert-only entries, and the adjudications (what a payer decided per claim and line) they follow."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from billing.claims.models import Claim, ClaimLine
from billing.core.db import db, enum_column, utcnow
from billing.coverage.models import Payer

if TYPE_CHECKING:
    from billing.payments.models import Remittance


class PaymentMethod(StrEnum):
    """How a payer's money arrived, as the biller reads it off the EOB (an 835 says it in BPR04)."""

    CHECK = "check"
    EFT = "eft"
    CARD = "card"  # a virtual card some payers pay with
    OTHER = "other"

    @property
    def label(self) -> str:
        return {"check": "Check", "eft": "EFT", "card": "Card", "other": "Other"}[self.value]


class EntryKind(StrEnum):
    """What an entry does to the two balances a line carries: owed by insurance, owed by the patient."""

    CHARGE = "charge"
    INSURANCE_PAYMENT = "insurance_payment"
    CONTRACTUAL = "contractual"  # group CO
    OTHER_ADJUSTMENT = "other_adjustment"  # groups OA, PI, CR
    PATIENT_RESPONSIBILITY = "patient_responsibility"  # group PR: moves the amount to the patient
    PATIENT_PAYMENT = "patient_payment"
    WRITE_OFF = "write_off"  # of the insurance balance
    PATIENT_WRITE_OFF = "patient_write_off"
    TRANSFER_TO_SECONDARY = "transfer_to_secondary"  # the patient part billed to the next payer instead
    INSURANCE_REFUND = "insurance_refund"  # an overpayment sent back to the payer (billing/payments/credits.py)
    PATIENT_REFUND = "patient_refund"  # an overpayment sent back to the patient / responsible party
    PATIENT_CREDIT_OUT = "patient_credit_out"  # a patient credit moved to another claim of the same client...
    PATIENT_CREDIT_IN = "patient_credit_in"  # ...where it pays what the patient owes, as a payment would

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


#: (insurance balance, patient balance) sign of each kind; a reversal negates the amount, not the kind.
EFFECTS: dict[EntryKind, tuple[int, int]] = {
    EntryKind.CHARGE: (1, 0),
    EntryKind.INSURANCE_PAYMENT: (-1, 0),
    EntryKind.CONTRACTUAL: (-1, 0),
    EntryKind.OTHER_ADJUSTMENT: (-1, 0),
    EntryKind.PATIENT_RESPONSIBILITY: (-1, 1),
    EntryKind.PATIENT_PAYMENT: (0, -1),
    EntryKind.WRITE_OFF: (-1, 0),
    EntryKind.PATIENT_WRITE_OFF: (0, -1),
    EntryKind.TRANSFER_TO_SECONDARY: (0, -1),
    # A refund raises a credit (a negative balance) back toward zero: money leaves the practice.
    EntryKind.INSURANCE_REFUND: (1, 0),
    EntryKind.PATIENT_REFUND: (0, 1),
    EntryKind.PATIENT_CREDIT_OUT: (0, 1),
    EntryKind.PATIENT_CREDIT_IN: (0, -1),
}
#: Money sent back out of the practice (a refund), by the side whose credit it clears.
REFUNDS = frozenset({EntryKind.INSURANCE_REFUND, EntryKind.PATIENT_REFUND})
ADJUSTMENTS = frozenset({EntryKind.CONTRACTUAL, EntryKind.OTHER_ADJUSTMENT, EntryKind.WRITE_OFF,
                         EntryKind.PATIENT_WRITE_OFF})


class EntrySource(StrEnum):
    MANUAL = "manual"  # typed from a paper EOB or a phone call
    ERA = "era"  # posted from an 835
    SYSTEM = "system"  # charges, transfers


class LedgerEntry(db.Model):
    """One movement of money on a claim line. Inserted, never updated or deleted (ORM and database guards).

    A mistake is corrected by a reversing entry: same kind, negated amount, `reverses_id` set. The
    unique constraint on `reverses_id` means an entry is reversed at most once; "reversed" is derived.
    `reverses_id` has no ORM relationship on purpose: a self-referential one makes the unit of work insert
    entries one row at a time, and an 835 posts tens of thousands of them in one flush.
    """

    __table_args__ = (
        CheckConstraint("amount <> 0", "amount_not_zero"),
        CheckConstraint("reverses_id IS NULL OR reverses_id <> id", "not_self_reversal"),
        UniqueConstraint("reverses_id"),
        Index("ix_ledger_entry_claim", "claim_id", "claim_line_id"),
        Index("ix_ledger_entry_posted", "posted_on", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # claim_id, claim_line_id, payer_id and adjudication_id name rows of those tables as foreign keys would, but are
    # checked by triggers over a whole INSERT (billing/ledger/entry_references.py): per-row checks cost an 835 half
    # of writing its entries.
    claim_id: Mapped[int]
    #: Null for claim-level adjustments (835 CAS in loop 2100).
    claim_line_id: Mapped[int | None]
    kind: Mapped[EntryKind] = mapped_column(enum_column(EntryKind))
    amount: Mapped[Decimal]
    group_code: Mapped[str | None] = mapped_column(String(2))  # CAS01: CO, PR, OA, PI, CR
    reason_code: Mapped[str | None] = mapped_column(String(5))  # CARC, or a write-off reason's short code
    posted_on: Mapped[date]  # the accounting date: check/EFT date, or the day it was typed
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(254))
    source: Mapped[EntrySource] = mapped_column(enum_column(EntrySource))
    payer_id: Mapped[int | None] = mapped_column(index=True)
    adjudication_id: Mapped[int | None] = mapped_column(index=True)
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entry.id"))
    memo: Mapped[str | None] = mapped_column(String(500))

    claim: Mapped[Claim] = relationship(primaryjoin="foreign(LedgerEntry.claim_id) == Claim.id")
    claim_line: Mapped[ClaimLine | None] = relationship(
        primaryjoin="foreign(LedgerEntry.claim_line_id) == ClaimLine.id")
    adjudication: Mapped[Adjudication | None] = relationship(
        primaryjoin="foreign(LedgerEntry.adjudication_id) == Adjudication.id")

    @property
    def is_reversal(self) -> bool:
        return self.reverses_id is not None


#: CLP02 = 22: the payer takes back an earlier payment (of the whole claim, or of the lines it lists).
REVERSAL_CODE = "22"



class ClaimBalance(db.Model):
    """What insurance and the patient owe on a claim now: kept by a database trigger (billing/ledger/claim_balances.py)
    as the running sum of the claim's ledger entries; never written by the application."""

    __table_args__ = (
        # Statements and Credit balances read the few claims with something on a side, not every claim: a page
        # then costs what is open, whatever the ledger's size.
        Index("ix_claim_balance_patient_open", "claim_id", postgresql_where=text("patient <> 0"),
              sqlite_where=text("patient <> 0")),
        Index("ix_claim_balance_insurance_credit", "claim_id", postgresql_where=text("insurance < 0"),
              sqlite_where=text("insurance < 0")),
    )

    claim_id: Mapped[int] = mapped_column(ForeignKey("claim.id"), primary_key=True)
    insurance: Mapped[Decimal] = mapped_column(default=0)
    patient: Mapped[Decimal] = mapped_column(default=0)

class ClientBalance(db.Model):
    """What each client owes on the patient side now, all their claims together: kept by database triggers
    (billing/ledger/client_balances.py) as the sum of their claims' patient balances, for the Statements page and
    its cycle, which then read the few clients owing or owed something instead of every open claim; never written
    by the application."""

    __table_args__ = (
        # The cycle reads the clients whose balance is not zero: a few thousand rows, whatever the ledger's size.
        Index("ix_client_balance_open", "client_id", postgresql_where=text("patient <> 0"),
              sqlite_where=text("patient <> 0")),
    )

    client_id: Mapped[int] = mapped_column(ForeignKey("client.id"), primary_key=True)
    patient: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=0)
    # Copies of the client's columns that place it in a statement cycle, kept by triggers (client_balances.PARTY):
    # the cycle's outline reads these rows alone, never the client table.
    location_id: Mapped[int]
    account_number: Mapped[str] = mapped_column(String(20))
    no_statements: Mapped[bool]
    statement_party: Mapped[str | None] = mapped_column(String(400))
    statement_name: Mapped[str] = mapped_column(String(120))


class ArDayTotal(db.Model):
    """What payers and patients owe, per service day, location and payer of the claims, and how many claims owe it:
    kept by database triggers (billing/ledger/ar_days.py) beside `claim_balance`, for the Dashboard's A/R and the
    front page's receivables; never written by the application."""

    service_date: Mapped[date] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(primary_key=True)
    payer_id: Mapped[int] = mapped_column(primary_key=True)  # 0: claims without a payer
    insurance: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=0)
    patient: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=0)
    #: Claims whose insurance (patient) balance is not zero.
    insurance_claims: Mapped[int] = mapped_column(default=0)
    patient_claims: Mapped[int] = mapped_column(default=0)


class LedgerMonthTotal(db.Model):
    """Per posting month and location of the claims: the charges posted, and the collections (payer and patient
    payments), with how many claims each touched. Kept by database triggers (billing/ledger/month_totals.py) for the
    Dashboard's charges and collections by month; never written by the application."""

    month: Mapped[date] = mapped_column(primary_key=True)  # the month's first day
    location_id: Mapped[int] = mapped_column(primary_key=True)
    kinds: Mapped[str] = mapped_column(String(12), primary_key=True)  # "charges" or "collections"
    claims: Mapped[int] = mapped_column(default=0)
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=0)


class CarcDayTotal(db.Model):
    """Per service day and location of the claims, per adjustment group and reason code (CO-45): how many claims
    carry it and the entries' sum. Kept by database triggers (billing/ledger/carc_days.py) for the Dashboard's top
    CARCs; never written by the application."""

    service_date: Mapped[date] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(primary_key=True)
    group_code: Mapped[str] = mapped_column(String(2), primary_key=True)
    reason_code: Mapped[str] = mapped_column(String(5), primary_key=True)
    claims: Mapped[int] = mapped_column(default=0)
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=0)


class Adjudication(db.Model):
    """What a payer decided on one claim once (an 835 CLP or a typed EOB); the ledger entries follow it."""

    __table_args__ = (CheckConstraint("status_code <> ''", "status_code_present"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claim.id"), index=True)
    payer_id: Mapped[int | None] = mapped_column(ForeignKey("payer.id"))
    remittance_id: Mapped[int | None] = mapped_column(ForeignKey("remittance.id"), index=True)
    source: Mapped[EntrySource] = mapped_column(enum_column(EntrySource))
    status_code: Mapped[str] = mapped_column(String(2))  # CLP02: 1, 2, 3, 4, 19-23, 25
    charge: Mapped[Decimal]
    paid: Mapped[Decimal]
    patient_responsibility: Mapped[Decimal]
    payer_claim_number: Mapped[str | None] = mapped_column(String(50))  # CLP07
    paid_on: Mapped[date]
    #: The earlier adjudication a CLP02=22 (or a manual clawback) takes back.
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("adjudication.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: The check (or EFT trace) a typed EOB was paid with, as the biller entered it; an 835's is on its remittance.
    check_number: Mapped[str | None] = mapped_column(String(50))
    check_date: Mapped[date | None]
    payment_method: Mapped[PaymentMethod | None] = mapped_column(enum_column(PaymentMethod))
    #: The Post a check entry this payment was posted from (billing/payments/checks.py), if any.
    posted_check_id: Mapped[int | None] = mapped_column(ForeignKey("posted_check.id"), index=True)

    claim: Mapped[Claim] = relationship()
    payer: Mapped[Payer | None] = relationship()
    remittance: Mapped[Remittance | None] = relationship(back_populates="adjudications")
    lines: Mapped[list[AdjudicationLine]] = relationship(order_by="AdjudicationLine.id", viewonly=True)
    adjustments: Mapped[list[AdjudicationAdjustment]] = relationship(
        order_by="AdjudicationAdjustment.id", viewonly=True
    )


class AdjudicationLine(db.Model):
    """The payer's decision on one service line (SVC): what the 837's COB loop 2430 repeats to the next payer."""

    id: Mapped[int] = mapped_column(primary_key=True)
    adjudication_id: Mapped[int] = mapped_column(ForeignKey("adjudication.id"), index=True)
    claim_line_id: Mapped[int] = mapped_column(ForeignKey("claim_line.id"), index=True)
    procedure_code: Mapped[str] = mapped_column(String(48))
    modifiers: Mapped[str] = mapped_column(String(11), default="")
    units: Mapped[Decimal] = mapped_column(default=Decimal(1))
    charge: Mapped[Decimal]
    paid: Mapped[Decimal]
    allowed: Mapped[Decimal | None]  # AMT*B6
    remarks: Mapped[str] = mapped_column(String(600), default="")  # LQ*HE RARCs, comma separated (99 fit)
    paid_on: Mapped[date]

    claim_line: Mapped[ClaimLine] = relationship()
    adjudication: Mapped[Adjudication] = relationship()


class AdjudicationAdjustment(db.Model):
    """One CAS reason on a claim (line null) or a line, as the payer sent it, ledgered or not."""

    id: Mapped[int] = mapped_column(primary_key=True)
    adjudication_id: Mapped[int] = mapped_column(ForeignKey("adjudication.id"), index=True)
    adjudication_line_id: Mapped[int | None] = mapped_column(ForeignKey("adjudication_line.id"), index=True)
    group_code: Mapped[str] = mapped_column(String(2))
    reason_code: Mapped[str] = mapped_column(String(5))
    amount: Mapped[Decimal]
    quantity: Mapped[Decimal | None]

    adjudication: Mapped[Adjudication] = relationship()
    line: Mapped[AdjudicationLine | None] = relationship()
