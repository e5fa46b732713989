"""`flask claims ...`: each command is one operation in one unit of work; `--json` for scripts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click
from flask.cli import AppGroup
from sqlalchemy import select

from billing.claims.building import BillingResult
from billing.claims.insurance_rebill import rebill_to_insurance
from billing.claims.models import Claim
from billing.claims.operations import (
    correct_claim,
    hold_claim,
    release_claim,
    resubmit_claim,
    retract_claim,
    set_payer_claim_number,
    void_claim,
    void_not_needed,
)
from billing.claims.queries import claim_by_number
from billing.claims.self_pay import bill_ready_self_pay
from billing.claims.sessions import generate_claims
from billing.claims.statuses import ClaimStatus
from billing.cli.output import COUNT, RECORD_ID, json_option, run_command
from billing.cli.output import emit as _emit
from billing.cli.paper import print_command
from billing.core.audit import Actor
from billing.core.db import db
from billing.core.time import practice_today
from billing.payments.families import family_document
from billing.payments.queries import claim_document
from billing.payments.queue import queue_document

claims_cli = AppGroup("claims", help="Generate, list, inspect and move claims.")
claims_cli.add_command(print_command)
CLI_ACTOR = Actor.system("cli")


@claims_cli.command("generate")
@json_option
def generate_command(as_json: bool) -> None:
    """Create claims for finalized sessions that have none (safe to run again)."""
    run_command(lambda: _generated(generate_claims(actor=CLI_ACTOR)), as_json=as_json, text=_generated_text)


def _generated(result: BillingResult) -> dict[str, Any]:
    return {
        "created": [c.number for c in result.created],
        "extended": [c.number for c in result.extended],
        "lines": result.lines,
        "held": [c.number for c in result.created if c.status is ClaimStatus.HELD],
        "unbilled": [{"session_id": s.id, "why": why} for s, why in result.unbilled],
    }


def _generated_text(data: dict[str, Any]) -> str:
    return (f"{len(data['created'])} claims created ({len(data['held'])} held), {len(data['extended'])} extended, "
            f"{data['lines']} lines; {len(data['unbilled'])} sessions not billable.")


@claims_cli.command("list")
@click.option("--status", type=click.Choice([s.value for s in ClaimStatus]))
@click.option("--payer", "payer_id", type=RECORD_ID, help="Payer id.")
@click.option("--limit", type=COUNT, default=200, show_default=True)
@json_option
def list_command(status: str | None, payer_id: int | None, limit: int, as_json: bool) -> None:
    """Claims, newest first, optionally by status and payer."""
    query = select(Claim).order_by(Claim.id.desc()).limit(limit)
    if status:
        query = query.where(Claim.status == ClaimStatus(status))
    if payer_id is not None:
        query = query.where(Claim.payer_id == payer_id)
    claims = list(db.session.scalars(query))
    rows = [
        {
            "number": c.number,
            "status": c.status.value,
            "service_date": c.service_date.isoformat(),
            "client": c.client.full_name,
            "payer": c.payer.name if c.payer else None,
            "billed": str(c.total_charge),
        }
        for c in claims
    ]
    text = (
        "\n".join(
            f"{r['number']}  {r['status']:9}  {r['service_date']}  {r['billed']:>10}  {r['client']}  "
            f"{r['payer'] or '(no payer)'}"
            for r in rows
        )
        or "No claims."
    )
    _emit(as_json, rows, text)


@claims_cli.command("queue")
@click.option("--status", default=ClaimStatus.READY.value, show_default=True,
              type=click.Choice([*(s.value for s in ClaimStatus), "all"]), help="The tab, as on the Claims page.")
@click.option("--search", default="", help="Claim no. (or part), client, member ID or payer claim number (ICN).")
@click.option("--limit", type=COUNT, default=50, show_default=True, help="Rows to list (the totals cover all).")
@json_option
def queue_command(status: str, search: str, limit: int, as_json: bool) -> None:
    """The claims queue: CPT, units, billed, paid, balance and days in status, with the totals of the whole tab."""
    tab = None if status == "all" else ClaimStatus(status)
    run_command(lambda: queue_document(tab, search, limit, practice_today()), as_json=as_json, text=_queue_text)


def _queue_text(doc: dict[str, Any]) -> str:
    t = doc["totals"]
    lines = [f"{r['number']}  {r['status']:9}  {r['service_date']}  {r['cpt']:<12} {r['units']:>4}  "
             f"{r['billed']:>10} {r['paid']:>10} {r['balance']:>10}  {r['days_in_status'] or 0:>4}d  {r['client']}"
             for r in doc["claims"]]
    total = f"{t['claims']:,} claims: billed {t['billed']}, paid {t['paid']}, balance {t['balance']}"
    return "\n".join([*lines, total])


@claims_cli.command("show")
@click.argument("number")
@json_option
def show_command(number: str, as_json: bool) -> None:
    """Everything about one claim: lines, totals, history and its family (corrections, secondary claims...)."""
    run_command(lambda: _with_family(claim_by_number(number)), as_json=as_json, text=_describe)


def _with_family(claim: Claim) -> dict[str, Any]:
    return {**claim_document(claim), "family": family_document(claim)}


def _describe(doc: dict[str, Any]) -> str:
    head = [
        f"{doc['number']}  {doc['status']}  frequency {doc['frequency_code']}",
        f"Client {doc['client']['name']} ({doc['client']['account']})  Payer {(doc['payer'] or {}).get('name', '-')}",
        f"Billed {doc['billed']}  Paid {doc['paid']}  Balance {doc['balance']}",
    ]
    if doc["hold_reason"]:
        head.append(f"Held: {doc['hold_reason']}")
    lines = [
        f"  {ln['line']:>2}. {ln['service_date']} {ln['code']}{':' + ln['modifiers'] if ln['modifiers'] else ''}"
        f" x{ln['units']} @ {ln['rate']} = {ln['charge']}"
        for ln in doc["lines"]
    ]
    history = [
        f"  {h['at'][:19]} {h['who']}: {h['action']} {h['from'] or ''}->{h['to'] or ''} {h['reason'] or ''}"
        for h in doc["history"]
    ]
    family = [
        f"  {m['number']} {m['role']}: {m['payer'] or '-'} {m['status']} balance {m['balance']}"
        + (" (this claim)" if m["this_claim"] else "")
        for m in doc.get("family", [])
    ]
    return "\n".join([*head, "Lines:", *lines, "Family:", *family, "History:", *history])


def _move(
    number: str,
    as_json: bool,
    operation: Callable[[Claim], None],
    done: str,
    extra: Callable[[Claim], dict[str, Any]] | None = None,
) -> None:
    def move() -> Claim:
        claim = claim_by_number(number, for_update=True)
        operation(claim)
        return claim

    run_command(move, as_json=as_json, text=lambda claim: f"{claim.number} {done}; now {claim.status.value}.",
                data=lambda claim: {"ok": True, "number": claim.number, "status": claim.status.value,
                                    **(extra(claim) if extra else {})})


@claims_cli.command("hold")
@click.argument("number")
@click.option("--reason", required=True)
@json_option
def hold_command(number: str, reason: str, as_json: bool) -> None:
    """Hold a Ready claim (a reason is required)."""
    _move(number, as_json, lambda c: hold_claim(c, reason=reason, actor=CLI_ACTOR), "held")


@claims_cli.command("release")
@click.argument("number")
@json_option
def release_command(number: str, as_json: bool) -> None:
    """Release a held claim once nothing is missing."""
    _move(number, as_json, lambda c: release_claim(c, actor=CLI_ACTOR), "released")


@claims_cli.command("void")
@click.argument("number")
@click.option("--reason", required=True)
@click.option("--confirm-money", is_flag=True, help="Void even though money was received on the claim.")
@json_option
def void_command(number: str, reason: str, confirm_money: bool, as_json: bool) -> None:
    """Void a claim; a claim the payer has is sent again as a frequency-8 void.

    A claim with money received on it needs --confirm-money: its payments stay as a credit until recouped.
    """
    _move(number, as_json, lambda c: void_claim(c, reason=reason, actor=CLI_ACTOR, money_confirmed=confirm_money),
          "voided")


@claims_cli.command("retract")
@click.argument("number")
@json_option
def retract_command(number: str, as_json: bool) -> None:
    """Take an unsent claim out of billing and unlock its sessions."""
    _move(number, as_json, lambda c: retract_claim(c, actor=CLI_ACTOR), "retracted")


@claims_cli.command("resubmit")
@click.argument("number")
@click.option("--reason", default=None)
@json_option
def resubmit_command(number: str, reason: str | None, as_json: bool) -> None:
    """Put a denied claim back to Ready."""
    _move(number, as_json, lambda c: resubmit_claim(c, actor=CLI_ACTOR, reason=reason), "resubmitted")


@claims_cli.command("set-payer-claim-number")
@click.argument("number")
@click.argument("icn")
@click.option("--reason", default=None, help="Where the number came from (kept in the history).")
@json_option
def set_payer_claim_number_command(number: str, icn: str, reason: str | None, as_json: bool) -> None:
    """Enter the payer's claim number (ICN) of a void waiting to be sent; the next batch carries it in REF*F8."""
    def operation(claim: Claim) -> None:
        set_payer_claim_number(claim, icn, actor=CLI_ACTOR, reason=reason)

    _move(number, as_json, operation, "carries payer claim number " + icn.strip(),
          extra=lambda claim: {"payer_claim_number": claim.payer_claim_number, "void_to_send": claim.void_to_send})


