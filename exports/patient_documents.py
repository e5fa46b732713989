"""The documents a biller prints for a patient: the client ledger (PDF or Excel), an invoice, a payment receipt.

Views and commands call one function here each; the data comes from the ledger and payments layers, the drawing
from exports.pdf and exports.client_ledger_xlsx.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import IO

from billing.core.db import db
from billing.core.errors import NotFound
from billing.ledger.client_ledger import ClientLedger, client_ledger
from billing.ledger.invoices import Invoice, bill_to, client_invoice, practice_party, session_invoice
from billing.ledger.patient_balances import patient_balance
from billing.payments.patient_payments import applied, patient_payment
from billing.people.models import Client
from exports.client_ledger_xlsx import write_ledger_xlsx
from exports.pdf.client_ledger import write_ledger_pdf
from exports.pdf.invoice import write_invoice_pdf
from exports.pdf.receipt import Receipt, write_receipt_pdf

Target = str | Path | IO[bytes]
#: The download formats of the client ledger, by file extension.
LEDGER_FORMATS = ("pdf", "xlsx")


def _client(client_id: int) -> Client:
    client = db.session.get(Client, client_id)
    if client is None:
        raise NotFound(f"No client {client_id}.")
    return client


def ledger_file(client_id: int, target: Target, *, kind: str, start: date | None, end: date | None, today: date,
                now: datetime, by: str) -> ClientLedger:
    """Write the client's ledger as `kind` ("pdf" or "xlsx") and return what was written."""
    ledger = client_ledger(client_id, start=start, end=end)
    client = _client(client_id)
    practice = practice_party(client.location.practice.company)
    if kind == "xlsx":
        write_ledger_xlsx(ledger, practice.name, target, generated_at=now, generated_by=by)
    else:
        write_ledger_pdf(ledger, practice, bill_to(client), target, printed_on=today)
    return ledger


def invoice_file(target: Target, *, today: date, client_id: int | None = None,
                 session_id: int | None = None) -> Invoice:
    """An invoice PDF for what a client owes (all their claims) or what one session's claims owe."""
    invoice = session_invoice(session_id, today=today) if session_id is not None else \
        client_invoice(client_id or 0, today=today)
    write_invoice_pdf(invoice, target)
    return invoice


def receipt_of(payment_id: int) -> Receipt:
    payment = patient_payment(payment_id)
    client = payment.client
    return Receipt(payment.number, payment.received_on, payment.amount, payment.memo or "", payment.applied_by,
                   practice_party(client.location.practice.company), bill_to(client), client.full_name,
                   client.account_number, applied(payment), patient_balance(client.id))


def receipt_file(payment_id: int, target: Target) -> Receipt:
    receipt = receipt_of(payment_id)
    write_receipt_pdf(receipt, target)
    return receipt
