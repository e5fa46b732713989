"""A one-off invoice to the patient or responsible party, as a PDF."""

from __future__ import annotations

from pathlib import Path
from typing import IO

from reportlab.lib.units import inch
from reportlab.platypus import Flowable, Spacer

from billing.core.money import format_money
from billing.ledger.invoices import Invoice
from exports.pdf.documents import BODY, WIDTH, build, grid, header, text

HEAD = ["Claim", "Service date", "Services", "Billed to you", "Paid", "Balance"]
_MONEY = 0.95 * inch
WIDTHS = [0.95 * inch, 0.95 * inch]
WIDTHS += [WIDTH - sum(WIDTHS) - 3 * _MONEY, _MONEY, _MONEY, _MONEY]


def invoice_story(invoice: Invoice) -> list[Flowable]:
    rows: list[list[object]] = [[i.claim, f"{i.service_date:%m/%d/%Y}", i.services, format_money(i.billed),
                                 format_money(i.paid), format_money(i.balance)] for i in invoice.items]
    rows.append(["", "", "Amount due", "", "", format_money(invoice.amount_due)])
    facts = [("Invoice", invoice.number), ("Date", f"{invoice.issued_on:%m/%d/%Y}"),
             ("Due", f"{invoice.due_on:%m/%d/%Y}"), ("Account", invoice.account), ("Client", invoice.client),
             ("Amount due", format_money(invoice.amount_due))]
    return [*header("Invoice", invoice.practice, invoice.bill_to, facts),
            grid(HEAD, rows, WIDTHS, money_from=3, total_rows=1), Spacer(1, 14),
            text(f"Please pay {format_money(invoice.amount_due)} by {invoice.due_on:%m/%d/%Y} to "
                 f"{invoice.practice.name}, quoting account {invoice.account} and invoice {invoice.number}.", BODY)]


def write_invoice_pdf(invoice: Invoice, target: str | Path | IO[bytes]) -> None:
    build(target, invoice_story(invoice), title=f"Invoice {invoice.number}",
          footer=f"{invoice.practice.name} - invoice {invoice.number}")
