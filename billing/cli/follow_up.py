"""`flask filing deadlines` and `flask follow-up list|note|assign|ask`: timely filing and unanswered claims.

Each command is a thin shell around one call of billing/payments/filing.py, billing/submissions/follow_up.py or
billing/submissions/claim_status.py (`ask`: a 276 claim status inquiry).
"""

from __future__ import annotations

from datetime import datetime

import click
from flask.cli import AppGroup
from sqlalchemy import select

from billing.claims.queries import claim_by_number
from billing.cli.output import COUNT, RECORD_ID, json_option, run_command
from billing.core.audit import Actor
from billing.core.db import db
from billing.core.errors import Invalid
from billing.core.time import practice_today
from billing.org.queries import resolve_scope
from billing.payments.filing import DEFAULT_WITHIN_DAYS, DeadlineRow, near_deadline
from billing.people.models import User
from billing.people.operations import normalize_email
from billing.submissions.claim_status import Asked, ask_due, ask_payers
from billing.submissions.follow_up import FollowUpRow, add_note, assign, follow_up_queue

filing_cli = AppGroup("filing", help="Timely filing: claims near or past their payer's deadline.")
follow_up_cli = AppGroup("follow-up", help="Sent claims the payer has not answered: list, note, assign, ask.")
CLI = Actor.system("cli")
SCOPE = {"help": "Only claims of this company id.", "type": RECORD_ID}


@filing_cli.command("deadlines")
@click.option("--within", "within_days", type=COUNT, default=DEFAULT_WITHIN_DAYS, show_default=True,
              help="Days left at most (late claims are always listed).")
@click.option("--company", "company_id", **SCOPE)
@json_option
def deadlines_command(within_days: int, company_id: int | None, as_json: bool) -> None:
    """Claims not yet with the payer (Ready, Held, Rejected, denied work) near or past their filing deadline."""
    run_command(lambda: near_deadline(resolve_scope(company_id, None, None), within_days=within_days,
                                      today=practice_today()),
                as_json=as_json, data=lambda rows: [r.as_dict() for r in rows], text=_deadline_text)


def _deadline_text(rows: list[DeadlineRow]) -> str:
    lines = [f"{r.number}  {r.status.label:<9} {r.payer:<24.24} deadline {r.deadline:%m/%d/%Y}  "
             f"{_days(r.days_left)}" for r in rows]
    return "\n".join(lines) or "No claim is near its filing deadline."


def _days(days_left: int) -> str:
    return f"{-days_left} days late" if days_left < 0 else f"{days_left} days left"


@follow_up_cli.command("list")
@click.option("--company", "company_id", **SCOPE)
@click.option("--assignee", help="Only claims this user (email) is working.")
@json_option
def list_command(company_id: int | None, assignee: str | None, as_json: bool) -> None:
    """Submitted claims due for follow-up today, the longest overdue first."""
    def queue() -> list[FollowUpRow]:
        user_id = _user(assignee).id if assignee else None
        return follow_up_queue(resolve_scope(company_id, None, None), today=practice_today(), assignee_id=user_id)

    run_command(queue, as_json=as_json, data=lambda rows: [r.as_dict() for r in rows], text=_queue_text)


def _queue_text(rows: list[FollowUpRow]) -> str:
    lines = [f"{r.number}  {r.payer:<24.24} due {r.due_on:%m/%d/%Y}  {r.assignee or 'unassigned'}"
             + (f"  - {r.last_note[:60]}" if r.last_note else "") for r in rows]
    return "\n".join(lines) or "No claim is due for follow-up."


@follow_up_cli.command("note")
@click.argument("claim_number")
@click.argument("text")
@click.option("--next", "next_on", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="Next follow-up date (YYYY-MM-DD): the claim leaves the queue until then.")
@json_option
def note_command(claim_number: str, text: str, next_on: datetime | None, as_json: bool) -> None:
    """Add a note to CLAIM_NUMBER's follow-up (notes are never changed afterwards)."""
    run_command(lambda: add_note(claim_by_number(claim_number), text, next_follow_up_on=next_on.date() if next_on
                                 else None, actor=CLI, today=practice_today()),
                as_json=as_json,
                data=lambda note: {"claim": claim_number.upper(), "note_id": note.id, "text": note.text,
                                   "next_follow_up_on": note.next_follow_up_on},
                text=lambda note: f"Noted on {claim_number.upper()}" + (
                    f"; next follow-up {note.next_follow_up_on:%m/%d/%Y}." if note.next_follow_up_on else "."))


@follow_up_cli.command("assign")
@click.argument("claim_number")
@click.argument("email", required=False)
@json_option
def assign_command(claim_number: str, email: str | None, as_json: bool) -> None:
    """Say who works CLAIM_NUMBER's follow-up (a biller's or admin's EMAIL; none to unassign)."""
    run_command(lambda: assign(claim_by_number(claim_number), _user(email) if email else None, actor=CLI),
                as_json=as_json,
                data=lambda state: {"claim": claim_number.upper(),
                                    "assignee": state.assignee.email if state.assignee else None},
                text=lambda state: f"{claim_number.upper()}: " + (
                    f"{state.assignee.name} works it." if state.assignee else "nobody assigned."))


@follow_up_cli.command("ask")
@click.option("--claims", "numbers", help="Claim numbers, comma-separated (C-000012,C-000013): Submitted claims.")
@click.option("--due", is_flag=True, help="Every claim due for follow-up not asked about in the last 7 days.")
@click.option("--company", "company_id", **SCOPE)
@json_option
def ask_command(numbers: str | None, due: bool, company_id: int | None, as_json: bool) -> None:
    """Ask the payers where claims stand: a 276 per clearinghouse, uploaded when it has SFTP settings."""
    if bool(numbers) == due:
        raise click.UsageError("Give either --claims or --due.")

    def ask() -> Asked:
        if due:
            return ask_due(resolve_scope(company_id, None, None), actor=CLI, today=practice_today())
        return ask_payers([claim_by_number(n).id for n in numbers.split(",") if n.strip()], actor=CLI)

    run_command(ask, as_json=as_json, data=lambda asked: asked.as_dict(), text=lambda asked: asked.summary())


def _user(email: str) -> User:
    user = db.session.scalar(select(User).where(User.email == normalize_email(email)))
    if user is None:
        raise Invalid(f"No user has the email {email!r}.")
    return user
