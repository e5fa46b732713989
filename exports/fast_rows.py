"""Data rows as SpreadsheetML text, spliced into openpyxl's write-only sheet when it is saved.

openpyxl's write-only mode builds, binds and serialises one cell object per value: about 16 us a cell,
so 100,000 rows of 14 columns take half a minute. Here openpyxl still writes the workbook, the title
block, the header, styles, freeze panes, autofilter and charts; the data rows and the totals row are
formatted as text (a few string operations a cell) into a temporary file of their own, and when openpyxl
closes the sheet that file is copied in where openpyxl left a marker comment. Memory stays flat: both
files are streamed.

This leans on internals of openpyxl 3.1 write-only worksheets (pinned <3.2 in pyproject.toml): the
`_values_to_row` and `_writer.write_row(xf, row, row_idx)` pair that writes appended rows, the sheet's
temporary file `_writer.out`, and `close()` being called before that file is zipped. `install()` returns
None when any of them is missing, and the caller falls back to ordinary appends: an openpyxl upgrade then
makes reports slower, not wrong.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import IO, Any

from openpyxl import LXML
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from billing.core.money import CENT, ZERO
from exports.columns import Column, Kind

MARKER = "claimdesk-data-rows"
#: Style numbers (cellXfs indexes) by role, as openpyxl registered them for this workbook.
StyleIds = dict[str, int]
_COPY_CHUNK = 1 << 20
#: XML's three specials, and the carriage return, which parsers would turn into a line feed.
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
#: Text that goes into a cell exactly as it is: printable ASCII without XML's specials (& < >), not starting with
#: a space or a formula trigger (= + - @), not ending with a space. Anything else takes the general path.
_SAFE, _SAFE_LAST = r"[\x20-\x25\x27-\x3b\x3d\x3f-\x7e]", r"[\x21-\x25\x27-\x3b\x3d\x3f-\x7e]"
_SAFE_FIRST = r"[\x21-\x25\x27-\x2a\x2c\x2e-\x3b\x3f\x41-\x7e]"
_PLAIN_TEXT = re.compile(f"(?:{_SAFE_FIRST}(?:{_SAFE}*{_SAFE_LAST})?)?").fullmatch
#: Day 0 of Excel's 1900 date system (1899-12-30, openpyxl's WINDOWS_EPOCH) as an ordinal; a date after the
#: fictitious 1900-02-29 (serial 60) is its ordinal minus this, written as openpyxl writes it ("45658.0").
_EXCEL_DAY0 = date(1899, 12, 30).toordinal()
#: Plain texts a column remembers (a few kilobytes: memory must not grow with the rows).
_KNOWN_TEXTS = 64


class _Marker(tuple):  # a tuple, so that openpyxl's append() accepts it
    __slots__ = ()


class RawRows:
    """Rows written as XML text after the header; `first_row` is the sheet row number of the first one."""

    def __init__(self, kinds: Sequence[Kind], styles: StyleIds, first_row: int,
                 is_formula_like: Callable[[str], bool], formula_triggers: tuple[str, ...]) -> None:
        self.kinds = list(kinds)
        self.is_formula_like = lambda value: isinstance(value, str) and is_formula_like(value)
        self.formula_triggers = formula_triggers
        self.letters = [get_column_letter(i) for i in range(1, len(kinds) + 1)]
        self.styles = styles
        self.next_row = first_row
        self.writers = [self._writer_for(kind) for kind in self.kinds]
        self.file: IO[str] = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115 - closed in splice()

    def write(self, values: Sequence[Any]) -> None:
        """One row of converted values (text cleaned, money exact to the cent)."""
        r = self.next_row
        cells = [write_cell(letter, r, value) for letter, write_cell, value in zip(self.letters, self.writers, values,
                                                                                   strict=True) if value is not None]
        self.file.write(f'<row r="{r}">{"".join(cells)}</row>')
        self.next_row += 1

    def write_rows(self, columns: Sequence[Column], add_total: Callable[[int, Any], None],
                   rows: Iterable[Sequence[Any]], slow_cell: Callable[[int, Any], Any],
                   progress: Callable[[int], None] | None, progress_every: int) -> int:
        """Convert, total and write `rows` in one pass; returns how many.

        A cell's common case (text that needs no escaping, a Decimal, a date, an int) is written here, its money or
        count summed and handed to `add_total(i, sum)` at the end; any other value goes to `slow_cell(i, value)`,
        which converts and totals it (exports.workbook's column writer), then through the general formatter `write`
        uses. The file is the same either way: this only saves the calls.
        """
        cells = [self._fast_cell(i, column, add_total, slow_cell) for i, column in enumerate(columns)]
        if len(cells) != len(self.kinds):
            raise ValueError("the columns are not the ones this sheet was installed with")
        out, count, r = self.file.write, 0, self.next_row
        try:
            for values in rows:
                rs = str(r)
                row = "".join([cell(value, rs) for cell, value in zip(cells, values, strict=True)])
                out(f'<row r="{rs}">{row}</row>')  # the file buffers; holding rows back here costs memory, not time
                r += 1
                count += 1
                if progress is not None and count % progress_every == 0:
                    progress(count)
        finally:
            self.next_row = r
            for cell in cells:
                cell.flush()  # type: ignore[attr-defined]
        return count

    def _fast_cell(self, index: int, column: Column, add_total: Callable[[int, Any], None],
                   slow_cell: Callable[[int, Any], Any]) -> Callable[[Any, str], str]:
        """One column's cell: the value (None: no cell) and the row number as text to the cell's XML."""
        letter, kind, general = self.letters[index], column.kind, self.writers[index]
        prefix = f'<c r="{letter}'
        added = ZERO if kind is Kind.MONEY else 0
        counted = column.total

        def slow(value: Any, rs: str) -> str:
            value = slow_cell(index, value)  # converted and counted in the total by the caller's column writer
            return "" if value is None else general(letter, int(rs), value)

        if kind is Kind.TEXT:
            known: dict[str, str] = {}  # the first few plain values and their cells' ends: months, payers, types

            def cell(value: Any, rs: str) -> str:
                if type(value) is str:
                    end = known.get(value)
                    if end is None and _PLAIN_TEXT(value):
                        end = f'" t="inlineStr"><is><t>{value}</t></is></c>'
                        if len(known) < _KNOWN_TEXTS:
                            known[value] = end
                    if end is not None:
                        return f"{prefix}{rs}{end}"
                return "" if value is None else slow(value, rs)
        elif kind is Kind.MONEY:
            money = f'" s="{self.styles["money"]}"><v>'

            def cell(value: Any, rs: str) -> str:
                nonlocal added
                if type(value) is Decimal and value.is_finite():
                    value = value.quantize(CENT, ROUND_HALF_UP)  # billing.core.money.to_money, without its checks
                    if counted:
                        added += value
                    return f"{prefix}{rs}{money}{value:f}</v></c>"
                return "" if value is None else slow(value, rs)
        elif kind is Kind.DATE:
            day = f'" s="{self.styles["date"]}"><v>'

            def cell(value: Any, rs: str) -> str:
                nonlocal added
                if type(value) is date:
                    serial = value.toordinal() - _EXCEL_DAY0
                    if serial > 60:
                        if counted:
                            added += value  # as the column writer would (a date column is never totalled)
                        return f"{prefix}{rs}{day}{serial}.0</v></c>"
                return "" if value is None else slow(value, rs)
        else:
            def cell(value: Any, rs: str) -> str:
                nonlocal added
                if type(value) is int:
                    if counted:
                        added += value
                    return f"{prefix}{rs}\"><v>{value}</v></c>"
                return "" if value is None else slow(value, rs)

        def flush() -> None:
            nonlocal added
            if counted:
                add_total(index, added)
            added = ZERO if kind is Kind.MONEY else 0

        cell.flush = flush  # type: ignore[attr-defined]
        return cell

    def _writer_for(self, kind: Kind) -> Callable[[str, int, Any], str]:
        """A cell formatter per column, with the common case of its kind first (this runs a million times)."""
        money, day = self.styles["money"], self.styles["date"]

        def cell(letter: str, r: int, value: Any) -> str:
            if kind is Kind.MONEY and isinstance(value, Decimal):
                return f'<c r="{letter}{r}" s="{money}"><v>{value:f}</v></c>'
            if kind is Kind.DATE and isinstance(value, date):
                return f'<c r="{letter}{r}" s="{day}"><v>{to_excel(value)}</v></c>'
            if type(value) is str and not value.startswith(self.formula_triggers) and value == value.strip():
                return f'<c r="{letter}{r}" t="inlineStr"><is><t>{value.translate(_ESCAPES)}</t></is></c>'
            if type(value) is int:
                return f'<c r="{letter}{r}"><v>{value}</v></c>'
            return self._cell(f"{letter}{r}", kind, value, self.is_formula_like(value), None)

        return cell

    def write_styled(self, cells: Sequence[tuple[Any, int]]) -> None:
        """One row whose every cell has its own style (the totals row)."""
        r = self.next_row
        parts = [self._cell(f"{letter}{r}", kind, value, False, style)
                 for letter, kind, (value, style) in zip(self.letters, self.kinds, cells, strict=True)]
        self.file.write(f'<row r="{r}">{"".join(parts)}</row>')
        self.next_row += 1

    def _cell(self, ref: str, kind: Kind, value: Any, quoted: bool, style: int | None) -> str:
        if isinstance(value, str):
            if quoted:
                style = self.styles["quoted"]  # Excel's quote prefix: shown as typed, never evaluated
            s = f' s="{style}"' if style is not None else ""
            space = ' xml:space="preserve"' if value != value.strip() else ""
            return f'<c r="{ref}"{s} t="inlineStr"><is><t{space}>{value.translate(_ESCAPES)}</t></is></c>'
        if value is None:
            return f'<c r="{ref}" s="{style}"/>' if style is not None else ""
        if isinstance(value, bool):
            return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
        if isinstance(value, (datetime, date)):
            value, style = to_excel(value), self.styles["date"] if style is None else style
        elif style is None and kind is Kind.MONEY:
            style = self.styles["money"]
        s = f' s="{style}"' if style is not None else ""
        return f'<c r="{ref}"{s}><v>{_number(value)}</v></c>'

    def splice(self, sheet_path: str) -> None:
        """Copy the rows in where openpyxl wrote the marker; both files are streamed, never loaded whole."""
        comment = f"<!--{MARKER}-->"
        with open(sheet_path, encoding="utf-8") as sheet:
            head = sheet.read()  # title block and header only: the rows are not in this file
        before, found, after = head.partition(comment)
        if not found:
            raise RuntimeError("openpyxl did not write the rows marker; the sheet cannot be completed")
        spliced = f"{sheet_path}.rows"
        with open(spliced, "w", encoding="utf-8") as out:
            out.write(before)
            self.file.seek(0)
            shutil.copyfileobj(self.file, out, _COPY_CHUNK)
            out.write(after)
        self.file.close()
        os.replace(spliced, sheet_path)


def _number(value: Any) -> str:
    if isinstance(value, Decimal):
        return format(value, "f")
    return repr(value) if isinstance(value, float) else str(value)


def install(ws: WriteOnlyWorksheet, kinds: Sequence[Kind], styles: StyleIds, first_row: int,
            is_formula_like: Callable[[str], bool], formula_triggers: tuple[str, ...]) -> RawRows | None:
    """Leave a marker in `ws` and return the writer for its rows; None when openpyxl lacks what this needs."""
    if not LXML or not hasattr(ws, "_values_to_row") or not callable(getattr(ws, "close", None)):
        return None
    ws._get_writer()
    writer = getattr(ws, "_writer", None)
    if writer is None or not isinstance(getattr(writer, "out", None), str) or not hasattr(writer, "write_row"):
        return None
    from lxml.etree import Comment

    raw = RawRows(kinds, styles, first_row, is_formula_like, formula_triggers)
    plain_values_to_row, plain_write_row, plain_close = ws._values_to_row, writer.write_row, ws.close

    def values_to_row(values: Any, row_idx: int) -> Any:
        return values if isinstance(values, _Marker) else plain_values_to_row(values, row_idx)

    def write_row(xf: Any, row: Any, row_idx: int) -> None:
        if isinstance(row, _Marker):
            xf.write(Comment(MARKER))
        else:
            plain_write_row(xf, row, row_idx)

    def close() -> None:
        plain_close()
        raw.splice(writer.out)

    ws._values_to_row, writer.write_row, ws.close = values_to_row, write_row, close
    ws.append(_Marker())
    return raw
