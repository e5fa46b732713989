"""Statement PDFs read back with pdfplumber: the addresses sit behind the #10 double-window envelope's windows,
the remit stub below the tear-off line, amounts as the hand sum has them; page 1 rendered by pdftoppm is inked;
a cycle writes one PDF per statement and the mail CSV, and only a real run records history."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pdfplumber
from sqlalchemy import func, select

from billing.core.db import db
from billing.ledger.statement_models import StatementRecord
from billing.ledger.statements import statement_for
from exports.pdf.statement import RECIPIENT_WINDOW, RETURN_WINDOW, STUB_TOP
from exports.statements import MAIL_COLUMNS, run_statement_files, statement_preview
from tests.worlds.pdfs import inked_share, pdf_pages, pdf_text
from tests.worlds.practice import DAY, SYSTEM
from tests.worlds.statements import CLAIM_CHARGE, STATEMENT_DAY, family_member, owed_claim, patient_pays

D = Decimal
TODAY = STATEMENT_DAY
INCH = 72


def _words(data: bytes, page: int = 0) -> list[dict]:
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return pdf.pages[page].extract_words()


def _inside(word: dict, box: tuple[float, float, float, float]) -> bool:
    left, top, width, height = (v * INCH for v in box)
    return left <= word["x0"] and word["x1"] <= left + width and top <= word["top"] and word["bottom"] <= top + height


def _family(world):
    ana = family_member(world, parent="Dana Rivera", first="Ana")
    ben = family_member(world, parent="Dana Rivera", first="Ben")
    first = owed_claim(ana, billed_on=DAY + timedelta(days=10))
    owed_claim(ben, billed_on=DAY + timedelta(days=100))
    patient_pays(first, D("23.48"), on=DAY + timedelta(days=20))
    return ana, ben


def test_addresses_sit_behind_the_envelope_windows_and_the_stub_below_the_tear_line(world, tmp_path):
    ana, _ = _family(world)
    path = tmp_path / "s.pdf"
    statement = statement_preview(ana.client.id, path, today=TODAY)
    data = path.read_bytes()
    words = _words(data)
    recipient = [w for w in words if w["text"] in ("DANA", "RIVERA")]
    assert recipient
    assert all(_inside(w, RECIPIENT_WINDOW) for w in recipient[:2])
    assert any(w["text"] == "62701-1234" and _inside(w, RECIPIENT_WINDOW) for w in words)
    practice_first = world.company.legal_name.split()[0]
    assert any(w["text"] == practice_first and _inside(w, RETURN_WINDOW) for w in words)
    stub = next(w for w in words if w["text"] == "STUB")
    assert stub["top"] > (11 - STUB_TOP) * INCH  # below the tear-off line (pdfplumber measures from the top)
    text = pdf_text(data)
    owed = 2 * CLAIM_CHARGE - D("23.48")  # independent: two claims billed to the family less the payment
    assert statement.amount_due == owed
    assert text.count(f"${owed:,.2f}") >= 3  # the header facts, the summary band and the stub
    assert statement.account in text
    assert "Please detach and return this portion with your payment." in text
    assert "Ana" in text and "Ben" in text  # noqa: PT018 - both children on their parent's statement
    assert "Amount enclosed" in text


def test_page_one_renders_with_ink(world, tmp_path):
    ana, _ = _family(world)
    path = tmp_path / "s.pdf"
    statement_preview(ana.client.id, path, today=TODAY)
    assert inked_share(path, tmp_path) > 0.01


def test_long_activity_continues_on_a_second_page_and_the_stub_stays_on_page_one(world, tmp_path):
    member = family_member(world, parent=None)
    for n in range(14):
        owed_claim(member, billed_on=DAY + timedelta(days=10 + n), day=DAY + timedelta(days=n % 5))
    path = tmp_path / "s.pdf"
    statement_preview(member.client.id, path, today=TODAY)
    pages = pdf_pages(path.read_bytes())
    assert len(pages) >= 2
    assert "PAYMENT STUB" in pages[0]
    assert "PAYMENT STUB" not in pages[1]
    assert f"${CLAIM_CHARGE * 14:,.2f}" in pages[0]


def test_a_cycle_writes_pdfs_and_the_mail_csv_and_a_dry_run_records_nothing(world, tmp_path):
    _family(world)
    adult = family_member(world, parent=None, first="Eve", street="5 Birch Ln")
    owed_claim(adult, billed_on=DAY + timedelta(days=30))
    dry = run_statement_files(tmp_path / "dry", today=TODAY, actor=SYSTEM, dry_run=True, minimum=D("0"))
    assert db.session.scalar(select(func.count(StatementRecord.id))) == 0
    assert sorted(p.name for p in (tmp_path / "dry").glob("*.pdf")) == sorted(p.name for p in dry.pdfs)
    assert len(dry.pdfs) == 2
    sent = run_statement_files(tmp_path / "real", today=TODAY, actor=SYSTEM, minimum=D("0"))
    assert sent.cycle.recorded == 2
    assert db.session.scalar(select(func.count(StatementRecord.id))) == 3  # one row per client
    with sent.csv.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == MAIL_COLUMNS
    by_name = {r["recipient"]: r for r in rows}
    assert by_name["Dana Rivera"]["amount_due"] == str(2 * CLAIM_CHARGE - D("23.48"))
    assert by_name["Dana Rivera"]["zip"] == "62701-1234"
    assert by_name["Eve Rivera"]["amount_due"] == str(CLAIM_CHARGE)
    assert by_name["Eve Rivera"]["address_line1"] == "5 Birch Ln"
    assert (tmp_path / "real" / by_name["Eve Rivera"]["file"]).is_file()


def test_a_name_that_looks_like_a_formula_stays_text_in_the_csv(world, tmp_path):
    member = family_member(world, parent="=HYPERLINK(1)", first="Zed")
    owed_claim(member, billed_on=DAY + timedelta(days=30))
    files = run_statement_files(tmp_path, today=TODAY, actor=SYSTEM, dry_run=True, minimum=D("0"))
    text = files.csv.read_text(encoding="utf-8")
    assert "'=HYPERLINK(1)" in text
    assert statement_for(member.client.id, today=TODAY).recipient.name == "=HYPERLINK(1)"
