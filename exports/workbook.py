"""Write sheets to an .xlsx file with openpyxl in write-only mode, so 100,000 rows stream in bounded memory.

Write-only mode drops freeze panes and column widths set after the first row (openpyxl 3.1 writes them up front),
so widths are fitted on a sample of the first rows, held back, before anything is appended. The data and
totals rows go through exports.fast_rows (text spliced in at save, 5x faster than a cell object per value);
`_write_rows` is the plain openpyxl path it falls back to.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from itertools import chain, islice
from pathlib import Path
from typing import IO, Any
from zipfile import ZIP_DEFLATED, ZipFile

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.writer.excel import ExcelWriter

from billing.core.money import ZERO, to_money
from exports import fast_rows
from exports.columns import MAX_WIDTH, MIN_WIDTH, Chart, Column, Kind, Sheet, TitleBlock

#: Excel's own Accounting format: aligned $ sign, thousands separators, negatives in parentheses, zero as a dash.
ACCOUNTING = '_("$"* #,##0.00_);_("$"* \\(#,##0.00\\);_("$"* "-"??_);_(@_)'
DATE_FORMAT = "yyyy-mm-dd"
#: Rows held back to measure column widths before the first append.
SAMPLE_ROWS = 500
PROGRESS_EVERY = 1000
#: zlib level of the .xlsx zip. openpyxl's default (6) spends about 1.1 s of CPU per 140 MB of sheet XML (the Claims
#: report at 200,000 claims) for an 11.0 MB file; level 3 takes 0.45 s for 12.1 MB, level 1 0.34 s for 13.7 MB.
ZIP_LEVEL = 3
#: Spreadsheet apps run a cell that starts with one of these as a formula (OWASP "CSV injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# XML 1.0 cannot carry these control characters; openpyxl refuses them.
_ILLEGAL = str.maketrans(dict.fromkeys([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)]))
_SHEET_TITLE_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")

_BOLD = Font(bold=True)
_TITLE = Font(bold=True, size=14)
_HEADER_FILL = PatternFill("solid", fgColor="DDE4EE")
_HEADER_BORDER = Border(bottom=Side(style="thin"))
_TOTAL_BORDER = Border(top=Side(style="thin"), bottom=Side(style="double"))

Progress = Callable[[int], None]


def is_formula_like(text: str) -> bool:
    return text.startswith(FORMULA_TRIGGERS)


def clean_text(text: str) -> str:
    return text.translate(_ILLEGAL)


@dataclass
class _ColumnWriter:
    """Turns one column's values into cells; money and dates share one styled cell, rewritten per row."""

    column: Column
    template: WriteOnlyCell | None
    total: Decimal | int

    def convert(self, value: Any) -> Any:
        """The value as the file will hold it (text cleaned, money exact to the cent), counted in the total."""
        if value is None:
            return None
        kind = self.column.kind
        if kind is Kind.TEXT:
            return clean_text(value) if isinstance(value, str) else value
        if kind is Kind.MONEY:
            value = to_money(value)  # refuses floats: the file must hold exactly the ledger's cents
        elif kind is Kind.DATE and isinstance(value, datetime):
            value = value.replace(tzinfo=None)  # Excel has no time zones; callers pass local times
        if self.column.total:
            self.total += value
        return value

    def cell(self, ws: WriteOnlyWorksheet, value: Any) -> Any:
        value = self.convert(value)
        if value is None:
            return None
        if self.column.kind is Kind.TEXT:
            return _text_cell(ws, value) if isinstance(value, str) else value
        if self.template is None:
            return value
        self.template.value = value
        return self.template


def _text_cell(ws: WriteOnlyWorksheet, value: str) -> Any:
    if not is_formula_like(value):
        return value
    # Keep the text exactly as typed, but as a string cell with Excel's quote prefix: it is shown,
    # sorted and filtered as text and never evaluated, even after someone edits the cell.
    cell = WriteOnlyCell(ws, value=value)
    cell.data_type = "s"
    cell.quotePrefix = True
    return cell


def _template(ws: WriteOnlyWorksheet, kind: Kind) -> WriteOnlyCell | None:
    if kind is Kind.MONEY:
        cell = WriteOnlyCell(ws)
        cell.number_format = ACCOUNTING
        return cell
    if kind is Kind.DATE:
        cell = WriteOnlyCell(ws)
        cell.number_format = DATE_FORMAT
        return cell
    return None


def sheet_title(title: str) -> str:
    """Excel sheet names: at most 31 characters, none of []:*?/\\."""
    return _SHEET_TITLE_FORBIDDEN.sub(" ", title)[:31] or "Sheet"


def _display_length(value: Any, kind: Kind) -> int:
    if value is None:
        return 0
    if kind is Kind.MONEY:
        return len(f"{to_money(value):,.2f}") + 4
    if kind is Kind.DATE:
        return 10
    return len(str(value))


