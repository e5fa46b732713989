"""Reading the Record Payment, Reverse and bulk clawback forms into the payments services' inputs.

Amounts are read as exact decimals; anything unreadable becomes a Problem naming the field, so the page
can show every mistake at once and nothing is posted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from billing.claims.models import Claim
from billing.core.codes import GROUP_CODES
from billing.core.errors import Problem
from billing.core.money import ZERO, parse_amount
from billing.core.time import practice_today
from billing.ledger.models import Adjudication, PaymentMethod
from billing.ledger.postings import Adjustment, ClaimPosting, LinePosting
from billing.payments.reversals import PATIENT_REASONS, BulkClawbackItem, CorrectedLine

#: Adjustment rows shown per line; a biller rarely needs more than three CAS reasons on one line.
ADJUSTMENT_ROWS = 3
#: The patient's part of a line, one field each, as an EOB prints them.
PATIENT_FIELDS = (("deductible", "1"), ("coinsurance", "2"), ("copay", "3"))


@dataclass
class PaymentForm:
    """The form as typed: kept to redisplay it with the preview or the problems."""

    values: Mapping[str, Any]
    problems: list[Problem] = field(default_factory=list)
    posting: ClaimPosting | None = None

    def get(self, name: str, default: str = "") -> str:
        return str(self.values.get(name, default) or default)


def read_amount(text: str, label: str, problems: list[Problem], *, negative: bool = False) -> Decimal | None:
    """A typed amount, strictly (billing.core.money.parse_amount): "1e10", "1,2,3", full-width digits and "12.345" are
    refused with the field's name, never guessed at. A leading "$" is allowed; an empty field is None."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        return parse_amount(text.removeprefix("$").strip(), negative=negative)
    except ValueError as exc:
        problems.append(Problem("amount", f"{label}: {exc}"))
        return None