@claims_cli.command("void-not-needed")
@click.argument("number")
@click.option("--reason", required=True, help="Why the payer needs no void (never sent, no record of the claim).")
@json_option
def void_not_needed_command(number: str, reason: str, as_json: bool) -> None:
    """Stop waiting to send a void the payer does not need (a reason is required)."""
    _move(number, as_json, lambda c: void_not_needed(c, reason=reason, actor=CLI_ACTOR),
          "no longer waits to send a void", extra=lambda claim: {"void_to_send": claim.void_to_send})


@claims_cli.command("correct")
@click.argument("number")
@click.option("--reason", required=True, help="Why the claim is corrected (kept in its history).")
@click.option("--payer-claim-number", default=None, help="The payer's claim number (ICN), if the claim lacks it.")
@json_option
def correct_command(number: str, reason: str, payer_claim_number: str | None, as_json: bool) -> None:
    """Create the corrected claim (frequency 7) for a claim the payer has; edit its lines before it is sent."""
    def op() -> tuple[Claim, Claim]:
        original = claim_by_number(number, for_update=True)
        return original, correct_claim(original, actor=CLI_ACTOR, reason=reason,
                                       payer_claim_number=payer_claim_number)

    run_command(op, as_json=as_json,
                text=lambda pair: f"{pair[1].number} corrects {pair[0].number}; it is {pair[1].status.value} "
                                  f"and goes out as frequency 7 with REF*F8 {pair[1].payer_claim_number}.",
                data=lambda pair: {"ok": True, "original": pair[0].number, "corrected": pair[1].number,
                                   "status": pair[1].status.value, "frequency_code": pair[1].frequency_code,
                                   "payer_claim_number": pair[1].payer_claim_number})


