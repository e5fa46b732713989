"""`flask statements run [--dry-run] -o DIR`, `flask statements preview CLIENT_ID -o FILE.pdf` and
`flask statements history CLIENT_ID`."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from billing.cli.output import RECORD_ID, json_option, run_command
from billing.core.audit import Actor
from billing.core.money import format_money
from billing.core.time import practice_today
from billing.ledger.statement_models import StatementRecord
from billing.ledger.statements import Statement, statement_history
from exports.statements import CycleFiles, run_statement_files, statement_preview

statements_cli = AppGroup("statements", help="Patient statements: cycles on paper (PDFs and a mail vendor CSV).")


def _summary(files: CycleFiles) -> str:
    cycle = files.cycle
    verb = "Dry run: would send" if files.dry_run else "Sent"
    return (f"{verb} {len(cycle.statements)} statement(s), {format_money(cycle.total_due)} due; "
            f"{len(cycle.skipped)} skipped; PDFs and {files.csv.name if files.csv else 'no CSV'} in {files.folder}.")


@statements_cli.command("run")
@click.option("-o", "--output", type=click.Path(file_okay=False), required=True, help="DIR for the PDFs and CSV")
@click.option("--dry-run", is_flag=True, help="Write the files but record nothing in the statement history.")
@json_option
def run_command_(output: str, dry_run: bool, as_json: bool) -> None:
    """Run a statement cycle today: one PDF per responsible party owing at least the minimum, and a CSV."""
    run_command(lambda: run_statement_files(output, today=practice_today(), actor=Actor.system("cli statements"),
                                            dry_run=dry_run),
                as_json=as_json, text=_summary, data=CycleFiles.as_dict)


@statements_cli.command("preview")
@click.argument("client_id", type=RECORD_ID)
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), required=True, help="FILE.pdf")
@json_option
def preview_command(client_id: int, output: str, as_json: bool) -> None:
    """The statement this client's responsible party would get today (nothing recorded; ignores the minimum)."""
    run_command(lambda: statement_preview(client_id, output, today=practice_today()), as_json=as_json,
                text=lambda s: f"Statement {s.number} to {s.recipient.name}: {format_money(s.amount_due)} due "
                               f"{s.due_on:%m/%d/%Y}, written to {output}.",
                data=lambda s: {"ok": True, **Statement.as_dict(s), "file": output})


@statements_cli.command("history")
@click.argument("client_id", type=RECORD_ID)
@json_option
def history_command(client_id: int, as_json: bool) -> None:
    """The statements this client was sent: when, which, to whom, for how much; newest first."""
    def lines(records: list[StatementRecord]) -> str:
        if not records:
            return f"No statements sent to client {client_id}."
        return "\n".join(f"{r.statement_on:%m/%d/%Y}  {r.number}  to {r.addressed_to}: client "
                         f"{format_money(r.client_balance)} of {format_money(r.amount_due)} due" for r in records)

    run_command(lambda: statement_history(client_id), as_json=as_json, text=lines,
                data=lambda records: {"client_id": client_id, "statements": [_record(r) for r in records]})


def _record(record: StatementRecord) -> dict[str, object]:
    return {"number": record.number, "statement_on": record.statement_on.isoformat(),
            "due_on": record.due_on.isoformat(), "addressed_to": record.addressed_to,
            "client_balance": str(record.client_balance), "amount_due": str(record.amount_due),
            "dunning_days": record.dunning_days, "by": record.actor}
