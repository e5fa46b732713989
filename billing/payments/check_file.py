"""A check to post from a file (`flask payments post-check FILE`): JSON with the check and its claims, or CSV lines.

JSON, each claim written as a Record Payment EOB (billing/payments/eob.py) without its date (the check's):

    {"payer": "Aetna", "check_number": "40017", "check_date": "2026-04-01", "amount": "98.78", "method": "check",
     "keep_unapplied": false, "note": "",
     "claims": [{"claim": "C-000012", "lines": [{"line": 1, "paid": "58.78",
                 "adjustments": [{"group": "CO", "reason": "45", "amount": "14.70"}]}]}]}

CSV, one row per service line, the check given on the command line:

    claim,line,paid,allowed,deductible,coinsurance,copay,group,reason,adjustment,remarks,leave_open
    C-000012,1,58.78,58.78,,,,CO,45,14.70,,

Every problem is named by its place (`claims[1].lines[0].paid`, `row 3: paid`); nothing posts unless all of it reads.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from billing.core.errors import BillingError, Problem, ValidationFailed, raise_if
from billing.core.money import parse_amount
from billing.ledger.models import PaymentMethod
from billing.ledger.postings import Adjustment, ClaimPosting, LinePosting
from billing.payments.checks import CheckLine
from billing.payments.eob import read_eob

_TOP = {"payer", "check_number", "check_date", "amount", "method", "keep_unapplied", "note", "claims"}
CSV_COLUMNS = (
    "claim",
    "line",
    "paid",
    "allowed",
    "deductible",
    "coinsurance",
    "copay",
    "group",
    "reason",
    "adjustment",
    "remarks",
    "leave_open",
)
_PATIENT = (("deductible", "1"), ("coinsurance", "2"), ("copay", "3"))


@dataclass(frozen=True)
class CheckDocument:
    payer: str
    check_number: str
    check_date: date
    amount: Any
    method: PaymentMethod
    keep_unapplied: bool
    note: str | None
    lines: tuple[CheckLine, ...]


def read_check_json(doc: Any) -> CheckDocument:
    """The check a JSON document describes, read strictly."""
    if not isinstance(doc, Mapping):
        raise_if([Problem("check", "The file must be a JSON object with payer, check_number, amount and claims.")])
    problems = [
        Problem("check", f"The check has no field {key!r}; known: {', '.join(sorted(_TOP))}.")
        for key in sorted(set(doc) - _TOP)
    ]
    day = _date(doc.get("check_date"), problems)
    method = read_method(doc.get("method", "check"), problems)
    amount = _amount(doc.get("amount"), "amount", problems)
    keep = doc.get("keep_unapplied", False)
    if not isinstance(keep, bool):
        problems.append(Problem("keep_unapplied", "keep_unapplied is true or false."))
    claims = doc.get("claims")
    if not isinstance(claims, list) or not claims:
        problems.append(Problem("claims", "claims is a list with at least one claim."))
        claims = []
    lines = []
    for n, item in enumerate(claims):
        where = f"claims[{n}]"
        if not isinstance(item, Mapping) or not isinstance(item.get("claim"), str):
            problems.append(Problem(where, f"{where} is an object with claim (its number) and lines."))
            continue
        eob = {k: v for k, v in item.items() if k not in ("claim", "overpayment")}
        eob["paid_on"] = day.isoformat() if day else "2000-01-01"  # the check's date; posting replaces it anyway
        try:
            posting, mode = read_eob(eob)
        except ValidationFailed as exc:
            problems += [Problem(f"{where}.{p.field}", p.message) for p in exc.problems]
            continue
        lines.append(CheckLine(item["claim"].strip(), posting, mode=mode, overpayment=item.get("overpayment") is True))
    raise_if(problems)
    assert day is not None
    assert method is not None
    return CheckDocument(
        _text(doc.get("payer")),
        _text(doc.get("check_number")),
        day,
        amount,
        method,
        keep,
        _text(doc.get("note")) or None,
        tuple(lines),
    )


def read_check_csv(text: str, *, check_date: date) -> tuple[CheckLine, ...]:
    """The claims a CSV of service lines pays (rows of one claim need not be next to each other)."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in ("claim", "line", "paid") if c not in (reader.fieldnames or [])]
    if missing:
        raise_if(
            [Problem("csv", f"The CSV header needs {', '.join(missing)}; the columns are {', '.join(CSV_COLUMNS)}.")]
        )
    problems: list[Problem] = []
    by_claim: dict[str, list[LinePosting]] = {}
    for n, row in enumerate(reader, start=2):
        where = f"row {n}"
        unknown = sorted(k for k in row if k not in CSV_COLUMNS and k is not None)
        if unknown or None in row:
            problems.append(Problem(where, f"{where}: unknown or extra columns {unknown or 'past the header'}."))
            continue
        line = _csv_line(row, where, problems)
        if line is not None:
            by_claim.setdefault((row.get("claim") or "").strip(), []).append(line)
    if not by_claim and not problems:
        problems.append(Problem("csv", "The CSV has no lines."))
    raise_if(problems)
    return tuple(CheckLine(number, ClaimPosting(check_date, tuple(lines))) for number, lines in by_claim.items())


