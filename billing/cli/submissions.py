"""`flask submissions ...`: create, list, export, send, mark-sent, remove, collect. One line on any refusal."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from flask.cli import AppGroup

from billing.claims.queries import claim_by_number
from billing.cli.output import COUNT, RECORD_ID, json_option, run_command
from billing.cli.output import emit as _emit
from billing.core.audit import Actor
from billing.core.errors import BillingError
from billing.submissions.ack_queries import filing_evidence
from billing.submissions.builds import StoppedPartWay, generate_in_steps, recent_builds
from billing.submissions.jobs import collect_all_responses
from billing.submissions.models import SubmissionBatch
from billing.submissions.operations import (
    BatchRefused,
    file_for_download,
    mark_batch_sent,
    remove_claim_from_batch,
    send_batch,
)
from billing.submissions.queries import batch_by_id, batch_id_from, batches, waiting_voids

submissions_cli = AppGroup("submissions", help="Batch Ready claims into 837P files and send them.")
CLI_ACTOR = Actor.system("cli")


def _file_errors(exc: BillingError) -> dict[str, Any]:
    """A refused file lists each problem with its claim in the JSON error."""
    return {"errors": [str(e) for e in exc.errors]} if isinstance(exc, BatchRefused) else {}


def _left_out(payer_id: int | None) -> list[dict[str, str]]:
    """Voids waiting for the payer's claim number (ICN): left out of every batch, named with why."""
    return [{"claim": c.number, "why": c.reason or ""} for c in waiting_voids(payer_id)]


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
@click.option("--payer", "payer_id", type=RECORD_ID, help="Only this payer's claims (payer id).")
@click.option("--all", "all_payers", is_flag=True, help="Every EDI payer's eligible claims.")
@json_option
def create_command(payer_id: int | None, all_payers: bool, as_json: bool) -> None:
    """Run the rules on the Ready claims, then generate and validate one 837P per clearinghouse from the eligible
    ones; what the rules stopped is listed ("held") and left out.

    Any number of claims: each batch is saved in its own transaction as soon as its file is validated, so a
    failure at batch k keeps batches 1..k-1 (listed in the error) and leaves the rest Ready."""
    if (payer_id is None) == (not all_payers):
        raise click.UsageError("Give either --payer PAYER_ID or --all.")
    left_out: list[dict[str, str]] = []
    created: list[dict[str, Any]] = []

    def keep(batch: SubmissionBatch | None, _claims: int) -> None:
        if batch is not None:  # summarised now: the batch leaves memory when its transaction commits
            created.append(_summary(batch))

    def create() -> dict[str, Any]:
        left_out.extend(_left_out(payer_id))  # before: a refusal still names the voids that wait
        generation = generate_in_steps(actor=CLI_ACTOR, payer_id=payer_id, each=keep)
        return {"ok": True, "batches": created, "rules_run": generation.run_number,
                "held": [stop.as_dict() for stop in generation.held], "left_out": left_out}

    def details(exc: BillingError) -> dict[str, Any]:
        cause = exc.cause if isinstance(exc, StoppedPartWay) else exc
        saved = {"saved_batches": created} if isinstance(exc, StoppedPartWay) else {}
        return {**_file_errors(cause), **saved, **({"left_out": left_out} if left_out else {})}

    run_command(create, as_json=as_json, details=details, text=_created_text)


def _created_text(created: dict[str, Any]) -> str:
    lines = [f"{b['batch']} ({b['id']}): {b['claims']} claims, {b['total']}, {b['file_name']}"
             for b in created["batches"]] or ["No batch: the rules stopped every eligible claim."]  # fmt: skip
    lines += [f"Held by the rules (run {created['rules_run']}) {h['claim']}: rule {h['rule']!r} ({h['outcome']}): "
              f"{h['reason']}" for h in created["held"]]
    return "\n".join(lines + [f"Left out {v['claim']}: {v['why']}" for v in created["left_out"]])


@submissions_cli.command("list")
@click.option("--limit", type=COUNT, default=100, show_default=True)
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


@submissions_cli.command("builds")
@click.option("--limit", type=COUNT, default=10, show_default=True)
@json_option
def builds_command(limit: int, as_json: bool) -> None:
    """Large generations queued from the Submissions page, newest first, with their progress."""
    rows = [{"id": b.id, "status": b.status.value, "claims_chosen": len(b.claim_ids), "done": b.done,
             "total": b.total, "batch_ids": b.batch_ids, "requested_by": b.requested_by, "error": b.error}
            for b in recent_builds(limit)]  # fmt: skip
    text = "\n".join(_build_line(r) for r in rows)
    _emit(as_json, rows, text or "No large builds.")