@claims_cli.command("bill-self-pay")
@json_option
def bill_self_pay_command(as_json: bool) -> None:
    """Move Ready claims of self-pay payers to patient billing: their charge goes to the patient's balance.

    For a database from before self-pay billing; safe to run again (a claim already billed is left alone).
    """
    run_command(lambda: bill_ready_self_pay(actor=CLI_ACTOR), as_json=as_json,
                text=lambda move: f"{len(move.billed)} self-pay claims billed to the patient"
                                  + (f": {', '.join(move.billed[:20])}" if move.billed else "")
                                  + (" ..." if len(move.billed) > 20 else "") + ".",
                data=lambda move: move.as_dict())


@claims_cli.command("rebill-insurance")
@click.argument("number")
@click.option("--confirm-money", is_flag=True, help="Go ahead although the patient paid on the claim.")
@json_option
def rebill_insurance_command(number: str, confirm_money: bool, as_json: bool) -> None:
    """Bill a self-pay claim's sessions to the client's insurance: the patient's charge is withdrawn.

    The client's primary policy for the service date must be entered first. What the patient paid stays as a
    patient credit (needs --confirm-money), to refund or apply to the new claim.
    """
    def op() -> tuple[Claim, BillingResult]:
        claim = claim_by_number(number, for_update=True)
        return claim, rebill_to_insurance(claim, actor=CLI_ACTOR, money_confirmed=confirm_money)

    def data(pair: tuple[Claim, BillingResult]) -> dict[str, Any]:
        claim, result = pair
        return {"ok": True, "number": claim.number, "status": claim.status.value,
                "billed_on": [{"number": c.number, "status": c.status.value, "payer": str(c.payer or "")}
                              for c in (*result.created, *result.extended)]}

    run_command(op, as_json=as_json, data=data,
                text=lambda pair: f"{pair[0].number} voided; its sessions are billed to insurance on "
                                  + ", ".join(f"{c.number} ({c.status.value})"
                                              for c in (*pair[1].created, *pair[1].extended)) + ".")
