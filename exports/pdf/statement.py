"""A patient statement as a PDF: a letter page laid out for a #10 double-window envelope, with a tear-off remit stub.

Page 1 is tri-folded so its top third faces the envelope: the practice's return address sits behind the upper
window and the recipient's address behind the lower one (positions below, measured from the sheet's top-left
corner; a practice using another envelope adjusts them here). The bottom third is the remit stub the family tears
off along the dashed line and mails back with the payment. Activity that does not fit on page 1 continues on the
next pages; the amount due, aging and dunning message always print on page 1, above the stub.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any

from reportlab.lib.pagesizes import LETTER
from reportlab.lib.units import inch
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, PageTemplate, Paragraph, Spacer

from billing.core.money import format_money
from billing.ledger.invoices import Party
from billing.ledger.statement_aging import BUCKET_LABELS
from billing.ledger.statements import Statement
from exports.pdf.documents import BODY, MARGIN, SMALL, WIDTH, grid, text
from exports.workbook import private_file

PAGE_W, PAGE_H = LETTER
#: (left, top, width, height) in inches from the sheet's top-left: where the #10 double-window envelope's windows
#: fall on a letter sheet folded in thirds (windows 3 5/8 x 1 1/8 in. and 4 x 1 1/8 in.), with 1/16 in. of play.
RETURN_WINDOW = (0.6, 0.6, 3.4, 1.0)
RECIPIENT_WINDOW = (0.9, 2.1, 3.8, 1.0)
#: The tear-off line, in inches above the bottom edge; the stub is everything below it.
STUB_TOP = 3.5
#: The band above the stub holding the amount due, aging and dunning message.
SUMMARY_TOP = 4.6
#: Where page 1's activity starts (inches from the top): below the envelope's fold.
BODY_TOP = 3.35

ACTIVITY_HEAD = ["Date", "Client", "Claim", "Description", "Insurance", "You"]
_MONEY = 0.85 * inch
ACTIVITY_WIDTHS = [0.75 * inch, 1.3 * inch, 0.85 * inch]
ACTIVITY_WIDTHS += [WIDTH - sum(ACTIVITY_WIDTHS) - 2 * _MONEY, _MONEY, _MONEY]


def _y(top_inches: float) -> float:
    """A distance from the sheet's top as reportlab's y (from the bottom)."""
    return PAGE_H - top_inches * inch


def _lines(canvas: Any, x: float, y: float, lines: list[str], *, size: float = 9, bold_first: bool = False,
           max_chars: int = 48) -> None:
    for number, line in enumerate(lines):
        canvas.setFont("Helvetica-Bold" if bold_first and number == 0 else "Helvetica", size)
        canvas.drawString(x, y - number * (size + 2), line[:max_chars])


def _party_lines(party: Party) -> list[str]:
    return [party.name, *party.lines]


def _names(statement: Statement) -> str:
    return "; ".join(c.name for c in statement.clients)  # names are "Last, First": a comma would mix them up


def _facts(statement: Statement) -> list[tuple[str, str]]:
    return [("Statement date", f"{statement.statement_on:%m/%d/%Y}"), ("Account", statement.account),
            ("Statement", statement.number), ("Due date", f"{statement.due_on:%m/%d/%Y}"),
            ("Amount due", format_money(statement.amount_due))]


def _draw_facts(canvas: Any, facts: list[tuple[str, str]], x: float, top: float) -> None:
    for number, (name, value) in enumerate(facts):
        y = top - number * 12
        canvas.setFont("Helvetica", 8)
        canvas.drawString(x, y, name)
        canvas.setFont("Helvetica-Bold", 9)
        canvas.drawRightString(PAGE_W - MARGIN, y, value)


def _envelope_top(canvas: Any, statement: Statement) -> None:
    left, top, _, _ = RETURN_WINDOW
    _lines(canvas, left * inch, _y(top) - 9, _party_lines(statement.practice), bold_first=True)
    left, top, _, _ = RECIPIENT_WINDOW
    _lines(canvas, left * inch, _y(top) - 10, [n.upper() for n in _party_lines(statement.recipient)], size=10)
    canvas.setFont("Helvetica-Bold", 16)
    canvas.drawString(5.0 * inch, _y(0.75), "STATEMENT")
    _draw_facts(canvas, _facts(statement), 5.0 * inch, _y(1.05))
    clients = _names(statement)
    canvas.setFont("Helvetica", 8)
    canvas.drawString(5.0 * inch, _y(1.05) - 5 * 12 - 4, f"For: {clients}"[:60])


def _summary(canvas: Any, statement: Statement) -> None:
    """Aging buckets and the amount due in a row, then the dunning message (page 1, above the stub)."""
    top = SUMMARY_TOP * inch - 8
    columns = [*BUCKET_LABELS, "Amount due"]
    amounts = [*statement.aging.buckets, statement.amount_due]
    width = WIDTH / len(columns)
    canvas.setLineWidth(0.5)
    canvas.rect(MARGIN, top - 30, WIDTH, 36)
    for number, (label, amount) in enumerate(zip(columns, amounts, strict=True)):
        x = MARGIN + number * width + width / 2
        canvas.setFont("Helvetica", 8)
        canvas.drawCentredString(x, top - 8, label)
        canvas.setFont("Helvetica-Bold", 10)
        canvas.drawCentredString(x, top - 23, format_money(amount))
    if statement.dunning:
        canvas.setFont("Helvetica-Oblique", 9)
        canvas.drawString(MARGIN, top - 48, statement.dunning.message[:120])


def _stub(canvas: Any, statement: Statement) -> None:
    """The remit stub: what the family writes on and sends back, addressed to the pay-to address."""
    canvas.saveState()
    canvas.setDash(4, 3)
    canvas.line(0.25 * inch, STUB_TOP * inch, PAGE_W - 0.25 * inch, STUB_TOP * inch)
    canvas.restoreState()
    canvas.setFont("Helvetica", 7)
    canvas.drawCentredString(PAGE_W / 2, STUB_TOP * inch - 12,
                             "Please detach and return this portion with your payment.")
    top = STUB_TOP * inch - 34
    canvas.setFont("Helvetica-Bold", 11)
    canvas.drawString(MARGIN, top, "PAYMENT STUB")
    stub_facts = [*_facts(statement), ("Amount enclosed", "$ ____________")]
    for number, (name, value) in enumerate(stub_facts):
        y = top - 18 - number * 14
        canvas.setFont("Helvetica", 8)
        canvas.drawString(MARGIN, y, name)
        canvas.setFont("Helvetica-Bold", 9)
        canvas.drawString(MARGIN + 1.2 * inch, y, value)
    _lines(canvas, MARGIN, top - 18 - len(stub_facts) * 14 - 8,
           [f"From: {statement.recipient.name}", f"For: {_names(statement)}"], size=8,
           max_chars=70)
    canvas.setFont("Helvetica", 8)
    canvas.drawString(4.6 * inch, top, "Make checks payable to and mail to:")
    mail_to = [n for n in _party_lines(statement.practice) if not n.startswith("Phone")]  # an address only
    _lines(canvas, 4.6 * inch, top - 16, [n.upper() for n in mail_to], size=10)


def _activity(statement: Statement) -> list[Flowable]:
    rows: list[list[object]] = [
        [f"{a.posted_on:%m/%d/%Y}", part.name, a.claim, text(a.description, SMALL), format_money(a.insurance),
         format_money(a.patient)]
        for part in statement.clients for a in part.activity]
    since = [p.previous_on for p in statement.clients if p.previous_on]
    title = f"Activity since your last statement ({max(since):%m/%d/%Y})" if since else "Account activity"
    story: list[Flowable] = [Paragraph(f"<b>{title}</b>", BODY), Spacer(1, 4)]
    if not rows:
        return [*story, text("No new charges or payments since your last statement.", SMALL)]
    balances = [["", part.name, "", "Balance", "", format_money(part.balance)] for part in statement.clients]
    return [*story, grid(ACTIVITY_HEAD, rows + balances, ACTIVITY_WIDTHS, money_from=4,
                         total_rows=len(balances))]


def statement_story(statement: Statement) -> list[Flowable]:
    return _activity(statement)


def write_statement_pdf(statement: Statement, target: str | Path | IO[bytes]) -> None:
    """One statement; page 1 carries the envelope addresses, the summary and the stub."""
    if isinstance(target, str | Path):
        private_file(Path(target))  # patient data: owner-only
        target = str(target)
    footer = f"{statement.practice.name} - statement {statement.number} - account {statement.account}"

    def first(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        _envelope_top(canvas, statement)
        _summary(canvas, statement)
        _stub(canvas, statement)
        canvas.restoreState()

    def later(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 7)
        canvas.drawString(MARGIN, 0.4 * inch, footer)
        canvas.drawRightString(PAGE_W - MARGIN, 0.4 * inch, f"Page {doc.page}")
        canvas.restoreState()

    # Page 1's activity fits between the fold and the summary band; later pages use the whole sheet.
    first_frame = Frame(MARGIN, SUMMARY_TOP * inch + 6, WIDTH, _y(BODY_TOP) - SUMMARY_TOP * inch - 6, id="first")
    later_frame = Frame(MARGIN, 0.7 * inch, WIDTH, PAGE_H - MARGIN - 0.7 * inch, id="later")
    doc = BaseDocTemplate(target, pagesize=LETTER, title=f"Statement {statement.number}", author=footer)
    doc.addPageTemplates([PageTemplate("first", [first_frame], onPage=first, autoNextPageTemplate="later"),
                          PageTemplate("later", [later_frame], onPage=later)])
    doc.build(statement_story(statement))
