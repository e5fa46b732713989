"""Read produced workbooks back with openpyxl, the way an accountant's spreadsheet app would."""

from __future__ import annotations

import io
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import openpyxl
from openpyxl.worksheet.worksheet import Worksheet

HEADER_ROW = 6  # four title lines, a blank line, then the header


@dataclass
class ReadSheet:
    ws: Worksheet

    @property
    def title_lines(self) -> list[str]:
        return [self.ws.cell(row, 1).value for row in range(1, HEADER_ROW - 1)]

    @property
    def header(self) -> list[str]:
        return [c.value for c in self.ws[HEADER_ROW]]

    def data_rows(self) -> list[tuple[Any, ...]]:
        rows = list(self.ws.iter_rows(min_row=HEADER_ROW + 1, values_only=True))
        return rows[:-1]  # the last row is the totals row

    def totals(self) -> tuple[Any, ...]:
        return next(self.ws.iter_rows(min_row=self.ws.max_row, max_row=self.ws.max_row, values_only=True))

    def column(self, title: str) -> list[Any]:
        index = self.header.index(title)
        return [row[index] for row in self.data_rows()]

    def cell(self, row_offset: int, title: str) -> Any:
        return self.ws.cell(HEADER_ROW + 1 + row_offset, self.header.index(title) + 1)


def open_workbook(data: bytes | io.BytesIO | str) -> openpyxl.Workbook:
    source = io.BytesIO(data) if isinstance(data, bytes) else data
    return openpyxl.load_workbook(source)


def sheet(workbook: openpyxl.Workbook, title: str) -> ReadSheet:
    return ReadSheet(workbook[title])


def as_money(value: Any) -> Decimal:
    """openpyxl reads numbers back as int or float; their shortest repr is the exact cents written."""
    return Decimal(repr(value)).quantize(Decimal("0.01")) if value is not None else Decimal("0.00")
