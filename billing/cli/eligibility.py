"""`flask eligibility check|history`: 270 inquiries through the clearinghouse, and what the payers answered.

271 files come back through `flask edi import` or the collect-responses job (billing/submissions/inbound.py).
Each command is a thin shell around one call of billing/submissions/eligibility.py or billing/coverage/eligibility.py.
"""

from __future__ import annotations

import sys
from datetime import datetime

import click
from flask.cli import AppGroup

from billing.cli.output import COUNT, RECORD_ID, emit, json_option, refusals, run_command
from billing.core.audit import Actor
from billing.core.db import db
from billing.core.errors import Invalid, NotFound
from billing.coverage.eligibility import CheckView, EligibilityBenefit, EligibilityCheck, check_history
from billing.coverage.models import InsurancePolicy
from billing.submissions.eligibility import (
    MAX_UPCOMING_DAYS,
    RequestReport,
    policy_requests,
    request_checks,
    upcoming_requests,
)

eligibility_cli = AppGroup("eligibility", help="Eligibility (270/271): ask the payers, read what they answered.")
CLI = Actor.system("cli")


@eligibility_cli.command("check")
@click.option("--policy", "policy_ids", type=RECORD_ID, multiple=True, help="A policy id (repeat for several).")
@click.option("--upcoming-days", type=COUNT,
              help=f"Every client with sessions in the next N days (0-{MAX_UPCOMING_DAYS}).")  # fmt: skip
@click.option("--date", "service_date", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="Service date asked about with --policy (default: today).")  # fmt: skip
@json_option
def check_command(policy_ids: tuple[int, ...], upcoming_days: int | None, service_date: datetime | None,
                  as_json: bool) -> None:  # fmt: skip
    """Send a 270 for chosen policies, or for the clients with sessions in the coming days."""
    with refusals(as_json):
        if bool(policy_ids) == (upcoming_days is not None):
            raise Invalid("Give --policy or --upcoming-days (one of them).")
        if policy_ids:
            requests = policy_requests(policy_ids, service_date.date() if service_date else None)
        else:
            requests = upcoming_requests(upcoming_days or 0)
        report = request_checks(requests, actor=CLI)
    emit(as_json, report.as_dict(), _report_text(report))
    if report.failed:
        sys.exit(1)  # a file that did not reach the clearinghouse: scripts see it


def _report_text(report: RequestReport) -> str:
    lines = [report.summary(), *(f"  sent {name}" for name in report.files)]
    lines += [f"  FAILED {line}" for line in report.failed] + [f"  skipped {line}" for line in report.skipped]
    return "\n".join(lines)


@eligibility_cli.command("history")
@click.option("--policy", "policy_id", type=RECORD_ID, required=True, help="The policy id.")
@click.option("--limit", type=COUNT, default=20, show_default=True)
@json_option
def history_command(policy_id: int, limit: int, as_json: bool) -> None:
    """A policy's eligibility checks, newest first (pending questions and their answers)."""

    def history() -> list[EligibilityCheck]:
        if db.session.get(InsurancePolicy, policy_id) is None:
            raise NotFound(f"policy: no policy {policy_id}.")
        return check_history(policy_id, limit=limit)

    run_command(history, as_json=as_json, data=lambda rows: [CheckView(c).as_dict() for c in rows],
                text=_history_text)  # fmt: skip


def _history_text(rows: list[EligibilityCheck]) -> str:
    lines = []
    for c in rows:
        line = f"{c.id:>6}  {c.requested_at:%m/%d/%Y %H:%M}  for {c.service_date:%m/%d/%Y}  {c.status.value:<8}"
        if c.plan_name:
            line += f"  {c.plan_name}"
        for reason in c.rejection_reasons or []:
            line += f"\n        {reason}"
        for b in c.benefits:
            line += f"\n        {b.service_type_name}: " + ", ".join(_benefit_parts(b))
        lines.append(line)
    return "\n".join(lines) or "No eligibility check for this policy yet."


def _benefit_parts(b: EligibilityBenefit) -> list[str]:
    parts = []
    if b.copay is not None:
        parts.append(f"copay ${b.copay}")
    if b.coinsurance_percent is not None:
        parts.append(f"coinsurance {b.coinsurance_percent.normalize()}%")
    if b.deductible_remaining is not None:
        parts.append(f"deductible left ${b.deductible_remaining}")
    if b.out_of_pocket_remaining is not None:
        parts.append(f"out-of-pocket left ${b.out_of_pocket_remaining}")
    if b.visits_remaining is not None or b.visits_limit is not None:
        parts.append(f"visits {b.visits_used if b.visits_used is not None else '?'} used of "
                     f"{b.visits_limit if b.visits_limit is not None else '?'}, {b.visits_remaining} left")  # fmt: skip
    return parts or ["no amounts"]