def _build_line(r: dict[str, Any]) -> str:
    total = "?" if r["total"] is None else f"{r['total']:,}"
    line = f"build {r['id']}  {r['status']:8}  {r['done']:,} of {total} claims  {len(r['batch_ids'])} batch(es)"
    return f"{line}  {r['requested_by']}" + (f"  {r['error']}" if r["error"] else "")


@submissions_cli.command("export")
@click.argument("batch")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), required=True)
def export_command(batch: str, output: str) -> None:
    """Write the batch's validated 837P to a file (then upload it and run mark-sent)."""
    def export() -> SubmissionBatch:
        found = file_for_download(batch_id_from(batch))
        Path(output).write_bytes(found.content.encode("ascii"))
        return found

    run_command(export, as_json=False,
                text=lambda found: f"Wrote {found.number} ({found.claim_count} claims) to {output}.")


@submissions_cli.command("send")
@click.argument("batch")
@json_option
def send_command(batch: str, as_json: bool) -> None:
    """Upload the batch by SFTP; every claim in it becomes Submitted."""
    run_command(lambda: _summary(send_batch(batch_id_from(batch), actor=CLI_ACTOR)), as_json=as_json,
                details=_file_errors,
                text=lambda data: f"{data['batch']} sent as {data['file_name']}: {data['claims']} claims submitted.")


@submissions_cli.command("mark-sent")
@click.argument("batch")
@click.option("--sent-on", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="The day the file was uploaded, when not today (YYYY-MM-DD); the charges are dated that day.")
@json_option
def mark_sent_command(batch: str, sent_on: Any, as_json: bool) -> None:
    """Record a manual upload: every claim in the batch becomes Submitted."""
    day = sent_on.date() if sent_on is not None else None
    run_command(lambda: _summary(mark_batch_sent(batch_id_from(batch), actor=CLI_ACTOR, sent_on=day)),
                as_json=as_json, details=_file_errors,
                text=lambda data: f"{data['batch']} marked as uploaded: {data['claims']} claims submitted.")


@submissions_cli.command("remove")
@click.argument("batch")
@click.argument("claim")
def remove_command(batch: str, claim: str) -> None:
    """Take a claim out of an unsent batch (the file is rebuilt)."""
    run_command(lambda: remove_claim_from_batch(batch_by_id(batch_id_from(batch)), claim_by_number(claim),
                                                actor=CLI_ACTOR),
                as_json=False, text=lambda found: f"{claim} taken out of {found.number}; {found.claim_count} claims "
                f"left ({found.status.value}).")


@submissions_cli.command("collect")
@json_option
def collect_command(as_json: bool) -> None:
    """Download new response files (999, 277CA) from every clearinghouse with SFTP settings."""
    report = collect_all_responses(actor=CLI_ACTOR)
    _emit(as_json, {"done": report.done, "failed": report.failed}, report.summary())
    if report.failed:
        sys.exit(1)


@submissions_cli.command("filing-proof")
@click.argument("claim_number")
@json_option
def filing_proof_command(claim_number: str, as_json: bool) -> None:
    """Proof of timely filing for one claim: each batch it went in (sent when, file, control numbers) and the
    999/277CA acknowledgments of each send (date, outcome, codes, payer claim number)."""

    def proof() -> dict[str, Any]:
        claim = claim_by_number(claim_number)
        sends = filing_evidence([claim.id]).get(claim.id, [])
        return {"claim": claim.number, "payer": claim.payer.name if claim.payer else None,
                "service_date": claim.service_date.isoformat(), "status": claim.status.value,
                "sends": [s.as_dict() for s in sends]}

    run_command(proof, as_json=as_json, text=_proof_text, data=lambda d: d)


def _proof_text(proof: dict[str, Any]) -> str:
    lines = [f"{proof['claim']} ({proof['payer'] or 'no payer'}, service {proof['service_date']}, {proof['status']})"]
    if not proof["sends"]:
        lines.append("  never sent")
    for send in proof["sends"]:
        lines.append(f"  {send['batch']} sent {send['sent_at']} file {send['file']} control {send['control_number']}"
                     f" ST02 {send['transaction_control'] or '-'} frequency {send['frequency_code']}")
        lines += [f"    {a['kind']} {a['file']} {a['date']}: {a['outcome']} {a['codes']}"
                  + (f" payer claim number {a['payer_claim_number']}" if a["payer_claim_number"] else "")
                  for a in send["acknowledgments"]] or ["    no acknowledgment yet"]
    return "\n".join(lines)
