"""`flask ledger client`, `flask payments patient-payment --oldest-first`, `flask payments receipt` and
`flask invoices`: JSON fields, files written, refusals in one line with nothing changed."""

from __future__ import annotations

import json
from decimal import Decimal

import openpyxl
import pytest
from sqlalchemy import func, select

from billing.core.db import db
from billing.ledger.models import LedgerEntry
from billing.payments.patient_payment_models import PatientPayment
from tests.worlds.patient_billing import self_pay_visits
from tests.worlds.pdfs import pdf_text

D = Decimal


@pytest.fixture
def flask(app):
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=list(args))


def _entries() -> int:
    return db.session.scalar(select(func.count()).select_from(LedgerEntry))


def test_oldest_first_pays_across_claims_and_a_repeated_key_posts_nothing(flask, world):
    claims = self_pay_visits(world, 2)
    key = "cli-key-0123456789abcdef"
    args = ["payments", "patient-payment", str(world.client.id), "150.00", "--oldest-first", "--key", key, "--json"]
    first = flask(*args)
    assert first.exit_code == 0, first.output
    done = json.loads(first.output)
    assert done["claims"] == [{"claim": claims[0].number, "amount": "100.00"},
                              {"claim": claims[1].number, "amount": "50.00"}]
    assert done["patient_balance"] == "50.00"
    entries = _entries()
    again = json.loads(flask(*args).output)
    assert again["repeated"]
    assert again["receipt"] == done["receipt"]
    assert _entries() == entries


def test_a_payment_on_one_claim_still_works_and_gets_a_receipt(flask, world, tmp_path):
    claims = self_pay_visits(world, 2)
    result = flask("payments", "patient-payment", claims[1].number, "25.00", "--memo", "cash", "--json")
    assert result.exit_code == 0, result.output
    payment_id = json.loads(result.output)["payment_id"]
    out = tmp_path / "r.pdf"
    written = flask("payments", "receipt", str(payment_id), "-o", str(out))
    assert written.exit_code == 0, written.output
    text = pdf_text(out.read_bytes())
    assert f"{claims[1].number} $25.00" in text
    assert "cash" in text


def test_refusals_are_one_line_and_change_nothing(flask, world, tmp_path):
    self_pay_visits(world, 1)
    db.session.commit()  # the command commits or rolls back its own unit of work
    entries = _entries()
    too_much = flask("payments", "patient-payment", str(world.client.id), "100.01", "--oldest-first", "--json")
    assert too_much.exit_code == 1
    assert json.loads(too_much.output)["problems"][0].startswith("overpayment")
    not_a_client = flask("payments", "patient-payment", "C-1", "1.00", "--oldest-first")
    assert not_a_client.exit_code == 1
    assert "Traceback" not in not_a_client.output
    missing = flask("payments", "receipt", "999999", "-o", str(tmp_path / "never.pdf"))
    assert missing.exit_code == 1
    assert "No patient payment" in missing.output
    assert not (tmp_path / "never.pdf").exists()
    assert _entries() == entries
    assert db.session.scalar(select(func.count()).select_from(PatientPayment)) == 0


def test_ledger_client_prints_json_and_writes_pdf_and_xlsx(flask, world, tmp_path):
    self_pay_visits(world, 2)
    flask("payments", "patient-payment", str(world.client.id), "120.00", "--oldest-first")
    shown = flask("ledger", "client", str(world.client.id), "--json")
    assert shown.exit_code == 0, shown.output
    ledger = json.loads(shown.output)
    assert ledger["closing"] == {"insurance": "0.00", "patient": "80.00", "total": "80.00"}
    assert sum(D(e["patient"]) for e in ledger["entries"]) == D("80.00")
    pdf, xlsx = tmp_path / "l.pdf", tmp_path / "l.xlsx"
    assert flask("ledger", "client", str(world.client.id), "-o", str(pdf)).exit_code == 0
    assert "Patient owes $80.00" in pdf_text(pdf.read_bytes())
    assert flask("ledger", "client", str(world.client.id), "-o", str(xlsx)).exit_code == 0
    book = openpyxl.load_workbook(xlsx, read_only=True)  # read-only keeps the file open until closed
    try:
        assert book.active["A1"].value == "Client ledger"
    finally:
        book.close()
    wrong = flask("ledger", "client", str(world.client.id), "-o", str(tmp_path / "l.doc"))
    assert wrong.exit_code == 1
    assert ".pdf or .xlsx" in wrong.output
    reversed_range = flask("ledger", "client", str(world.client.id), "--from", "2026-05-01", "--to", "2026-04-01")
    assert reversed_range.exit_code == 1
    assert "start date" in reversed_range.output


def test_invoices_for_a_client_and_a_session(flask, world, tmp_path):
    claims = self_pay_visits(world, 2)
    out = tmp_path / "i.pdf"
    result = flask("invoices", "client", str(world.client.id), "-o", str(out), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["amount_due"] == "200.00"
    assert "Amount due $200.00" in pdf_text(out.read_bytes())
    session_id = claims[0].lines[0].session_id
    one = json.loads(flask("invoices", "session", str(session_id), "-o", str(out), "--json").output)
    assert [i["claim"] for i in one["items"]] == [claims[0].number]
    nothing = flask("invoices", "client", "999999", "-o", str(out))
    assert nothing.exit_code == 1
