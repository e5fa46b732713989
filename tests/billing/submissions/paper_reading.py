"""Reading a CMS-1500 PDF back by grid cell, and an 837P by element, so tests can compare the two.

The reader knows the grid (10 characters an inch, 6 lines an inch) but not the renderer: it finds the
Courier characters inside a cell's band and says where the first one starts.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import pdfplumber

from billing.submissions.paper.grid import BOXES, CELL_HEIGHT, CELL_WIDTH, LINE_COLUMNS, LINE_ROWS, Cell


@dataclass(frozen=True)
class Found:
    text: str
    x: float | None  # where its first character starts, in points from the left edge
    row: int


class FormPage:
    def __init__(self, chars: list[dict], offset: tuple[float, float] = (0.0, 0.0)) -> None:
        self.chars = [c for c in chars if "Courier" in c["fontname"]]
        self.labels = "".join(c["text"] for c in chars if "Courier" not in c["fontname"])
        self.offset_x, self.offset_y = offset

    def cell(self, cell: Cell, row: int | None = None) -> Found:
        row = cell.row if row is None else row
        top = (row - 1) * CELL_HEIGHT + self.offset_y
        left = (cell.column - 1) * CELL_WIDTH + self.offset_x
        right = left + cell.width * CELL_WIDTH
        inside = sorted(
            (c for c in self.chars
             if top < (c["top"] + c["bottom"]) / 2 < top + CELL_HEIGHT and left - 1 <= c["x0"] < right - 1),
            key=lambda c: c["x0"],
        )  # fmt: skip
        text = _joined(inside)
        return Found(text.strip(), inside[0]["x0"] if inside else None, row)

    def box(self, key: str) -> str:
        return self.cell(BOXES[key]).text

    def line(self, index: int, key: str) -> str:
        cell = LINE_COLUMNS[key]
        return self.cell(cell, LINE_ROWS[index] + cell.row).text

    def lines_used(self) -> int:
        return sum(1 for i in range(len(LINE_ROWS)) if self.line(i, "24d_code"))


def _joined(chars: list[dict]) -> str:
    """Characters in order, with a space wherever the gap to the next one is a whole cell or more."""
    out, last_end = [], None
    for c in chars:
        if last_end is not None and c["x0"] - last_end > CELL_WIDTH / 2:
            out.append(" " * round((c["x0"] - last_end) / CELL_WIDTH))
        out.append(c["text"])
        last_end = c["x1"]
    return "".join(out)


def read_pdf(data: bytes, offset: tuple[float, float] = (0.0, 0.0)) -> list[FormPage]:
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return [FormPage(page.chars, offset) for page in pdf.pages]


class X12:
    """An 837P's segments for one claim, from its CLM to the next claim's HL*..*22."""

    def __init__(self, text: str, claim_number: str) -> None:
        segments = [s.split("*") for s in text.split("~") if s]
        start = next(i for i, s in enumerate(segments) if s[0] == "CLM" and s[1] == claim_number)
        first = max(i for i in range(start) if segments[i][0] == "HL" and segments[i][3] == "22")
        end = next((i for i in range(start + 1, len(segments)) if segments[i][0] in ("HL", "SE")), len(segments))
        self.head = segments[first:start]  # 2000B/2000C: subscriber, payer, patient
        self.claim = segments[start:end]
        self.billing = [s for s in segments[:first] if s[0] in ("NM1", "REF", "PRV") and s[1] in ("85", "EI", "BI")]

    def find(self, tag: str, qualifier: str | None = None, within: str = "claim") -> list[list[str]]:
        pool = {"claim": self.claim, "head": self.head, "billing": self.billing}[within]
        return [s for s in pool if s[0] == tag and (qualifier is None or s[1] == qualifier)]

    def one(self, tag: str, qualifier: str | None = None, within: str = "claim") -> list[str]:
        found = self.find(tag, qualifier, within)
        assert len(found) == 1, (tag, qualifier, found)
        return found[0]

    def element(self, segment: list[str], position: int) -> str:
        return segment[position] if position < len(segment) else ""

    def service_lines(self) -> list[dict[str, object]]:
        """SV1 with its DTP*472, per LX."""
        lines: list[dict[str, object]] = []
        for s in self.claim:
            if s[0] == "SV1":
                lines.append({"sv1": s})
            elif s[0] == "DTP" and s[1] == "472":
                lines[-1]["date"] = s[3]
        return lines
