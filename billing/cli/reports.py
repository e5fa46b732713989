"""`flask reports`: list the reports and export one to an .xlsx file."""

from __future__ import annotations

import getpass
from datetime import datetime
from pathlib import Path

import click
from flask.cli import AppGroup

from billing.cli.output import RECORD_ID, run_command
from billing.core.access_log import Access, AccessKind, Subject, record_access
from billing.core.audit import Actor
from billing.jobs.export_runs import record_download
from exports.build import BuiltReport, build_report
from exports.filters import ReportFilters
from exports.reports import all_reports

reports_cli = AppGroup("reports", help="Excel reports for accountants.")


def _shell_user() -> str:
    """Who ran the command, as the operating system knows them (the download log's "who")."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in some containers
        return "unknown"


@reports_cli.command("list")
def list_reports() -> None:
    """Print each report's name and title."""
    for report in all_reports():
        click.echo(f"{report.name:28} {report.title}")


@reports_cli.command("export")
@click.argument("name")
@click.option("--from", "date_from", type=click.DateTime(["%Y-%m-%d"]), help="First service/posting date.")
@click.option("--to", "date_to", type=click.DateTime(["%Y-%m-%d"]), help="Last service/posting date.")
@click.option("--company", "company_id", type=RECORD_ID, help="Company id (default: all companies).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), required=True, help="FILE.xlsx")
def export_report(name: str, date_from: datetime | None, date_to: datetime | None, company_id: int | None,
                  output: str) -> None:
    """Write report NAME to an .xlsx file, e.g. `flask reports export claims --from 2026-01-01 -o claims.xlsx`."""
    filters = ReportFilters(date_from=date_from.date() if date_from else None,
                            date_to=date_to.date() if date_to else None, company_id=company_id)
    target = Path(output)
    actor = Actor.system(f"cli:{_shell_user()}")

    def export() -> BuiltReport:
        # A refusal comes before the file is opened, so nothing half-written is left.
        built = build_report(name, filters, target, generated_by=actor.name)
        # A file written from the shell is a download like any other.
        record_download(name, {**filters.to_json(), "file": str(target)}, actor=actor, row_count=built.rows)
        record_access(Access(AccessKind.EXPORTED, Subject.REPORT, detail=f"{name} -> {target}"), actor=actor)
        return built

    run_command(export, as_json=False, text=lambda built: f"Wrote {built.title} to {target} ({built.rows} rows).")
