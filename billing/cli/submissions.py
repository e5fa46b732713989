"""`flask submissions ...`: create, list, export, send, mark-sent, remove, collect. One line on any refusal."""

from __future__ import annotations

import sys
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import click
from flask.cli import AppGroup

from billing.claims.queries import claim_by_number
from billing.cli.output import emit as _emit
from billing.cli.output import json_option, refusals
from billing.core.audit import Actor
from billing.core.unit_of_work import unit_of_work
from billing.submissions.jobs import collect_all_responses
from billing.submissions.models import SubmissionBatch
from billing.submissions.operations import (
    create_batches,
    file_for_download,
    mark_batch_sent,
    remove_claim_from_batch,
    send_batch,
)
from billing.submissions.queries import batch_by_id, batch_id_from, batches

submissions_cli = AppGroup("submissions", help="Batch Ready claims into 837P files and send them.")
CLI_ACTOR = Actor.system("cli")


def _refusals(as_json: bool) -> AbstractContextManager[None]:
    """A refused file lists each problem with its claim in the JSON error."""
    return refusals(as_json, details=lambda exc: {"errors": [str(e) for e in getattr(exc, "errors", [])]})


def _summary(batch: SubmissionBatch) -> dict[str, Any]:
    return {
        "batch": batch.number,
        "id": batch.id,
        "status": batch.status.value,
        "clearinghouse": batch.clearinghouse.name,
        "payer": batch.payer.name if batch.payer else "all EDI payers",
        "claims": batch.claim_count,
        "total": str(batch.total_charge),
        "control_number": batch.control_number,
        "file_name": batch.file_name,
        "created_at": batch.created_at.isoformat(),
        "sent_at": batch.sent_at.isoformat() if batch.sent_at else None,
        "sent_by": batch.sent_by,
        "sent_how": batch.sent_how.value if batch.sent_how else None,
        "ack": batch.ack_code,
    }


@submissions_cli.command("create")
@click.option("--payer", "payer_id", type=int, help="Only this payer's claims (payer id).")
@click.option("--all", "all_payers", is_flag=True, help="Every EDI payer's eligible claims.")
@json_option
def create_command(payer_id: int | None, all_payers: bool, as_json: bool) -> None:
    """Generate and validate one 837P per clearinghouse from the eligible Ready claims."""
    if (payer_id is None) == (not all_payers):
        raise click.UsageError("Give either --payer PAYER_ID or --all.")
    with _refusals(as_json), unit_of_work():
        created = [_summary(b) for b in create_batches(actor=CLI_ACTOR, payer_id=payer_id)]
    text = "\n".join(f"{b['batch']} ({b['id']}): {b['claims']} claims, {b['total']}, {b['file_name']}" for b in created)
    _emit(as_json, created, text)


@submissions_cli.command("list")
@click.option("--limit", type=int, default=100, show_default=True)
@json_option
def list_command(limit: int, as_json: bool) -> None:
    """Batches, newest first."""
    rows = [_summary(b) for b in batches(limit)]
    text = "\n".join(
        f"{r['batch']}  {r['status']:9}  {r['claims']:>5} claims  {r['total']:>12}  {r['clearinghouse']}  "
        f"{r['sent_at'] or ''}"
        for r in rows
    )
    _emit(as_json, rows, text or "No batches.")


@submissions_cli.command("export")
@click.argument("batch")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), required=True)
def export_command(batch: str, output: str) -> None:
    """Write the batch's validated 837P to a file (then upload it and run mark-sent)."""
    with _refusals(False):
        found = file_for_download(batch_id_from(batch))
    Path(output).write_bytes(found.content.encode("ascii"))
    click.echo(f"Wrote {found.number} ({found.claim_count} claims) to {output}.")


@submissions_cli.command("send")
@click.argument("batch")
@json_option
def send_command(batch: str, as_json: bool) -> None:
    """Upload the batch by SFTP; every claim in it becomes Submitted."""
    with _refusals(as_json), unit_of_work():
        data = _summary(send_batch(batch_id_from(batch), actor=CLI_ACTOR))
    _emit(as_json, data, f"{data['batch']} sent as {data['file_name']}: {data['claims']} claims submitted.")


@submissions_cli.command("mark-sent")
@click.argument("batch")
@click.option("--sent-on", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="The day the file was uploaded, when not today (YYYY-MM-DD); the charges are dated that day.")
@json_option
def mark_sent_command(batch: str, sent_on: Any, as_json: bool) -> None:
    """Record a manual upload: every claim in the batch becomes Submitted."""
    with _refusals(as_json), unit_of_work():
        day = sent_on.date() if sent_on is not None else None
        data = _summary(mark_batch_sent(batch_id_from(batch), actor=CLI_ACTOR, sent_on=day))
    _emit(as_json, data, f"{data['batch']} marked as uploaded: {data['claims']} claims submitted.")


@submissions_cli.command("remove")
@click.argument("batch")
@click.argument("claim")
def remove_command(batch: str, claim: str) -> None:
    """Take a claim out of an unsent batch (the file is rebuilt)."""
    with _refusals(False), unit_of_work():
        found = remove_claim_from_batch(batch_by_id(batch_id_from(batch)), claim_by_number(claim), actor=CLI_ACTOR)
        text = f"{claim} taken out of {found.number}; {found.claim_count} claims left ({found.status.value})."
    click.echo(text)


@submissions_cli.command("collect")
@json_option
def collect_command(as_json: bool) -> None:
    """Download new response files (999, 277CA) from every clearinghouse with SFTP settings."""
    report = collect_all_responses(actor=CLI_ACTOR)
    _emit(as_json, {"done": report.done, "failed": report.failed}, report.summary())
    if report.failed:
        sys.exit(1)
