"""`flask edi import` (835, 999, 277CA) and `flask payments ...` for the ledger. Each command wraps one operation."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from billing.claims.models import Claim
from billing.claims.queries import claim_by_number
from billing.cli.output import LINE_NUMBER, RECORD_ID, emit, json_option, run_command
from billing.core.audit import Actor
from billing.core.checks import parse_id
from billing.core.db import db
from billing.core.errors import BillingError, Invalid, NotFound, Problem, raise_if
from billing.core.money import format_money, parse_amount, sum_money
from billing.core.operation_keys import new_operation_key
from billing.core.time import practice_today
from billing.core.unit_of_work import unit_of_work
from billing.coverage.payer_names import payer_called
from billing.ledger.balances import claim_balance, entries_for_claim, reversed_entry_ids
from billing.ledger.models import LedgerEntry
from billing.ledger.postings import PostingResult
from billing.payments import operations as posting
from billing.payments import reversals as reversal_ops
from billing.payments.check_file import CheckDocument, read_check_csv, read_check_json, read_method
from billing.payments.checks import CheckHeader, CheckPosted, post_check
from billing.payments.credits import (
    CreditApplied,
    CreditPage,
    Side,
    apply_patient_credit,
    credit_balances,
    read_amount,
    read_day,
    read_refund,
    record_refund,
)
from billing.payments.denials import DeniedLine, denied_lines_of, in_denied_work
from billing.payments.eob import read_eob
from billing.payments.matching import match_unmatched, open_unmatched, set_aside_unmatched
from billing.payments.models import UnmatchedClaim
from billing.payments.patient_payments import PaymentReceived, receive_patient_payment
from billing.payments.plb import apply_plb, open_items, plb_document, plb_on, settle_plb
from billing.payments.remittances import EraRefused
from billing.payments.secondary import generate_secondary_claim, resubmit_denied_lines
from billing.submissions.inbound import import_x12
from exports.patient_documents import receipt_file

edi_cli = AppGroup("edi", help="Import X12 files (835 remittances, 999 and 277CA acknowledgments).")
payments_cli = AppGroup("payments", help="The payments ledger: balances, write-offs, reversals, secondary claims.")
CLI = Actor.system("cli")


@edi_cli.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per file.")
def import_command(files: tuple[Path, ...], as_json: bool) -> None:
    """Import 835, 999, 277CA and 277 (claim status) files, each recognised by its ST01/GS08: post or record what
    matches, keep the rest as unmatched, refuse broken files and other kinds whole, naming what they are."""
    results, refused = [], 0
    for path in files:
        try:
            with unit_of_work():
                imported = import_x12(path.read_bytes(), filename=path.name, actor=CLI)
        except BillingError as exc:  # a broken or foreign file, or any other refusal: the next file still goes
            refused += 1
            problems = exc.problems if isinstance(exc, EraRefused) else [exc.message]
            results.append({"file": path.name, "refused": True, "kind": exc.kind, "errors": problems})
            if not as_json:
                click.echo(exc.message, err=True)
            continue
        results.append(imported.as_dict())
        if not as_json:
            click.echo(imported.summary())
    if as_json:
        click.echo(json.dumps(results, indent=2))
    if refused:
        raise click.exceptions.Exit(1)


def _claim(number: str) -> Claim:
    return claim_by_number(number, for_update=True)


def _money(text: str | None) -> Decimal | None:
    if text is None:
        return None
    try:
        return parse_amount(text)
    except ValueError as exc:
        raise click.ClickException(f"--amount: {exc}") from None


@payments_cli.command("balance")
@click.argument("claim_number")
@click.option("--json", "as_json", is_flag=True)
def balance_command(claim_number: str, as_json: bool) -> None:
    """Show a claim's ledger and balances."""
    run_command(lambda: claim_by_number(claim_number), as_json=as_json, text=_balance_text, data=_balance_document)


def _balance_document(claim: Claim) -> dict[str, object]:
    sums, reversed_ids = claim_balance(claim.id), reversed_entry_ids(claim.id)
    return {
        "claim": claim.number, "status": claim.status.value, "needs_review": claim.needs_review,
        "insurance_balance": str(sums.insurance), "patient_balance": str(sums.patient), "balance": str(sums.balance),
        "entries": [_entry_dict(e, e.id in reversed_ids) for e in entries_for_claim(claim.id)],
        "denied_lines": [d.as_dict(practice_today()) for d in _denied(claim)],
    }


