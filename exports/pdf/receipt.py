"""A printable receipt for a patient payment: what was received, when, how it was applied, and what is left owing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import IO

from reportlab.lib.units import inch
from reportlab.platypus import Flowable, Spacer

from billing.core.money import format_money
from billing.ledger.invoices import Party
from exports.pdf.documents import BODY, build, grid, header, text


@dataclass(frozen=True)
class Receipt:
    number: str
    received_on: date
    amount: Decimal
    memo: str
    applied_by: str
    practice: Party
    received_from: Party
    client: str
    account: str
    applied: list[tuple[str, Decimal]]  # claim number, amount
    balance_after: Decimal  # what the client owes on the patient side as printed


def receipt_story(receipt: Receipt) -> list[Flowable]:
    how = "oldest charges first" if receipt.applied_by == "oldest_first" else "to the claim chosen"
    facts = [("Receipt", receipt.number), ("Received", f"{receipt.received_on:%m/%d/%Y}"),
             ("Amount", format_money(receipt.amount)), ("Account", receipt.account), ("Client", receipt.client)]
    if receipt.memo:
        facts.append(("Memo", receipt.memo))
    rows: list[list[object]] = [[claim, format_money(amount)] for claim, amount in receipt.applied]
    rows.append(["Total received", format_money(receipt.amount)])
    return [*header("Payment receipt", receipt.practice, receipt.received_from, facts),
            text(f"Thank you. Your payment was applied {how}:", BODY), Spacer(1, 6),
            grid(["Claim", "Applied"], rows, [2 * inch, 1.2 * inch], money_from=1, total_rows=1), Spacer(1, 12),
            text(f"Balance remaining on the account: {format_money(receipt.balance_after)}.", BODY)]


def write_receipt_pdf(receipt: Receipt, target: str | Path | IO[bytes]) -> None:
    build(target, receipt_story(receipt), title=f"Receipt {receipt.number}",
          footer=f"{receipt.practice.name} - receipt {receipt.number}")
