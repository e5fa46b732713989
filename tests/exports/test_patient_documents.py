"""The client ledger (PDF and Excel), invoices and receipts, read back: amounts and names as an independent sum
has them, and page 1 of each rendered to PNG by pdftoppm is not blank."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from decimal import Decimal

import openpyxl
import pytest
from reportlab.pdfgen.canvas import Canvas
from sqlalchemy import select

from billing.core.db import db
from billing.core.errors import NothingToDo
from billing.core.money import format_money
from billing.core.operation_keys import new_operation_key
from billing.ledger.models import LedgerEntry
from billing.payments.patient_payments import receive_patient_payment
from exports.patient_documents import invoice_file, ledger_file, receipt_file
from tests.worlds.patient_billing import VISIT_CHARGE, self_pay_visits
from tests.worlds.pdfs import inked_share, pdf_text
from tests.worlds.practice import DAY, SYSTEM

D = Decimal
NOW = datetime(2026, 4, 1, 12, 0, tzinfo=UTC)
TODAY = NOW.date()


@pytest.fixture
def billed(world):
    """Three self-pay visits of 100.00 and one payment of 130.00 applied oldest first."""
    world.client.responsible_party_name = "Dana Parent"
    world.client.first_name, world.client.last_name = "Robin", "O'Neil <Jr>"  # escaped, never read as markup
    claims = self_pay_visits(world, 3)
    payment = receive_patient_payment(world.client.id, D("130.00"), key=new_operation_key(), actor=SYSTEM,
                                      received_on=DAY, memo="check 2201").payment
    return claims, payment


def test_the_ledger_pdf_prints_every_entry_and_the_closing_balance(world, billed, tmp_path):
    claims, _ = billed
    path = tmp_path / "ledger.pdf"
    ledger_file(world.client.id, path, kind="pdf", start=None, end=None, today=TODAY, now=NOW, by="test")
    text = pdf_text(path.read_bytes())
    owed = 3 * VISIT_CHARGE - D("130.00")  # independent: three visits less the payment
    assert "Robin" in text
    assert "O'Neil <Jr>" in text
    assert "Dana Parent" in text
    assert f"Patient owes {format_money(owed)}" in text
    for claim in claims:
        assert claim.number in text
    entries = db.session.scalars(select(LedgerEntry)).all()
    assert text.count("Patient payment") == sum(1 for e in entries if e.kind.value == "patient_payment")
    assert inked_share(path, tmp_path) > 0.01


def test_the_ledger_workbook_holds_numbers_that_add_up(world, billed):
    out = io.BytesIO()
    ledger = ledger_file(world.client.id, out, kind="xlsx", start=None, end=None, today=TODAY, now=NOW, by="test")
    out.seek(0)
    sheet = openpyxl.load_workbook(out, read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    header = rows.index(next(r for r in rows if r and r[0] == "Posted"))
    data = [r for r in rows[header + 2:] if r and isinstance(r[1], int)]
    assert len(data) == len(ledger.rows)
    patient_moves = sum((D(str(r[8])) for r in data), D("0"))
    assert patient_moves == 3 * VISIT_CHARGE - D("130.00")
    assert D(str(data[-1][10])) == patient_moves  # the running patient balance, from an opening of zero


def test_the_invoice_pdf_asks_for_what_is_owed(world, billed, tmp_path):
    claims, _ = billed
    path = tmp_path / "invoice.pdf"
    invoice = invoice_file(path, today=TODAY, client_id=world.client.id)
    text = pdf_text(path.read_bytes())
    assert invoice.amount_due == D("170.00")  # 300.00 billed, 130.00 paid
    assert "Amount due $170.00" in text
    assert invoice.number in text
    assert "Dana Parent" in text
    assert claims[0].number not in text  # paid in full: not on the invoice
    assert claims[1].number in text
    assert inked_share(path, tmp_path) > 0.01


def test_a_session_invoice_holds_that_session_only_and_nothing_owed_is_refused(world, billed, tmp_path):
    claims, _ = billed
    session_id = claims[2].lines[0].session_id
    invoice = invoice_file(tmp_path / "s.pdf", today=TODAY, session_id=session_id)
    assert [i.claim for i in invoice.items] == [claims[2].number]
    assert invoice.amount_due == VISIT_CHARGE
    with pytest.raises(NothingToDo):
        invoice_file(tmp_path / "none.pdf", today=TODAY, session_id=claims[0].lines[0].session_id)


def test_the_receipt_pdf_shows_the_payment_and_how_it_was_applied(world, billed, tmp_path):
    claims, payment = billed
    path = tmp_path / "receipt.pdf"
    receipt = receipt_file(payment.id, path)
    text = pdf_text(path.read_bytes())
    assert receipt.number in text
    assert "Total received $130.00" in text
    assert f"{claims[0].number} $100.00" in text
    assert f"{claims[1].number} $30.00" in text
    assert "check 2201" in text
    assert "Balance remaining on the account: $170.00" in text
    assert inked_share(path, tmp_path) > 0.01


def test_the_blank_page_check_sees_a_blank_page(tmp_path):
    """The render check itself: an empty page has no ink, so the checks above mean something."""
    blank = tmp_path / "blank.pdf"
    canvas = Canvas(str(blank))
    canvas.showPage()
    canvas.save()
    assert inked_share(blank, tmp_path) < 0.001