def _denied(claim: Claim) -> list[DeniedLine]:
    """Every line of the claim ever denied (rule 3), with its state: open ones are still to be worked."""
    return denied_lines_of([claim.id], workable_only=False).get(claim.id, [])


def _denied_text(denied: DeniedLine) -> str:
    days = denied.days_since(practice_today())
    reasons = "; ".join(str(c) for c in (*denied.carcs, *denied.rarcs)) or "no reason recorded"
    return (f"  line {denied.line.line_number} {denied.line.service_code.code} {format_money(denied.line.charge)}: "
            f"{denied.state.value if denied.state else ''}, {format_money(denied.open_amount)} open"
            f"{f', {days} days since denial' if days is not None else ''} ({reasons})")


def _balance_text(claim: Claim) -> str:
    sums, reversed_ids = claim_balance(claim.id), reversed_entry_ids(claim.id)
    lines = [
        f"{e.id:>8} {e.posted_on} {e.kind.value:24} {format_money(e.amount):>12} "
        f"{e.group_code or ''}{'-' if e.reason_code else ''}{e.reason_code or ''}"
        f"{' (reversed)' if e.id in reversed_ids else ''}"
        for e in entries_for_claim(claim.id)
    ]
    lines.append(f"{claim.number}: insurance {format_money(sums.insurance)}, patient {format_money(sums.patient)}, "
                 f"balance {format_money(sums.balance)}")
    denied = _denied(claim)
    if denied:
        lines += ["Denied lines:", *(_denied_text(d) for d in denied)]
    return "\n".join(lines)


def _entry_dict(e: LedgerEntry, reversed_: bool) -> dict[str, object]:
    return {"id": e.id, "posted_on": e.posted_on.isoformat(), "kind": e.kind.value, "amount": str(e.amount),
            "group": e.group_code, "reason": e.reason_code, "reverses": e.reverses_id, "reversed": reversed_,
            "line": e.claim_line.line_number if e.claim_line else None}


@payments_cli.command("write-off")
@click.argument("claim_number")
@click.option("--reason", required=True)
@click.option("--amount", default=None, help="Defaults to the whole balance.")
@click.option("--patient", is_flag=True, help="Write off the patient balance instead of the insurance balance.")
def write_off_command(claim_number: str, reason: str, amount: str | None, patient: bool) -> None:
    """Write off a claim's insurance (or patient) balance."""
    typed = _money(amount)  # refused before anything is read or written

    def op() -> list[LedgerEntry]:
        return posting.write_off(_claim(claim_number), reason=reason, actor=CLI, posted_on=practice_today(),
                                 patient=patient, amount=typed)

    run_command(op, as_json=False, text=lambda entries: f"Wrote off {_total(entries)} on {claim_number}.")


def _total(entries: list[LedgerEntry]) -> str:
    return format_money(sum_money(e.amount for e in entries))


@payments_cli.command("reverse")
@click.argument("claim_number")
@click.argument("entry_ids", nargs=-1, type=RECORD_ID, required=True)
@click.option("--reason", required=True, help="Where the clawback came from (letter, portal, phone).")
def reverse_command(claim_number: str, entry_ids: tuple[int, ...], reason: str) -> None:
    """Manual clawback: reverse ledger entries of a claim."""
    def op() -> list[LedgerEntry]:
        claim = _claim(claim_number)
        entries = [e for i in entry_ids if (e := db.session.get(LedgerEntry, i)) is not None]
        if len(entries) != len(entry_ids):
            raise NotFound("No such ledger entry.")
        return reversal_ops.reverse_entries(claim, entries, actor=CLI, reason=reason, posted_on=practice_today())

    run_command(op, as_json=False,
                text=lambda reversals: f"Reversed {len(reversals)} entries; claim flagged Needs Review.")


@payments_cli.command("secondary")
@click.argument("claim_number")
def secondary_command(claim_number: str) -> None:
    """Generate the secondary claim for a claim the primary payer has adjudicated."""
    run_command(lambda: generate_secondary_claim(_claim(claim_number), actor=CLI, posted_on=practice_today()),
                as_json=False, text=lambda secondary: f"Secondary claim {secondary.number} created (Ready).")


