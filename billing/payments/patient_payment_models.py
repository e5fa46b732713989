"""Patient payments as received: one row per payment (what a receipt prints), and the ledger entries it made.

The money itself is in the ledger (PATIENT_PAYMENT entries, one per claim line it paid); these rows only group
those entries, so a payment spread over several claims has one number, one receipt and one history trail.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from billing.core.db import db, utcnow
from billing.ledger.models import LedgerEntry
from billing.people.models import Client

RECEIPT_PREFIX = "R-"


def receipt_number(payment_id: int) -> str:
    return f"{RECEIPT_PREFIX}{payment_id:06d}"


class PatientPayment(db.Model):
    """Money from a patient or responsible party, applied to one chosen claim or oldest first across the client's."""

    __table_args__ = (CheckConstraint("amount > 0", "amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id"), index=True)
    amount: Mapped[Decimal]
    received_on: Mapped[date]
    #: "oldest_first" or "claim": how it was applied (the receipt says so).
    applied_by: Mapped[str] = mapped_column(String(20))
    memo: Mapped[str | None] = mapped_column(String(500))  # check number, card, cash...
    actor: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: The one-time key it was posted under: a repeat of the same key finds this payment instead of paying twice.
    operation_key: Mapped[str] = mapped_column(String(64), unique=True)

    client: Mapped[Client] = relationship()
    parts: Mapped[list[PatientPaymentPart]] = relationship(order_by="PatientPaymentPart.id", viewonly=True)

    @property
    def number(self) -> str:
        return receipt_number(self.id)


class PatientPaymentPart(db.Model):
    """One ledger entry a patient payment made."""

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("patient_payment.id"), index=True)
    ledger_entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entry.id"), unique=True)

    entry: Mapped[LedgerEntry] = relationship()