def fitted_widths(columns: Sequence[Column], sample: Sequence[Sequence[Any]]) -> list[int]:
    widths = []
    for index, column in enumerate(columns):
        longest = max((_display_length(row[index], column.kind) for row in sample), default=0)
        widths.append(min(MAX_WIDTH, max(MIN_WIDTH[column.kind], len(column.title) + 3, longest + 2)))
    return widths


def _styled(ws: WriteOnlyWorksheet, value: Any, *, font: Font | None = None, fill: PatternFill | None = None,
            border: Border | None = None, number_format: str | None = None) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value=clean_text(value) if isinstance(value, str) else value)
    if isinstance(value, str) and is_formula_like(value):
        cell.data_type, cell.quotePrefix = "s", True
    if font:
        cell.font = font
    if fill:
        cell.fill = fill
    if border:
        cell.border = border
    if number_format:
        cell.number_format = number_format
    return cell


def write_sheet(wb: Workbook, sheet: Sheet, title: TitleBlock, progress: Progress | None = None) -> int:
    """Append one sheet: title block, frozen header with autofilter, the rows, a totals row, charts.

    A sheet with more rows than Excel can open (EXCEL_MAX_ROWS) goes on in "Claims (2)", "Claims (3)"...: each
    part says in its title block which part it is, the part before ends with a line naming the next, and the
    totals row on the last part sums every part. Returns the data rows written over all parts.
    """
    rows: Iterator[Sequence[Any]] = iter(sheet.rows)
    sample = list(islice(rows, SAMPLE_ROWS))
    widths = fitted_widths(sheet.columns, sample)
    pending: Iterator[Sequence[Any]] = chain(sample, rows)
    totals: list[Decimal | int] = [ZERO if c.kind is Kind.MONEY else 0 for c in sheet.columns]
    written, part = 0, 1
    while True:
        ws, header_row = _start_part(wb, sheet, title, widths, part)
        writers = [_ColumnWriter(c, _template(ws, c.kind), total) for c, total in zip(sheet.columns, totals,
                                                                                        strict=True)]
        raw = fast_rows.install(ws, [c.kind for c in sheet.columns], _style_ids(ws), header_row + 1, is_formula_like,
                                FORMULA_TRIGGERS)
        room = EXCEL_MAX_ROWS - header_row - 2  # the last two rows: the totals row, or the "continued" line
        part_rows = islice(pending, room)
        tick = _offset_progress(progress, written)
        count = _write_raw_rows(raw, writers, part_rows, tick) if raw is not None else \
            _write_rows(ws, writers, part_rows, tick)
        written += count
        totals = [w.total for w in writers]
        ws.auto_filter.ref = f"A{header_row}:{get_column_letter(len(sheet.columns))}{header_row + max(count, 1)}"
        following = next(pending, _END)
        if following is not _END:  # more rows than Excel opens on one sheet: say where they go on, and go on
            pending = chain([following], pending)
            note = f"Continued on sheet '{_part_title(sheet.title, part + 1)}'."
            blanks = [_styled(ws, None) for _ in sheet.columns[1:]]
            _append_styled(ws, raw, [_styled(ws, note, font=_BOLD), *blanks])
            part += 1
            continue
        if sheet.totals:
            _append_styled(ws, raw, _totals_row(ws, writers))
        if part == 1:  # a chart plots one sheet's rows; a sheet too long for Excel gets none
            for position, chart in enumerate(sheet.charts):
                _add_chart(ws, chart, sheet.columns, header_row, count, position)
        return written


#: Excel opens at most this many rows on a sheet (title block, header and totals included).
EXCEL_MAX_ROWS = 1_048_576
_END = object()


def _part_title(title: str, part: int) -> str:
    if part == 1:
        return sheet_title(title)
    suffix = f" ({part})"
    return sheet_title(title)[: 31 - len(suffix)] + suffix


def _start_part(wb: Workbook, sheet: Sheet, title: TitleBlock, widths: list[int],
                part: int) -> tuple[WriteOnlyWorksheet, int]:
    """A new worksheet with the column widths, the title block and the header row; returns it and the header's row."""
    ws = wb.create_sheet(_part_title(sheet.title, part))
    for index, width in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(index)].width = width
    lines = title.lines()
    if part > 1:
        lines = [*lines, f"Part {part} of this sheet, continued from '{_part_title(sheet.title, part - 1)}' "
                         f"(Excel opens at most {EXCEL_MAX_ROWS:,} rows on a sheet)."]
    header_row = len(lines) + 2
    ws.freeze_panes = f"A{header_row + 1}"
    ws.append([_styled(ws, lines[0], font=_TITLE)])
    for line in lines[1:]:
        ws.append([_styled(ws, line)])
    ws.append([])
    ws.append([_styled(ws, c.title, font=_BOLD, fill=_HEADER_FILL, border=_HEADER_BORDER) for c in sheet.columns])
    return ws, header_row


