"""`flask statements run [--dry-run] -o DIR` and `flask statements preview CLIENT_ID -o FILE.pdf`."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from billing.cli.output import RECORD_ID, json_option, run_command
from billing.core.audit import Actor
from billing.core.money import format_money
from billing.core.time import practice_today
from billing.ledger.statements import Statement
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