def read_method(value: Any, problems: list[Problem]) -> PaymentMethod | None:
    method = next((m for m in PaymentMethod if m.value == value), None)
    if method is None:
        problems.append(Problem("method", f"method is one of {', '.join(m.value for m in PaymentMethod)}."))
    return method


def _csv_line(row: Mapping[str, str], where: str, problems: list[Problem]) -> LinePosting | None:
    count = len(problems)
    if not (row.get("claim") or "").strip():
        problems.append(Problem(f"{where}.claim", f"{where}: claim is the claim number, e.g. C-000012."))
    number = (row.get("line") or "").strip()
    if not number.isascii() or not number.isdigit() or int(number) < 1:
        problems.append(Problem(f"{where}.line", f"{where}: line is the claim's line number: 1, 2, 3..."))
    paid = _amount(row.get("paid"), f"{where}.paid", problems)
    allowed = _amount(row["allowed"], f"{where}.allowed", problems) if (row.get("allowed") or "").strip() else None
    adjustments = [
        Adjustment("PR", code, amount)
        for name, code in _PATIENT
        if (row.get(name) or "").strip() and (amount := _amount(row[name], f"{where}.{name}", problems)) is not None
    ]
    group, reason = (row.get("group") or "").strip().upper(), (row.get("reason") or "").strip().upper()
    if group or reason or (row.get("adjustment") or "").strip():
        amount = _amount(row.get("adjustment"), f"{where}.adjustment", problems, negative=True)
        if not (group and reason):
            problems.append(Problem(f"{where}.group", f"{where}: an adjustment needs its group and reason."))
        elif amount is not None:
            adjustments.append(Adjustment(group, reason, amount))
    remarks = tuple(r.strip().upper() for r in (row.get("remarks") or "").replace(";", ",").split(",") if r.strip())
    leave_open = (row.get("leave_open") or "").strip().lower() in ("1", "yes", "true", "y")
    if len(problems) > count or paid is None:
        return None
    return LinePosting(int(number), paid, tuple(adjustments), allowed=allowed, remarks=remarks, leave_open=leave_open)


def _amount(value: Any, where: str, problems: list[Problem], *, negative: bool = False) -> Any:
    if not isinstance(value, str):
        problems.append(Problem(where, f'{where}: write the amount as a string, e.g. "58.78".'))
        return None
    try:
        return parse_amount(value.strip(), negative=negative)
    except (ValueError, BillingError) as exc:
        problems.append(Problem(where, f"{where}: {exc}"))
        return None


def _date(value: Any, problems: list[Problem]) -> date | None:
    if isinstance(value, str) and len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    problems.append(Problem("check_date", "check_date is the check's date as YYYY-MM-DD."))
    return None


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""