@payments_cli.command("resubmit-denied-lines")
@click.argument("claim_number")
@click.option("--reason", required=True)
def resubmit_lines_command(claim_number: str, reason: str) -> None:
    """A new claim with only the denied lines of a claim."""
    run_command(lambda: resubmit_denied_lines(_claim(claim_number), actor=CLI, reason=reason), as_json=False,
                text=lambda copy: f"Claim {copy.number} created with the denied lines.")


@payments_cli.command("unmatched")
@click.option("--json", "as_json", is_flag=True)
def unmatched_command(as_json: bool) -> None:
    """List the remittance claims that matched none of ours."""
    items = open_unmatched()
    if as_json:
        click.echo(json.dumps([{"id": i.id, "clp01": i.claim_number, "patient": i.patient_name,
                                "paid": str(i.paid), "reason": i.reason, "check": i.remittance.check_number}
                               for i in items], indent=2))
        return
    for i in items:
        click.echo(f"{i.id:>6} {i.claim_number:20} {format_money(i.paid):>12} {i.patient_name:30} {i.reason}")


@payments_cli.command("match")
@click.argument("unmatched_id", type=RECORD_ID)
@click.argument("claim_number")
@click.option("--remember-as", "remember_as", default=None,
              help="Our payer (name or id) the check's payer name means, when it is not known yet.")
@click.option("--confirm-charge", is_flag=True, help="Post although the payer's charge is not the claim's.")
@click.option("--reason", default=None, help="Why: needed with --remember-as and with --confirm-charge.")
@json_option
def match_command(unmatched_id: int, claim_number: str, remember_as: str | None, confirm_charge: bool,
                  reason: str | None, as_json: bool) -> None:
    """Post an unmatched remittance claim to one of our claims (of the check's payer, charged the same)."""
    def op() -> UnmatchedClaim:
        item = db.session.get(UnmatchedClaim, unmatched_id)
        if item is None:
            raise NotFound(f"No unmatched payment {unmatched_id}.")
        payer = payer_called(remember_as) if remember_as else None
        match_unmatched(item, _claim(claim_number), actor=CLI, remember_as=payer, charge_confirmed=confirm_charge,
                        override_reason=reason)
        return item

    run_command(op, as_json=as_json, text=f"Posted unmatched payment {unmatched_id} to {claim_number}.",
                data=lambda item: {"unmatched_id": item.id, "claim": claim_number, "status": item.status.value,
                                   "paid": str(item.paid)})


@payments_cli.command("clear-review")
@click.argument("claim_number")
@click.option("--note", default=None, help="What was confirmed (goes in the history).")
def clear_review_command(claim_number: str, note: str | None) -> None:
    """Clear a claim's Needs Review flag once the balance and the patient's part are confirmed."""
    run_command(lambda: posting.clear_needs_review(_claim(claim_number), actor=CLI, note=note), as_json=False,
                text=f"{claim_number}: Needs Review cleared.")


@payments_cli.command("bill-patient")
@click.argument("claim_number")
@click.option("--reason", default=None)
def bill_patient_command(claim_number: str, reason: str | None) -> None:
    """Move a claim's open insurance balance to the patient (a denial the practice passes on)."""
    run_command(lambda: posting.bill_patient(_claim(claim_number), actor=CLI, posted_on=practice_today(),
                                             reason=reason),
                as_json=False, text=lambda entries: f"{_total(entries)} of {claim_number} billed to the patient.")


@payments_cli.command("patient-payment")
@click.argument("target")
@click.argument("amount")
@click.option("--oldest-first", is_flag=True,
              help="TARGET is a client id: apply the money to the client's claims, oldest service first.")
