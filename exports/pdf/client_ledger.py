"""The client ledger as a PDF: every entry with its effect on each side and the running balances."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import IO

from reportlab.lib.units import inch
from reportlab.platypus import Flowable, Spacer

from billing.core.money import format_money
from billing.ledger.client_ledger import Category, ClientLedger
from billing.ledger.invoices import Party
from exports.pdf.documents import SMALL, WIDTH, build, grid, header, text

HEAD = ["Posted", "Claim", "Line", "Entry", "Insurance", "Patient", "Ins. balance", "Pat. balance", "Balance"]
_MONEY = 0.78 * inch
WIDTHS = [0.7 * inch, 0.8 * inch, 0.35 * inch]
WIDTHS.append(WIDTH - sum(WIDTHS) - 5 * _MONEY)
WIDTHS += [_MONEY] * 5


def _period(ledger: ClientLedger) -> str:
    start = f"{ledger.start:%m/%d/%Y}" if ledger.start else "the first entry"
    end = f"{ledger.end:%m/%d/%Y}" if ledger.end else "today"
    return f"{start} to {end}"


def ledger_story(ledger: ClientLedger, practice: Party, recipient: Party, *, printed_on: date) -> list[Flowable]:
    opening, closing = ledger.opening, ledger.closing
    rows: list[list[object]] = [["", "", "", "Balance brought forward", "", "", format_money(opening.insurance),
                                 format_money(opening.patient), format_money(opening.total)]]
    rows += [[f"{r.posted_on:%m/%d/%Y}", r.claim, r.line_number or "", text(r.description, SMALL),
              format_money(r.change.insurance) if r.change.insurance else "",
              format_money(r.change.patient) if r.change.patient else "",
              format_money(r.balance.insurance), format_money(r.balance.patient), format_money(r.balance.total)]
             for r in ledger.rows]
    rows.append(["", "", "", "Closing balance", "", "", format_money(closing.insurance), format_money(closing.patient),
                 format_money(closing.total)])
    totals = [[c.value.capitalize(), format_money(t.insurance), format_money(t.patient)]
              for c in Category if (t := ledger.total(c)).insurance or t.patient]
    facts = [("Client", ledger.client), ("Account", ledger.account), ("Period", _period(ledger)),
             ("Printed", f"{printed_on:%m/%d/%Y}"), ("Patient owes", format_money(closing.patient))]
    return [*header("Client ledger", practice, recipient, facts),
            grid(HEAD, rows, WIDTHS, money_from=4, total_rows=1), Spacer(1, 12),
            grid(["Activity in the period", "Insurance", "Patient"], totals or [["No activity", "", ""]],
                 [2 * inch, _MONEY * 1.3, _MONEY * 1.3], money_from=1)]


def write_ledger_pdf(ledger: ClientLedger, practice: Party, recipient: Party, target: str | Path | IO[bytes], *,
                     printed_on: date) -> None:
    build(target, ledger_story(ledger, practice, recipient, printed_on=printed_on),
          title=f"Client ledger {ledger.account}", footer=f"{practice.name} - client ledger {ledger.account}")
