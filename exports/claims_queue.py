"""The claims queue as the list shows it (its tab, filters and search), as CSV or an Excel workbook.

`queue_rows` shapes the rows once; the two writers only lay them out. Money stays Decimal to the cent.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import IO, Any

from billing.claims.models import Claim
from billing.payments.filing import FilingDeadline
from billing.payments.queue import QueueRow
from exports.columns import Column, Kind, Sheet, TitleBlock
from exports.workbook import clean_text, is_formula_like, write_workbook

COLUMNS = [
    Column("Claim"),
    Column("Status"),
    Column("Service date", Kind.DATE),
    Column("Client"),
    Column("Member ID"),
    Column("Payer"),
    Column("Payer claim number"),
    Column("Provider"),
    Column("Location"),
    Column("CPT"),
    Column("Units", Kind.INTEGER, total=True),
    Column("Billed", Kind.MONEY, total=True),
    Column("Paid", Kind.MONEY, total=True),
    Column("Balance", Kind.MONEY, total=True),
    Column("Days in status", Kind.INTEGER),
    Column("Filing deadline", Kind.DATE),
    Column("Held because"),
]


@dataclass(frozen=True)
class QueueExport:
    title: TitleBlock
    rows: list[tuple[Any, ...]]


def queue_rows(
    claims: Iterable[Claim], figures: dict[int, QueueRow], deadlines: dict[int, FilingDeadline], today: date
) -> Iterator[tuple[Any, ...]]:
    for c in claims:
        row = figures[c.id]
        deadline = deadlines.get(c.id)
        yield (
            c.number,
            c.status.label,
            c.service_date,
            c.client.full_name,
            c.policy.member_id if c.policy else "",
            c.payer.name if c.payer else "",
            c.payer_claim_number or "",
            c.rendering_provider.full_name,
            c.location.name,
            row.codes,
            row.units,
            c.total_charge,
            row.paid,
            row.balance,
            row.days_in_status(today),
            deadline.deadline if deadline else None,
            c.hold_reason or "",
        )


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, str):
        text = clean_text(value)
        return "'" + text if is_formula_like(text) else text  # a spreadsheet must not run it as a formula
    return value


def write_queue_csv(rows: Sequence[tuple[Any, ...]], target: IO[str]) -> None:
    writer = csv.writer(target, lineterminator="\r\n")
    writer.writerow([c.title for c in COLUMNS])
    for row in rows:
        writer.writerow([_csv_cell(v) for v in row])


def queue_csv_bytes(rows: Sequence[tuple[Any, ...]]) -> bytes:
    buffer = io.StringIO()
    write_queue_csv(rows, buffer)
    return buffer.getvalue().encode("utf-8-sig")  # the BOM makes Excel read the names' accents right


def write_queue_xlsx(export: QueueExport, target: IO[bytes]) -> None:
    write_workbook([Sheet("Claims", COLUMNS, export.rows)], target, export.title)
