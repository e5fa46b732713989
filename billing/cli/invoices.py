"""`flask invoices client ID -o FILE.pdf` and `flask invoices session ID -o FILE.pdf`: one-off patient invoices."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from billing.cli.output import RECORD_ID, json_option, run_command
from billing.core.money import format_money
from billing.core.time import practice_today
from billing.ledger.invoices import Invoice
from exports.patient_documents import invoice_file

invoices_cli = AppGroup("invoices", help="One-off invoices to a patient or responsible party (PDF).")
OUTPUT = click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), required=True,
                      help="FILE.pdf")


def _print(invoice_of: dict[str, int], output: str, as_json: bool) -> None:
    run_command(lambda: invoice_file(output, today=practice_today(), **invoice_of), as_json=as_json,
                text=lambda inv: f"Invoice {inv.number} to {inv.bill_to.name}: {format_money(inv.amount_due)} due "
                                 f"{inv.due_on:%m/%d/%Y}, written to {output}.",
                data=lambda inv: {"ok": True, **Invoice.as_dict(inv), "file": output})


@invoices_cli.command("client")
@click.argument("client_id", type=RECORD_ID)
@OUTPUT
@json_option
def client_command(client_id: int, output: str, as_json: bool) -> None:
    """An invoice for everything the client (or their responsible party) owes now, claim by claim."""
    _print({"client_id": client_id}, output, as_json)


@invoices_cli.command("session")
@click.argument("session_id", type=RECORD_ID)
@OUTPUT
@json_option
def session_command(session_id: int, output: str, as_json: bool) -> None:
    """An invoice for what the patient owes on the claims of one session."""
    _print({"session_id": session_id}, output, as_json)
