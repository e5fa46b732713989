"""What the patient PDFs share: a letter page, a header with the practice and the document's facts, and tables.

reportlab's platypus lays out the flowables and breaks long tables over pages, repeating the header row.
Text from the database is escaped: platypus Paragraphs read a small markup, and a name holding "<" would
otherwise break the layout (or inject markup).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import inch
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from billing.ledger.invoices import Party
from exports.workbook import private_file

_STYLES = getSampleStyleSheet()
TITLE = ParagraphStyle("DocTitle", parent=_STYLES["Heading1"], fontSize=16, spaceAfter=4)
BODY = ParagraphStyle("DocBody", parent=_STYLES["BodyText"], fontSize=9, leading=11)
SMALL = ParagraphStyle("DocSmall", parent=BODY, fontSize=8, leading=10)
MARGIN = 0.6 * inch
WIDTH = LETTER[0] - 2 * MARGIN

_GRID = TableStyle([
    ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 8),
    ("FONT", (0, 1), (-1, -1), "Helvetica", 8),
    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#DDE4EE")),
    ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.black),
    ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.HexColor("#CCCCCC")),
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
])


def text(value: Any, style: ParagraphStyle = BODY) -> Paragraph:
    return Paragraph(escape(str(value)), style)


def party_block(title: str, party: Party) -> list[Paragraph]:
    return [Paragraph(f"<b>{escape(title)}</b>", SMALL), text(party.name), *(text(line) for line in party.lines)]


def header(title: str, sender: Party, recipient: Party, facts: Sequence[tuple[str, str]]) -> list[Flowable]:
    """The practice (who it is from) and the recipient side by side, then the document's own facts."""
    facts_table = Table([[text(name, SMALL), text(value)] for name, value in facts], colWidths=[1.2 * inch, 2 * inch])
    top = Table([[party_block("From", sender), facts_table]], colWidths=[WIDTH - 3.3 * inch, 3.3 * inch])
    top.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    to = Table([[party_block("To", recipient)]], colWidths=[WIDTH])
    return [Paragraph(escape(title), TITLE), top, Spacer(1, 10), to, Spacer(1, 12)]


def grid(head: Sequence[str], rows: Sequence[Sequence[Any]], widths: Sequence[float], *,
         money_from: int, total_rows: int = 0) -> Table:
    """A table with a repeated header row; columns from `money_from` on are right-aligned amounts."""
    body = [[c if isinstance(c, Flowable) else str(c) for c in row] for row in rows]
    table = Table([list(head), *body], colWidths=list(widths), repeatRows=1, hAlign="LEFT")
    table.setStyle(_GRID)
    table.setStyle(TableStyle([("ALIGN", (money_from, 0), (-1, -1), "RIGHT")]))
    if total_rows:
        table.setStyle(TableStyle([("FONT", (0, -total_rows), (-1, -1), "Helvetica-Bold", 8),
                                   ("LINEABOVE", (0, -total_rows), (-1, -total_rows), 0.5, colors.black)]))
    return table


def build(target: str | Path | IO[bytes], story: list[Flowable], *, title: str, footer: str) -> None:
    """Lay out `story` on letter pages, each footed with `footer` and its page number; files are owner-only."""
    if isinstance(target, str | Path):
        private_file(Path(target))  # patient data: readable by its owner only, whatever the umask
        target = str(target)  # reportlab takes a file name or a file object, not a Path

    def foot(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 7)
        canvas.drawString(MARGIN, 0.4 * inch, footer)
        canvas.drawRightString(LETTER[0] - MARGIN, 0.4 * inch, f"Page {doc.page}")
        canvas.restoreState()

    doc = SimpleDocTemplate(target, pagesize=LETTER, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
                            bottomMargin=0.7 * inch, title=title, author=footer)
    doc.build(story, onFirstPage=foot, onLaterPages=foot)