@click.option("--memo", default=None, help="Check number, card, cash...")
@click.option("--overpayment", is_flag=True, help="Take more than the patient owes (left as a patient credit).")
@click.option("--key", default=None, help="A one-time key: running the command again with it posts nothing again.")
@json_option
def patient_payment_command(target: str, amount: str, oldest_first: bool, memo: str | None, overpayment: bool,
                            key: str | None, as_json: bool) -> None:
    """Record money from the patient or responsible party: on claim TARGET, or with --oldest-first across the
    claims of client TARGET. Prints the receipt number (`flask payments receipt ID -o FILE.pdf`)."""
    value = _money(amount)
    assert value is not None

    def run() -> PaymentReceived:
        claim = None if oldest_first else _claim(target)
        client_id = _client_id(target) if oldest_first else claim.client_id  # type: ignore[union-attr]
        return receive_patient_payment(client_id, value, key=key or new_operation_key(), actor=CLI,
                                       received_on=practice_today(), claim=claim, memo=memo,
                                       overpayment=overpayment)

    run_command(run, as_json=as_json, text=lambda done: done.summary(), data=lambda done: done.as_dict())


def _client_id(text: str) -> int:
    number = parse_id(text)
    if number is None:
        raise_if([Problem("target", f"{text[:40]!r} is not a client id: with --oldest-first, give the client's id.")])
    assert number is not None
    return number


@payments_cli.command("receipt")
@click.argument("payment_id", type=RECORD_ID)
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), required=True, help="FILE.pdf")
@json_option
def receipt_command(payment_id: int, output: str, as_json: bool) -> None:
    """Write the printable receipt of patient payment PAYMENT_ID (the number after R-) to a PDF."""
    run_command(lambda: receipt_file(payment_id, output), as_json=as_json,
                text=lambda r: f"Receipt {r.number} ({format_money(r.amount)}) written to {output}.",
                data=lambda r: {"ok": True, "receipt": r.number, "amount": str(r.amount), "file": output})


@payments_cli.command("set-aside")
@click.argument("unmatched_id", type=RECORD_ID)
@click.option("--reason", required=True, help="Why the payment is not ours.")
def set_aside_command(unmatched_id: int, reason: str) -> None:
    """Take an unmatched remittance claim that is not ours out of the open queue (it is kept)."""
    def op() -> None:
        item = db.session.get(UnmatchedClaim, unmatched_id)
        if item is None:
            raise NotFound(f"No unmatched payment {unmatched_id}.")
        set_aside_unmatched(item, reason=reason, actor=CLI)

    run_command(op, as_json=False, text=f"Unmatched payment {unmatched_id} set aside.")


