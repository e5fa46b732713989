"""A client's ledger: every entry on every claim of theirs, oldest first, with running insurance and patient balances.

The balances are the entries' own sums (the signs of `EFFECTS`), never stored: the row before a date range starts
from the sum of everything posted before it, so a filtered ledger ends on the same balance the claims show.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import select

from billing.claims.models import Claim, ClaimLine, claim_number
from billing.core.db import db
from billing.core.errors import NotFound, Problem, raise_if
from billing.core.money import ZERO, to_money
from billing.ledger.models import ADJUSTMENTS, EFFECTS, REFUNDS, EntryKind, LedgerEntry
from billing.people.models import Client


class Category(StrEnum):
    """How a person reading a ledger groups the entry kinds."""

    CHARGE = "charge"
    PAYMENT = "payment"
    ADJUSTMENT = "adjustment"
    TRANSFER = "transfer"
    REFUND = "refund"
    REVERSAL = "reversal"


_PAYMENTS = frozenset({EntryKind.INSURANCE_PAYMENT, EntryKind.PATIENT_PAYMENT})
_TRANSFERS = frozenset({EntryKind.PATIENT_RESPONSIBILITY, EntryKind.TRANSFER_TO_SECONDARY,
                        EntryKind.PATIENT_CREDIT_OUT, EntryKind.PATIENT_CREDIT_IN})


def category_of(kind: EntryKind, *, reversal: bool) -> Category:
    if reversal:
        return Category.REVERSAL
    if kind is EntryKind.CHARGE:
        return Category.CHARGE
    if kind in _PAYMENTS:
        return Category.PAYMENT
    if kind in ADJUSTMENTS:
        return Category.ADJUSTMENT
    if kind in REFUNDS:
        return Category.REFUND
    assert kind in _TRANSFERS, kind
    return Category.TRANSFER


@dataclass(frozen=True)
class Sides:
    """An amount on each side of the ledger: owed by insurance, owed by the patient."""

    insurance: Decimal = ZERO
    patient: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return to_money(self.insurance + self.patient)

    def plus(self, kind: EntryKind, amount: Decimal) -> Sides:
        to_insurance, to_patient = EFFECTS[kind]
        return Sides(to_money(self.insurance + to_insurance * amount), to_money(self.patient + to_patient * amount))

    def as_dict(self) -> dict[str, str]:
        return {"insurance": str(self.insurance), "patient": str(self.patient), "total": str(self.total)}


@dataclass(frozen=True)
class LedgerRow:
    """One entry as the ledger prints it: what it did to each side, and the balances after it."""

    entry_id: int
    posted_on: date
    claim_id: int
    service_date: date
    line_number: int | None
    kind: EntryKind
    category: Category
    reverses_id: int | None
    memo: str
    change: Sides  # this entry's effect on each side
    balance: Sides  # running balances after it

    @property
    def claim(self) -> str:
        return claim_number(self.claim_id)

    @property
    def description(self) -> str:
        text = self.kind.label
        if self.reverses_id is not None:
            text = f"Reversal of {text.lower()} (entry {self.reverses_id})"
        return f"{text}: {self.memo}" if self.memo else text

    def as_dict(self) -> dict[str, Any]:
        return {"entry": self.entry_id, "posted_on": self.posted_on.isoformat(), "claim": self.claim,
                "service_date": self.service_date.isoformat(), "line": self.line_number, "kind": self.kind.value,
                "category": self.category.value, "reverses": self.reverses_id, "description": self.description,
                "insurance": str(self.change.insurance), "patient": str(self.change.patient),
                "insurance_balance": str(self.balance.insurance), "patient_balance": str(self.balance.patient),
                "balance": str(self.balance.total)}


@dataclass(frozen=True)
class ClientLedger:
    client_id: int
    client: str
    account: str
    start: date | None
    end: date | None
    opening: Sides  # everything posted before `start`
    rows: list[LedgerRow] = field(default_factory=list)

    @property
    def closing(self) -> Sides:
        return self.rows[-1].balance if self.rows else self.opening

    def total(self, category: Category) -> Sides:
        """What the entries of one category in the range did to each side."""
        rows = [r.change for r in self.rows if r.category is category]
        return Sides(to_money(sum((c.insurance for c in rows), ZERO)), to_money(sum((c.patient for c in rows), ZERO)))

    def as_dict(self) -> dict[str, Any]:
        return {"client_id": self.client_id, "client": self.client, "account": self.account,
                "from": self.start.isoformat() if self.start else None,
                "to": self.end.isoformat() if self.end else None,
                "opening": self.opening.as_dict(), "closing": self.closing.as_dict(),
                "entries": [r.as_dict() for r in self.rows]}


def date_range_problems(start: date | None, end: date | None) -> list[Problem]:
    if start is not None and end is not None and start > end:
        return [Problem("from", f"The start date {start:%m/%d/%Y} is after the end date {end:%m/%d/%Y}.")]
    return []


def client_ledger(client_id: int, *, start: date | None = None, end: date | None = None) -> ClientLedger:
    """The client's entries posted in [start, end] (either end open), with the balance carried in before `start`."""
    raise_if(date_range_problems(start, end))
    client = db.session.get(Client, client_id)
    if client is None:
        raise NotFound(f"No client {client_id}.")
    query = (
        select(LedgerEntry.id, LedgerEntry.posted_on, LedgerEntry.claim_id, Claim.service_date, ClaimLine.line_number,
               LedgerEntry.kind, LedgerEntry.amount, LedgerEntry.reverses_id, LedgerEntry.memo)
        .join(Claim, Claim.id == LedgerEntry.claim_id)
        .outerjoin(ClaimLine, ClaimLine.id == LedgerEntry.claim_line_id)
        .where(Claim.client_id == client_id)
        .order_by(LedgerEntry.posted_on, LedgerEntry.id)
    )
    if end is not None:
        query = query.where(LedgerEntry.posted_on <= end)
    balance, rows = Sides(), []
    for entry_id, posted_on, claim_id, service_date, line, kind, amount, reverses_id, memo in db.session.execute(query):
        amount = to_money(amount)
        before, balance = balance, balance.plus(kind, amount)
        if start is not None and posted_on < start:
            continue  # carried into the opening balance only
        rows.append(LedgerRow(entry_id, posted_on, claim_id, service_date, line, kind,
                              category_of(kind, reversal=reverses_id is not None), reverses_id, memo or "",
                              Sides(to_money(balance.insurance - before.insurance),
                                    to_money(balance.patient - before.patient)), balance))
    opening = _opening(rows, balance)
    return ClientLedger(client.id, f"{client.last_name}, {client.first_name}", client.account_number, start, end,
                        opening, rows)


def _opening(rows: list[LedgerRow], closing: Sides) -> Sides:
    """The balance before the first row shown: the closing balance less what the shown rows did."""
    if not rows:
        return closing
    first = rows[0]
    return Sides(to_money(first.balance.insurance - first.change.insurance),
                 to_money(first.balance.patient - first.change.patient))
