"""CMS-1500 pages as a PDF with reportlab: data only (for the red OCR forms) or on plain paper with our boxes.

Data-only mode prints upper-case Courier at the grid cells of `grid.py`, moved by the installation's
printer offset; plain-paper mode adds a box and a small caption around each cell, our own drawing of
the form for payer portals that take a PDF. Both write every page of every claim into one file.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from reportlab.pdfgen.canvas import Canvas

from billing.core.errors import Invalid
from billing.submissions.paper.boxes import Page
from billing.submissions.paper.grid import (
    BOXES,
    CELL_HEIGHT,
    CELL_WIDTH,
    LINE_COLUMNS,
    LINE_ROWS,
    PAGE_HEIGHT,
    PAGE_WIDTH,
    Cell,
)

FONT = "Courier"
LABEL_FONT = "Helvetica"
FORM_NAME = "cms1500-plain"
#: A printer offset beyond half an inch is a wrong setting, not a misaligned tray.
MAX_OFFSET = 36.0


class Mode(StrEnum):
    DATA = "data"  # data only, onto the pre-printed red form
    PLAIN = "plain"  # boxes and captions drawn too, for plain paper and portals


@dataclass(frozen=True)
class Layout:
    mode: Mode = Mode.DATA
    font_size: float = 10.0  # Courier 10-12 pt: 10 pt Courier is exactly 10 characters an inch
    offset_x: float = 0.0  # points; positive moves the print right
    offset_y: float = 0.0  # points; positive moves the print down

    def __post_init__(self) -> None:
        if not 10 <= self.font_size <= 12:
            raise Invalid("The font size must be 10 to 12 points: the form's OCR reads Courier in that range.")
        for name, value in (("offset_x", self.offset_x), ("offset_y", self.offset_y)):
            if not math.isfinite(value) or abs(value) > MAX_OFFSET:
                raise Invalid(f"The printer offset {name} must be within {MAX_OFFSET:g} points (half an inch).")


def cell_origin(cell: Cell, layout: Layout, row: int | None = None) -> tuple[float, float]:
    """The baseline start of a cell's first character, in PDF points from the bottom left."""
    x = (cell.column - 1) * CELL_WIDTH + layout.offset_x
    baseline = (row if row is not None else cell.row) * CELL_HEIGHT - 2.5  # text sits just above the row's foot
    return x, PAGE_HEIGHT - baseline - layout.offset_y


def render(pages: Iterable[Page], layout: Layout = Layout()) -> bytes:
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=(PAGE_WIDTH, PAGE_HEIGHT), pageCompression=1)
    canvas.setTitle("CMS-1500 claims")
    count = 0
    if layout.mode is Mode.PLAIN:  # drawn once as a form XObject and placed on every page: 1,000 pages stay fast
        canvas.beginForm(FORM_NAME)
        _draw_form(canvas, layout)
        canvas.endForm()
    for page in pages:
        if layout.mode is Mode.PLAIN:
            canvas.doForm(FORM_NAME)
            canvas.setFont(LABEL_FONT, 6)
            canvas.drawRightString(PAGE_WIDTH - CELL_WIDTH, CELL_HEIGHT * 2,
                                   f"CLAIM {page.claim_number}  PAGE {page.number} OF {page.of}")  # fmt: skip
        canvas.setFont(FONT, layout.font_size)
        for key, value in page.boxes.items():
            _put(canvas, BOXES[key], value, layout)
        for row, line in zip(LINE_ROWS, page.lines, strict=False):
            for key, value in line.items():
                cell = LINE_COLUMNS[key]
                _put(canvas, cell, value, layout, row=row + cell.row)
        canvas.showPage()
        count += 1
    if not count:
        raise Invalid("There are no claims to print.")
    canvas.save()
    return out.getvalue()


def _put(canvas: Canvas, cell: Cell, value: str, layout: Layout, row: int | None = None) -> None:
    text = value[: cell.width]
    x, y = cell_origin(cell, layout, row)
    if cell.right:  # amounts end at the cell's last column, whatever their length
        x += (cell.width - len(text)) * CELL_WIDTH
    canvas.drawString(x, y, text)


def _draw_form(canvas: Canvas, layout: Layout) -> None:
    """Our own plain-paper rendition: a titled page, a labelled box per cell, the six line rows ruled."""
    canvas.setLineWidth(0.4)
    canvas.setFont(LABEL_FONT, 11)
    canvas.drawString(CELL_WIDTH, PAGE_HEIGHT - CELL_HEIGHT * 1.2, "HEALTH INSURANCE CLAIM FORM")
    canvas.setFont(LABEL_FONT, 6)
    canvas.drawString(CELL_WIDTH, PAGE_HEIGHT - CELL_HEIGHT * 2, "APPROVED BY NUCC 02/12 (PLAIN-PAPER RENDITION)")
    for cell in BOXES.values():
        _frame(canvas, cell, layout, cell.row)
    for row in LINE_ROWS:
        for cell in LINE_COLUMNS.values():
            _frame(canvas, cell, layout, row + cell.row, label=row == LINE_ROWS[0])
    canvas.setFont(LABEL_FONT, 6)


def _frame(canvas: Canvas, cell: Cell, layout: Layout, row: int, *, label: bool = True) -> None:
    x, baseline = cell_origin(cell, layout, row)
    bottom = baseline - 2.5
    canvas.rect(x - 1.5, bottom, cell.width * CELL_WIDTH + 3, CELL_HEIGHT, stroke=1, fill=0)
    if label and cell.label:
        canvas.setFont(LABEL_FONT, 4.5)
        canvas.drawString(x - 1, bottom + CELL_HEIGHT + 0.8, cell.label)
