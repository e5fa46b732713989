"""`flask ledger check`: every money invariant over the live database; exit 1 listing each violation.

`flask ledger patient-balances`: what each client owes on the patient side (the reads statements build on).

`flask ledger client ID`: one client's ledger, entry by entry with running balances, or as a PDF / Excel file.

`flask ledger client-summary ID`: the client page's hub: balances, policies, authorizations, recent claims and sessions.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import click
from flask.cli import AppGroup

from billing.cli.output import RECORD_ID, emit, json_option, run_command
from billing.core.errors import Invalid
from billing.core.money import format_money, sum_money
from billing.core.time import practice_now, practice_today
from billing.ledger.client_hub import ClientHub, client_hub
from billing.ledger.client_ledger import ClientLedger, client_ledger
from billing.ledger.patient_balances import patient_accounts, patient_balance, patient_items
from billing.payments.invariants import check_ledger, total
from exports.patient_documents import LEDGER_FORMATS, ledger_file

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


def _ledger_text(ledger: ClientLedger) -> str:
    opening, closing = ledger.opening, ledger.closing
    lines = [f"Client ledger: {ledger.client} ({ledger.account})",
             f"{'Posted':10} {'Claim':9} {'Entry':40} {'Insurance':>10} {'Patient':>10} {'Ins. bal.':>10} "
             f"{'Pat. bal.':>10}",
             f"{'':10} {'':9} {'Brought forward':40} {'':>10} {'':>10} {opening.insurance:>10} {opening.patient:>10}"]
    lines += [f"{r.posted_on:%Y-%m-%d} {r.claim:9} {r.description[:40]:40} {r.change.insurance:>10} "
              f"{r.change.patient:>10} {r.balance.insurance:>10} {r.balance.patient:>10}" for r in ledger.rows]
    lines.append(f"{len(ledger.rows)} entries; insurance owes {format_money(closing.insurance)}, the patient owes "
                 f"{format_money(closing.patient)} (balance {format_money(closing.total)}).")
    return "\n".join(lines)


def _file_kind(output: str | None) -> str | None:
    if output is None:
        return None
    kind = Path(output).suffix.lower().lstrip(".")
    if kind not in LEDGER_FORMATS:
        raise Invalid(f"-o: write the ledger to a .pdf or .xlsx file, not {Path(output).name!r}.")
    return kind


@ledger_cli.command("client")
@click.argument("client_id", type=RECORD_ID)
@click.option("--from", "date_from", type=click.DateTime(["%Y-%m-%d"]), help="First posting date (YYYY-MM-DD).")
@click.option("--to", "date_to", type=click.DateTime(["%Y-%m-%d"]), help="Last posting date (YYYY-MM-DD).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="FILE.pdf or FILE.xlsx")
@json_option
def client_command(client_id: int, date_from: datetime | None, date_to: datetime | None, output: str | None,
                   as_json: bool) -> None:
    """Every charge, payment, adjustment, transfer and reversal on a client's claims, with running insurance and
    patient balances; with -o, the same as a PDF or an Excel file."""
    start, end = (d.date() if d else None for d in (date_from, date_to))

    def run() -> ClientLedger:
        kind = _file_kind(output)
        if output is None or kind is None:
            return client_ledger(client_id, start=start, end=end)
        return ledger_file(client_id, output, kind=kind, start=start, end=end, today=practice_today(),
                           now=practice_now(), by="cli")

    run_command(run, as_json=as_json, data=lambda led: {**led.as_dict(), "file": output},
                text=lambda led: f"Wrote the ledger of {led.client} ({len(led.rows)} entries) to {output}."
                if output else _ledger_text(led))


def _hub_text(hub: ClientHub) -> str:
    t = hub.totals
    lines = [f"{hub.client.full_name} ({hub.client.account_number}): insurance A/R {format_money(t.insurance_ar)}, "
             f"patient balance {format_money(t.patient_balance)}, credit {format_money(t.credit)}"]
    lines += [f"  policy {p.rank.value:<9} {p.payer.name} {p.member_id}" for p in hub.policies]
    lines += [f"  auth {a.authorization.number}: {a.remaining} of {a.authorization.units_approved} units left"
              for a in hub.authorizations]
    lines += [f"  claim {r.claim.number} {r.claim.service_date:%m/%d/%Y} {r.claim.status.label:<9} "
              f"balance {format_money(r.balance)}" for r in hub.claims]
    lines.append(f"  {hub.claim_count} claim(s), {hub.session_count} session(s) in all")
    return "\n".join(lines)


@ledger_cli.command("client-summary")
@click.argument("client_id", type=RECORD_ID)
@json_option
def client_summary_command(client_id: int, as_json: bool) -> None:
    """What the client page shows: insurance A/R, patient balance and credit, policies, authorizations with the units
    left, and the latest claims and sessions."""
    today = practice_today()
    run_command(lambda: client_hub(client_id), as_json=as_json, data=lambda hub: hub.as_dict(today), text=_hub_text)
