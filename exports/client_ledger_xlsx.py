"""The client ledger as an Excel workbook: one row per entry, money as numbers, the running balances beside."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from billing.ledger.client_ledger import ClientLedger
from exports.columns import Column, Kind, Sheet, TitleBlock
from exports.workbook import write_workbook

COLUMNS = [
    Column("Posted", Kind.DATE), Column("Entry", Kind.INTEGER), Column("Claim"), Column("Service date", Kind.DATE),
    Column("Line", Kind.INTEGER), Column("Category"), Column("Description"),
    Column("Insurance", Kind.MONEY, total=True), Column("Patient", Kind.MONEY, total=True),
    Column("Insurance balance", Kind.MONEY), Column("Patient balance", Kind.MONEY), Column("Balance", Kind.MONEY),
]


def ledger_rows(ledger: ClientLedger) -> Iterator[tuple[Any, ...]]:
    opening = ledger.opening
    yield (None, None, "", None, None, "opening", "Balance brought forward", None, None, opening.insurance,
           opening.patient, opening.total)
    for r in ledger.rows:
        yield (r.posted_on, r.entry_id, r.claim, r.service_date, r.line_number, r.category.value, r.description,
               r.change.insurance, r.change.patient, r.balance.insurance, r.balance.patient, r.balance.total)


def write_ledger_xlsx(ledger: ClientLedger, company: str, target: str | Path | IO[bytes], *, generated_at: datetime,
                      generated_by: str) -> None:
    """The totals row sums the period's movements; opening plus those equals the closing balance."""
    period = [("Client", f"{ledger.client} ({ledger.account})")]
    if ledger.start:
        period.append(("From", ledger.start.isoformat()))
    if ledger.end:
        period.append(("To", ledger.end.isoformat()))
    title = TitleBlock("Client ledger", company, period, generated_at, generated_by)
    write_workbook([Sheet("Ledger", COLUMNS, ledger_rows(ledger))], target, title)
