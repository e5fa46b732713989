"""Patient statements: the dunning levels an admin edits, and the history of what each client was sent."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from billing.core.db import db, utcnow


class DunningLevel(db.Model):
    """The message a statement prints once its balance is `min_days` old (the highest level reached wins)."""

    __table_args__ = (CheckConstraint("min_days >= 0", "min_days_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    min_days: Mapped[int] = mapped_column(unique=True)
    message: Mapped[str] = mapped_column(String(300))

    def __str__(self) -> str:
        return f"{self.min_days}+ days"


class StatementRecord(db.Model):
    """One client's part of one statement that was sent: the history a biller reads ("what, when, how much").

    A statement covering two siblings writes one row per sibling with the same number. At most one row per client
    and day, so running a cycle twice the same day does not send (or record) the family twice.
    """

    __table_args__ = (UniqueConstraint("client_id", "statement_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id"), index=True)
    number: Mapped[str] = mapped_column(String(40), index=True)
    statement_on: Mapped[date]
    due_on: Mapped[date]
    addressed_to: Mapped[str] = mapped_column(String(120))
    client_balance: Mapped[Decimal]  # this client's patient balance on the statement
    amount_due: Mapped[Decimal]  # the whole statement (every client of the responsible party)
    dunning_days: Mapped[int | None]  # the level printed, by its min_days; None when no level applied
    actor: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