def read_date(text: str, label: str, problems: list[Problem]) -> date:
    text = (text or "").strip()
    if not text:
        return practice_today()
    for pattern in ("%Y-%m-%d", "%m/%d/%Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    problems.append(Problem("paid_on", f"{label}: {text!r} is not a date (MM/DD/YYYY)."))
    return practice_today()


def read_payment(claim: Claim, values: Mapping[str, Any]) -> PaymentForm:
    """The Record Payment form as a ClaimPosting; lines left entirely blank are not posted."""
    form = PaymentForm(values)
    problems = form.problems
    paid_on = read_date(form.get("paid_on"), "Payment date", problems)
    lines = []
    for line in claim.lines:
        posted = _read_line(form, line.line_number, problems)
        if posted is not None:
            lines.append(posted)
    if not lines and not problems:
        problems.append(Problem("lines", "Enter what the payer paid or adjusted on at least one line."))
    check_number, check_date, method = read_check_details(form, problems)
    if not problems:
        form.posting = ClaimPosting(
            paid_on=paid_on, lines=tuple(lines), payer_claim_number=form.get("payer_claim_number").strip() or None,
            memo=form.get("memo").strip() or "manual EOB entry",
            check_number=check_number, check_date=check_date, payment_method=method,
        )
    return form


def read_check_details(form: PaymentForm, problems: list[Problem]) -> tuple[str | None, date | None,
                                                                             PaymentMethod | None]:
    """The optional check (or EFT) number, check date and payment method of a typed EOB."""
    number = form.get("check_number").strip()
    if len(number) > 50:
        problems.append(Problem("check_number", "Check / EFT number: at most 50 characters."))
    day = read_date(form.get("check_date"), "Check date", problems) if form.get("check_date").strip() else None
    chosen = form.get("payment_method").strip()
    method = next((m for m in PaymentMethod if m.value == chosen), None)
    if chosen and method is None:
        problems.append(Problem("payment_method", "Payment method: choose check, EFT, card or other."))
    return number or None, day, method


def _read_line(form: PaymentForm, number: int, problems: list[Problem]) -> LinePosting | None:
    prefix, where = f"line-{number}-", f"Line {number}"
    paid = read_amount(form.get(prefix + "paid"), f"{where} paid", problems)
    allowed = read_amount(form.get(prefix + "allowed"), f"{where} allowed", problems)
    adjustments = [
        Adjustment("PR", code, amount) for name, code in PATIENT_FIELDS
        if (amount := read_amount(form.get(prefix + name), f"{where} {name}", problems))
    ]
    for k in range(ADJUSTMENT_ROWS):
        row = f"{prefix}adj-{k}-"
        group, reason = form.get(row + "group").strip().upper(), form.get(row + "reason").strip().upper()
        amount = read_amount(form.get(row + "amount"), f"{where} adjustment {k + 1}", problems, negative=True)
        if not reason and amount is None:
            continue
        if group not in GROUP_CODES:
            problems.append(Problem("adjustments", f"{where} adjustment {k + 1}: choose a group code."))
        elif not reason:
            problems.append(Problem("adjustments", f"{where} adjustment {k + 1}: enter the reason code (CARC)."))
        elif amount is None:
            problems.append(Problem("adjustments", f"{where} adjustment {k + 1}: enter the amount."))
        else:
            adjustments.append(Adjustment(group, reason, amount))
    remarks = tuple(r.strip().upper() for r in form.get(prefix + "remarks").replace(";", ",").split(",") if r.strip())
    if paid is None and not adjustments:
        return None
    return LinePosting(number, paid or ZERO, tuple(adjustments), allowed=allowed, remarks=remarks,
                       leave_open=bool(form.get(prefix + "open")))


def read_bulk_clawback(values: Any, claim_ids: list[int]) -> tuple[list[BulkClawbackItem], list[Problem]]:
    """Ticked claims; for each, the corrected allowed / paid per line (all blank: reverse only)."""
    problems: list[Problem] = []
    items = []
    for claim_id in claim_ids:
        if not values.get(f"claim-{claim_id}"):
            continue
        lines = []
        for key in sorted(k for k in values if k.startswith(f"c{claim_id}-l") and k.endswith("-paid")):
            number = int(key.split("-l", 1)[1].split("-", 1)[0])
            prefix, where = f"c{claim_id}-l{number}-", f"Claim {claim_id} line {number}"
            paid = read_amount(values.get(prefix + "paid", ""), f"{where} paid", problems)
            allowed = read_amount(values.get(prefix + "allowed", ""), f"{where} allowed", problems)
            if paid is None and allowed is None:
                continue
            reason = values.get(prefix + "pr", "2")
            lines.append(CorrectedLine(number, allowed if allowed is not None else (paid or ZERO), paid or ZERO,
                                       reason if reason in PATIENT_REASONS else "2"))
        items.append(BulkClawbackItem(claim_id, tuple(lines)))
    return items, problems


def values_from(claim: Claim, adjudication: Adjudication) -> dict[str, str]:
    """The Record Payment form filled with a posted payment, to correct it ("edit" = reverse + new entry)."""
    values = {"mode": "replace", "payer_claim_number": adjudication.payer_claim_number or "",
              "memo": f"correction of the payment of {adjudication.paid_on:%m/%d/%Y}",
              "check_number": adjudication.check_number or "",
              "check_date": adjudication.check_date.isoformat() if adjudication.check_date else "",
              "payment_method": adjudication.payment_method.value if adjudication.payment_method else ""}
    patient_field = {code: name for name, code in PATIENT_FIELDS}
    numbers = {ln.id: ln.line_number for ln in claim.lines}
    for line in adjudication.lines:
        prefix = f"line-{numbers[line.claim_line_id]}-"
        values[prefix + "paid"] = str(line.paid)
        values[prefix + "allowed"] = "" if line.allowed is None else str(line.allowed)
        values[prefix + "remarks"] = line.remarks
        others = []
        for adj in (a for a in adjudication.adjustments if a.adjudication_line_id == line.id):
            name = patient_field.get(adj.reason_code) if adj.group_code == "PR" else None
            if name and not values.get(prefix + name):
                values[prefix + name] = str(adj.amount)
            else:
                others.append(adj)
        for k, adj in enumerate(others[:ADJUSTMENT_ROWS]):
            values |= {f"{prefix}adj-{k}-group": adj.group_code, f"{prefix}adj-{k}-reason": adj.reason_code,
                       f"{prefix}adj-{k}-amount": str(adj.amount)}
        accounted = line.paid + sum((a.amount for a in adjudication.adjustments if a.adjudication_line_id == line.id),
                                    ZERO)
        if accounted != line.charge:
            values[prefix + "open"] = "1"
    return values