@payments_cli.command("record")
@click.argument("claim_number")
@click.option("--eob", "eob_file", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The EOB as JSON: paid_on, lines (line, paid, allowed, adjustments), see docs/cli.md.")
@json_option
def record_command(claim_number: str, eob_file: Path, as_json: bool) -> None:
    """Record a payment from a paper EOB, as the Record Payment form does (same checks, same posting)."""
    def op() -> PostingResult:
        try:
            doc = json.loads(eob_file.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise Invalid(f"{eob_file.name} is not JSON: {exc}") from None
        posting_, mode = read_eob(doc)
        return posting.record_manual_payment(_claim(claim_number), posting_, actor=CLI, mode=mode)

    run_command(op, as_json=as_json, text=lambda r: _recorded_text(claim_number, r),
                data=lambda r: {"ok": True, "claim": claim_number, "status": r.status.value,
                                "adjudication": r.adjudication_id, "insurance_balance": str(r.balances.insurance),
                                "patient_balance": str(r.balances.patient), "notes": r.notes})


@payments_cli.command("post-check")
@click.argument("lines_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--payer", help="CSV only: the payer's id or name (JSON files name it inside).")
@click.option("--number", "check_number", help="CSV only: the check (or EFT trace) number.")
@click.option("--date", "check_date", help="CSV only: the check date, YYYY-MM-DD.")
@click.option("--amount", help="CSV only: the check amount, e.g. 1234.50.")
@click.option("--method", default="check", show_default=True, help="CSV only: check, eft, card or other.")
@click.option("--keep-unapplied", is_flag=True, help="CSV only: keep what the lines do not pay as unapplied.")
@click.option("--note", help="CSV only: why part of the check is unapplied.")
@json_option
def post_check_command(lines_file: Path, payer: str | None, check_number: str | None, check_date: str | None,
                       amount: str | None, method: str, keep_unapplied: bool, note: str | None,
                       as_json: bool) -> None:
    """Post one payer's check across the claims it pays, from a JSON or CSV file, all or nothing and once
    (the same payer and check number again posts nothing); see docs/cli.md for both formats."""
    def op() -> CheckPosted:
        try:
            text = lines_file.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            raise Invalid(f"{lines_file.name} is not UTF-8 text.") from None
        if lines_file.suffix.lower() == ".csv":
            doc = _csv_check(text, payer, check_number, check_date, amount, method, keep_unapplied, note)
        else:
            try:
                doc = read_check_json(json.loads(text))
            except json.JSONDecodeError as exc:
                raise Invalid(f"{lines_file.name} is not JSON: {exc}") from None
        header = CheckHeader(payer_called(doc.payer).id, doc.check_number, doc.check_date, doc.amount, doc.method)
        return post_check(header, doc.lines, actor=CLI, keep_unapplied=doc.keep_unapplied, note=doc.note)

    run_command(op, as_json=as_json, text=lambda r: r.summary(), data=lambda r: r.as_dict())


def _csv_check(text: str, payer: str | None, number: str | None, day: str | None, amount: str | None, method: str,
               keep: bool, note: str | None) -> CheckDocument:
    problems = [Problem(f"--{name}", f"A CSV file needs --{name}.")
                for name, value in (("payer", payer), ("number", number), ("date", day), ("amount", amount))
                if not (value or "").strip()]
    raise_if(problems)
    try:
        check_day = date.fromisoformat((day or "").strip())
    except ValueError:
        raise_if([Problem("--date", "--date is the check date as YYYY-MM-DD.")])
        raise
    try:
        total = parse_amount(amount or "")
    except ValueError as exc:
        raise_if([Problem("--amount", str(exc))])
        raise
    chosen = read_method(method, problems)
    raise_if(problems)
    assert chosen is not None
    return CheckDocument(payer or "", (number or "").strip(), check_day, total, chosen, keep, note,
                         read_check_csv(text, check_date=check_day))


def _recorded_text(claim_number: str, result: PostingResult) -> str:
    notes = f" ({'; '.join(result.notes)})" if result.notes else ""
    return (f"Recorded on {claim_number}: now {result.status.value}; insurance owes "
            f"{format_money(result.balances.insurance)}, patient owes {format_money(result.balances.patient)}"
            f"{notes}.")


# --- provider-level adjustments (PLB) -----------------------------------------------------------------------

@payments_cli.command("plbs")
@json_option
def plbs_command(as_json: bool) -> None:
    """List the open provider-level items (PLB offsets that wait for a biller to apply or settle them)."""
    items = open_items()
    text = "\n".join(f"{i.remittance_id:>6} {i.id:>6} {i.remittance.check_number:20} {i.reason_code:3} "
                     f"{format_money(i.open_amount):>12} {i.reference or ''}" for i in items)
    emit(as_json, [plb_document(i) for i in items], text or "No open provider-level items.")


@payments_cli.command("apply-plb")
@click.argument("remittance_id", type=RECORD_ID)
@click.argument("plb_id", type=RECORD_ID)
@click.option("--claim", "claim_number", required=True, help="The claim the offset belongs to (C-000123).")
@json_option
def apply_plb_command(remittance_id: int, plb_id: int, claim_number: str, as_json: bool) -> None:
    """Post an open provider-level item (a PLB offset) on a claim; applying it again posts nothing."""
    run_command(lambda: apply_plb(plb_on(remittance_id, plb_id), _claim(claim_number), actor=CLI),
                as_json=as_json, text=lambda outcome: outcome.summary(),
                data=lambda outcome: {"ok": True, **outcome.as_dict()})


@payments_cli.command("settle-plb")
@click.argument("remittance_id", type=RECORD_ID)
@click.argument("plb_id", type=RECORD_ID)
@click.option("--reason", required=True, help="Why it is settled (e.g. netted against another remittance).")
@json_option
def settle_plb_command(remittance_id: int, plb_id: int, reason: str, as_json: bool) -> None:
    """Close an open provider-level item without posting it on a claim, with the reason."""
    run_command(lambda: settle_plb(plb_on(remittance_id, plb_id), reason=reason, actor=CLI), as_json=as_json,
                text=f"PLB {plb_id} settled.", data=lambda item: {"ok": True, **plb_document(item)})


# --- credit balances: `flask payments credits | refund | apply-credit` -----------------------------------------

@payments_cli.command("credits")
@click.option("--side", type=click.Choice([s.value for s in Side]), default=None, help="Only this side's credits.")
@json_option
def credits_command(side: str | None, as_json: bool) -> None:
    """List the claims with a credit balance (the payer or the patient paid more than owed), oldest service first."""
    today = practice_today()
    run_command(lambda: credit_balances(side=Side(side) if side else None), as_json=as_json,
                text=lambda page: _credits_text(page, today),
                data=lambda page: {"count": page.count, "insurance_total": str(page.insurance_total),
                                   "patient_total": str(page.patient_total),
                                   "claims": [row.as_dict(today) for row in page.rows]})


def _credits_text(page: CreditPage, today: date) -> str:
    lines = [f"{row.number} {row.service_date} {row.client[:30]:30} {row.payer[:24]:24} {side.value:9} "
             f"{format_money(row.credit(side)):>12} {row.age(side, today) or 0:>5}d  "
             f"{row.origins[side].describe() if side in row.origins else ''}"
             for row in page.rows for side in row.sides]
    lines.append(f"{page.count} claim(s) in credit: insurance {format_money(page.insurance_total)}, patient "
                 f"{format_money(page.patient_total)}.")
    return "\n".join(lines)


@payments_cli.command("refund")
@click.argument("claim_number")
@click.option("--side", type=click.Choice([s.value for s in Side]), required=True, help="Whose credit is refunded.")
@click.option("--amount", required=True, help="At most the credit on that side, e.g. 80.00.")
@click.option("--date", "refunded_on", default="", help="The refund check's date (YYYY-MM-DD); today by default.")
@click.option("--reference", required=True, help="The refund check number or reference.")
@click.option("--reason", required=True, help="Why the money goes back (kept in the history).")
@json_option
def refund_command(claim_number: str, side: str, amount: str, refunded_on: str, reference: str, reason: str,
                   as_json: bool) -> None:
    """Record a refund of a claim's insurance or patient credit (a ledger entry; Needs Review stays to be cleared)."""
    def op() -> list[LedgerEntry]:
        refund = read_refund(side, amount, refunded_on, reference, reason)
        return record_refund(_claim(claim_number), refund, actor=CLI)

    run_command(op, as_json=as_json, text=lambda made: f"Refund of {_total(made)} ({side}) recorded on {claim_number}.",
                data=lambda made: {"ok": True, "claim": claim_number, "side": side,
                                   "amount": str(sum_money(e.amount for e in made)), "entries": [e.id for e in made],
                                   **_sides(claim_number)})


def _sides(number: str) -> dict[str, str]:
    sums = claim_balance(claim_by_number(number).id)
    return {"insurance_balance": str(sums.insurance), "patient_balance": str(sums.patient)}


@payments_cli.command("apply-credit")
@click.argument("claim_number")
@click.option("--to", "target_number", required=True, help="The same client's claim the patient owes on.")
@click.option("--amount", required=True, help="At most the credit, and at most what is owed there.")
@click.option("--reason", required=True, help="Why (e.g. the family asked to use it on the next visit).")
@click.option("--date", "posted_on", default="", help="YYYY-MM-DD; today by default.")
@json_option
def apply_credit_command(claim_number: str, target_number: str, amount: str, reason: str, posted_on: str,
                         as_json: bool) -> None:
    """Apply a claim's patient credit to another claim of the same client."""
    def op() -> CreditApplied:
        problems: list[Problem] = []
        value = read_amount(amount, "amount", "The amount", problems)
        day = read_day(posted_on, "posted_on", "The date", problems)
        raise_if(problems)
        assert value is not None
        return apply_patient_credit(_claim(claim_number), _claim(target_number), value, actor=CLI, posted_on=day,
                                    reason=reason)

    run_command(op, as_json=as_json,
                text=lambda done: f"{format_money(done.amount)} of {claim_number}'s patient credit applied to "
                                  f"{target_number}.",
                data=lambda done: {"ok": True, "claim": claim_number, "to": target_number, "amount": str(done.amount),
                                   **_sides(claim_number)})


# --- denied lines (posting rule 3): `flask payments denial ...` ---------------------------------------------

denial_cli = AppGroup("denial", help="Work denied lines: list, write off, bill the patient, appeal, resubmit.")
payments_cli.add_command(denial_cli)


def _line_result(claim_number: str, line: int, entry: LedgerEntry, what: str) -> dict[str, object]:
    return {"ok": True, "claim": claim_number, "line": line, "done": what, "amount": str(entry.amount),
            "entry": entry.id}


@denial_cli.command("list")
@json_option
def denial_list_command(as_json: bool) -> None:
    """The Denied work: Denied claims and claims carrying denied lines still to be worked."""
    def op() -> list[dict[str, object]]:
        claims = list(db.session.scalars(select(Claim).where(in_denied_work()).order_by(Claim.id)))
        denied = denied_lines_of(c.id for c in claims)
        today = practice_today()
        return [{"claim": c.number, "status": c.status.value,
                 "lines": [d.as_dict(today) for d in denied.get(c.id, [])]} for c in claims]

    run_command(op, as_json=as_json, text=lambda rows: "\n".join(
        f"{r['claim']} {r['status']}: " + (", ".join(f"line {d['line']} {d['code']} {d['open_amount']} open"
                                                     for d in r["lines"]) or "claim denied")  # type: ignore[attr-defined]
        for r in rows) or "Nothing denied.")


@denial_cli.command("write-off")
@click.argument("claim_number")
@click.option("--line", "line", type=LINE_NUMBER, required=True, help="The denied line's number on the claim.")
@click.option("--reason", required=True, help="Why it is written off (kept in the history).")
@json_option
def denial_write_off_command(claim_number: str, line: int, reason: str, as_json: bool) -> None:
    """Write off a denied line's open insurance balance (once: a second write-off posts nothing)."""
    run_command(lambda: posting.write_off_denied_line(_claim(claim_number), line, reason=reason, actor=CLI,
                                                       posted_on=practice_today()),
                as_json=as_json, text=lambda e: f"Line {line} of {claim_number}: wrote off {format_money(e.amount)}.",
                data=lambda e: _line_result(claim_number, line, e, "written_off"))


@denial_cli.command("bill-patient")
@click.argument("claim_number")
@click.option("--line", "line", type=LINE_NUMBER, required=True, help="The denied line's number on the claim.")
@click.option("--reason", default=None, help="Why (optional).")
@click.option("--override-reason", default=None,
              help="Required when the denial is group CO (the patient may not be billed): why this one may.")
@json_option
def denial_bill_patient_command(claim_number: str, line: int, reason: str | None, override_reason: str | None,
                                as_json: bool) -> None:
    """Move a denied line's open insurance balance to the patient (refused for a CO denial without override)."""
    run_command(lambda: posting.bill_patient_for_denied_line(_claim(claim_number), line, actor=CLI,
                                                             posted_on=practice_today(), reason=reason,
                                                             override_reason=override_reason),
                as_json=as_json, text=lambda e: f"Line {line} of {claim_number}: {format_money(e.amount)} billed to "
                                                f"the patient.",
                data=lambda e: _line_result(claim_number, line, e, "billed_to_patient"))


@denial_cli.command("appeal")
@click.argument("claim_number")
@click.option("--line", "line", type=LINE_NUMBER, required=True, help="The denied line's number on the claim.")
@click.option("--reason", required=True, help="How and when the appeal went to the payer.")
@json_option
def denial_appeal_command(claim_number: str, line: int, reason: str, as_json: bool) -> None:
    """Mark a denied line appealed: it stays in the Denied work, still owed by the payer."""
    run_command(lambda: posting.appeal_denied_line(_claim(claim_number), line, actor=CLI, reason=reason),
                as_json=as_json, text=f"Line {line} of {claim_number}: appealed.",
                data=lambda _: {"ok": True, "claim": claim_number, "line": line, "done": "appealed"})


@denial_cli.command("resubmit")
@click.argument("claim_number")
@click.option("--reason", required=True, help="What was fixed.")
@json_option
def denial_resubmit_command(claim_number: str, reason: str, as_json: bool) -> None:
    """A new Ready claim with only the denied lines still to be worked; they become resubmitted."""
    run_command(lambda: resubmit_denied_lines(_claim(claim_number), actor=CLI, reason=reason), as_json=as_json,
                text=lambda copy: f"Claim {copy.number} created with the denied lines of {claim_number}.",
                data=lambda copy: {"ok": True, "claim": claim_number, "resubmitted_on": copy.number,
                                   "lines": [ln.line_number for ln in copy.lines]})
