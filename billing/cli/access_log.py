"""`flask access-log list`: read the PHI access log from the shell (who viewed, exported or downloaded what)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click
from flask.cli import AppGroup

from billing.cli.output import COUNT, RECORD_ID, json_option, run_command
from billing.core.access_log import AccessFilters, Subject, list_access

access_log_cli = AppGroup("access-log", help="The PHI access log (read-only).")
DAY = click.DateTime(["%Y-%m-%d"])


def _line(row: dict[str, Any]) -> str:
    subject = f"{row['subject_type']} {row['subject_id'] if row['subject_id'] is not None else '(list)'}"
    detail = f"  {row['detail']}" if row["detail"] else ""
    return f"{row['at'][:19]}  {row['actor']:30} {row['kind']:10} {subject:24} {row['ip'] or '-':15}{detail}"


@access_log_cli.command("list")
@click.option("--user", default=None, help="The user's email, or part of it.")
@click.option("--since", type=DAY, default=None, help="First practice day (YYYY-MM-DD).")
@click.option("--until", type=DAY, default=None, help="Last practice day (YYYY-MM-DD).")
@click.option("--subject", type=click.Choice([s.value for s in Subject]), default=None, help="Record type.")
@click.option("--id", "subject_id", type=RECORD_ID, default=None, help="Record id (with --subject).")
@click.option("--limit", type=COUNT, default=200, show_default=True, help="Newest rows to show (0: all).")
@json_option
def list_command(user: str | None, since: datetime | None, until: datetime | None, subject: str | None,
                 subject_id: int | None, limit: int, as_json: bool) -> None:
    """Newest first, e.g. `flask access-log list --user biller@ --since 2026-12-01 --json`."""
    filters = AccessFilters(user=user, subject_type=subject, subject_id=subject_id,
                            date_from=since.date() if since else None, date_to=until.date() if until else None,
                            limit=limit or None)
    run_command(lambda: list_access(filters), as_json=as_json,
                text=lambda rows: "\n".join(_line(r) for r in rows) or "No access recorded for these filters.")
