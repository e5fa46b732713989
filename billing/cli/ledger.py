"""`flask ledger check`: every money invariant over the live database; exit 1 listing each violation.

`flask ledger patient-balances`: what each client owes on the patient side (the reads statements build on).
"""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from billing.cli.output import RECORD_ID, emit, json_option
from billing.core.money import format_money, sum_money
from billing.ledger.patient_balances import patient_accounts, patient_balance, patient_items
from billing.payments.invariants import check_ledger, total

ledger_cli = AppGroup("ledger", help="The money's invariants, checked on this database.")


@ledger_cli.command("check")
@json_option
def check_command(as_json: bool) -> None:
    """Balances, remittance totals, reversal links, credits and open lines; exits 1 on any violation."""
    violations = check_ledger()
    counts = total(violations)
    lines = [str(v) for v in violations] or ["The ledger holds every invariant."]
    summary = ", ".join(f"{name} {count}" for name, count in counts.items())
    emit(as_json, {"ok": not violations, "counts": counts, "violations": [v.as_dict() for v in violations]},
         "\n".join([*lines, f"Checked: {summary}."]))
    if violations:
        sys.exit(1)


@ledger_cli.command("patient-balances")
@click.option("--client", "client_id", type=RECORD_ID, default=None, help="One client's claims, line by line.")
@click.option("--all", "show_all", is_flag=True, help="Also clients who owe nothing now.")
@json_option
def patient_balances_command(client_id: int | None, show_all: bool, as_json: bool) -> None:
    """What each client owes on the patient side (self-pay charges, PR shares), for statements and follow-up."""
    if client_id is not None:
        items = patient_items(client_id)
        lines = [f"{i.number}  {i.service_date:%m/%d/%Y}  {i.status.value:<9} {'self-pay ' if i.self_pay else ''}"
                 f"billed {i.billed}  paid {i.paid}  owes {i.balance}" for i in items]
        owed = patient_balance(client_id)
        emit(as_json, {"client_id": client_id, "balance": str(owed), "claims": [i.as_dict() for i in items]},
             "\n".join([*lines, f"Client {client_id} owes {format_money(owed)}."]))
        return
    accounts = patient_accounts(open_only=not show_all)
    lines = [f"{a.account:<12} {a.client:<30} billed {a.billed}  paid {a.paid}  owes {a.balance}" for a in accounts]
    owed = sum_money(a.balance for a in accounts)
    emit(as_json, {"clients": [a.as_dict() for a in accounts], "total": str(owed)},
         "\n".join([*lines, f"{len(accounts)} clients; patient A/R {format_money(owed)}."]))