def _append_styled(ws: WriteOnlyWorksheet, raw: fast_rows.RawRows | None, cells: list[Any]) -> None:
    if raw is not None:
        raw.write_styled([(cell.value, cell.style_id) for cell in cells])
    else:
        ws.append(cells)


def _offset_progress(progress: Progress | None, before: int) -> Progress | None:
    """Progress over every part: a later part's counts start where the earlier parts left off."""
    if progress is None or before == 0:
        return progress
    return lambda done: progress(before + done)


def _write_raw_rows(raw: fast_rows.RawRows, writers: list[_ColumnWriter], rows: Iterable[Sequence[Any]],
                    progress: Progress | None) -> int:
    """The rows as text: exports.fast_rows converts and sums the common values itself, and hands the others to
    the column writers (`convert`), so every value is converted and totalled exactly as `_write_rows` does."""

    def add_total(index: int, amount: Decimal | int) -> None:
        writers[index].total += amount

    def convert(index: int, value: Any) -> Any:
        return writers[index].convert(value)

    return raw.write_rows([w.column for w in writers], add_total, rows, convert, progress, PROGRESS_EVERY)


def _write_rows(ws: WriteOnlyWorksheet, writers: list[_ColumnWriter], rows: Iterable[Sequence[Any]],
                progress: Progress | None) -> int:
    """The plain openpyxl path, used when exports.fast_rows cannot hook this openpyxl version."""
    count = 0
    for row in rows:
        ws.append([w.cell(ws, v) for w, v in zip(writers, row, strict=True)])
        count += 1
        if progress is not None and count % PROGRESS_EVERY == 0:
            progress(count)
    return count


def _style_ids(ws: WriteOnlyWorksheet) -> fast_rows.StyleIds:
    """The workbook's style numbers for money, dates and quoted text, as openpyxl registers them."""
    money, day, quoted = _template(ws, Kind.MONEY), _template(ws, Kind.DATE), WriteOnlyCell(ws)
    quoted.quotePrefix = True
    return {"money": money.style_id, "date": day.style_id, "quoted": quoted.style_id}


def _totals_row(ws: WriteOnlyWorksheet, writers: list[_ColumnWriter]) -> list[Any]:
    cells: list[Any] = []
    for index, writer in enumerate(writers):
        if writer.column.total:
            fmt = ACCOUNTING if writer.column.kind is Kind.MONEY else None
            cells.append(_styled(ws, writer.total, font=_BOLD, border=_TOTAL_BORDER, number_format=fmt))
        else:
            cells.append(_styled(ws, "Total" if index == 0 else None, font=_BOLD, border=_TOTAL_BORDER))
    return cells


def _add_chart(ws: WriteOnlyWorksheet, spec: Chart, columns: Sequence[Column], header_row: int, count: int,
               position: int) -> None:
    if count == 0:
        return
    chart = BarChart()
    chart.type = "bar" if count > 8 else "col"  # long category names read better sideways
    chart.title = spec.title
    chart.y_axis.title = spec.y_title
    chart.height, chart.width = max(7.5, min(20.0, 1.0 + 0.6 * count)), 18.0
    if spec.stacked:
        chart.grouping, chart.overlap = "stacked", 100
    first, last = header_row + 1, header_row + count
    for col in spec.value_columns:
        data = Reference(ws, min_col=col + 1, min_row=header_row, max_row=last)
        chart.add_data(data, titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=spec.category_column + 1, min_row=first, max_row=last))
    anchor_col = get_column_letter(len(columns) + 2)
    ws.add_chart(chart, f"{anchor_col}{header_row + position * 22}")


def write_workbook(sheets: Sequence[Sheet], target: str | Path | IO[bytes], title: TitleBlock,
                   progress: Progress | None = None) -> list[int]:
    """Write every sheet and save once; returns the number of data rows on each sheet."""
    wb = Workbook(write_only=True)
    counts = [write_sheet(wb, sheet, title, progress) for sheet in sheets]
    if isinstance(target, str | Path):
        private_file(Path(target))
    _save(wb, target)
    return counts


def _save(wb: Workbook, target: str | Path | IO[bytes]) -> None:
    """`wb.save(target)` (openpyxl.writer.excel.save_workbook), with the zip deflated at ZIP_LEVEL."""
    if not wb.worksheets:
        wb.create_sheet()
    archive = ZipFile(target, "w", ZIP_DEFLATED, allowZip64=True, compresslevel=ZIP_LEVEL)
    wb.properties.modified = datetime.now(UTC).replace(tzinfo=None)
    ExcelWriter(wb, archive).save()  # writes every part and closes the archive


def private_file(path: Path) -> None:
    """Create `path` (or truncate it) readable by its owner only, before any patient data goes in.

    openpyxl then writes into the existing file, which keeps its 0600 mode whatever the umask.
    """
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
    path.chmod(0o600)  # an older file of the same name kept its own mode through O_TRUNC
