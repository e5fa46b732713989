"""`flask dashboard`: the dashboard's figures for a scope and a date range, as text or --json.

A thin shell around billing.dashboard.figures.dashboard_figures (the same call the Dashboard page makes).
"""

from __future__ import annotations

from datetime import datetime

import click

from billing.cli.output import RECORD_ID, json_option, run_command
from billing.core.money import format_money
from billing.core.time import practice_today
from billing.dashboard.figures import Figures, dashboard_figures, default_range
from billing.org.queries import resolve_scope

DAY = click.DateTime(["%Y-%m-%d"])


@click.command("dashboard")
@click.option("--from", "date_from", type=DAY, help="First day (YYYY-MM-DD); default: twelve months back.")
@click.option("--to", "date_to", type=DAY, help="Last day (YYYY-MM-DD); default: the practice's today.")
@click.option("--company", "company_id", type=RECORD_ID, help="Only this company id.")
@click.option("--practice", "practice_id", type=RECORD_ID, help="Only this practice id.")
@click.option("--location", "location_id", type=RECORD_ID, help="Only this location id.")
@json_option
def dashboard_command(
    date_from: datetime | None,
    date_to: datetime | None,
    company_id: int | None,
    practice_id: int | None,
    location_id: int | None,
    as_json: bool,
) -> None:
    """A/R by age and payer, money by month, first-pass acceptance, denials, claims by status, deadlines."""
    today = practice_today()
    start, end = default_range(today)
    first = date_from.date() if date_from else start
    last = date_to.date() if date_to else end
    run_command(
        lambda: dashboard_figures(resolve_scope(company_id, practice_id, location_id), first, last, today),
        as_json=as_json,
        data=Figures.as_dict,
        text=_text,
    )


def _text(f: Figures) -> str:
    rate = f"{f.first_pass_rate}%" if f.first_pass_rate is not None else "no answers yet"
    lines = [
        f"Dashboard {f.date_from:%m/%d/%Y} to {f.date_to:%m/%d/%Y} (A/R as of {f.today:%m/%d/%Y})",
        f"A/R owed by payers: {format_money(f.ar_total)} on {f.ar_claims:,} claims; days in A/R: "
        f"{f.days_in_ar if f.days_in_ar is not None else 'n/a'}",
        "  by age: " + ", ".join(f"{s.label} {format_money(s.amount)} ({s.count})" for s in f.ar_by_age),
        "  by payer: "
        + (", ".join(f"{s.label} {format_money(s.amount)} ({s.count})" for s in f.ar_by_payer) or "none"),
        f"First-pass acceptance: {rate} ({f.first_pass_accepted} of {f.first_pass_sent})",
        "Claims by status: " + ", ".join(f"{s.label} {s.count} {format_money(s.amount)}" for s in f.by_status),
        f"Filing deadlines this week: {f.filing_this_week.count} ({format_money(f.filing_this_week.amount)})",
        "Month      Charges        Collections",
        *[f"{m.month}  {format_money(m.charges):>13}  {format_money(m.collections):>13}" for m in f.months],
        "Denials by payer: "
        + (", ".join(f"{p.payer} {p.denied}/{p.adjudicated}" for p in f.denials_by_payer) or "none"),
        "Top CARCs: " + (", ".join(f"{s.label} ({s.count})" for s in f.top_carcs) or "none"),
        "Failed charges by rule: " + (", ".join(f"{s.label} ({s.count})" for s in f.failed_by_rule) or "none"),
    ]
    return "\n".join(lines)
