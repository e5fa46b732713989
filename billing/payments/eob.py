"""A paper EOB as a JSON document (`flask payments record --eob FILE.json`), read strictly into a ClaimPosting.

The document says what the payer's EOB says, per line of our claim:

    {"paid_on": "2026-04-01", "payer_claim_number": "ICN123", "mode": "add", "memo": "EOB 4471",
     "claim_adjustments": [{"group": "CO", "reason": "253", "amount": "1.20"}],
     "lines": [{"line": 1, "paid": "58.78", "allowed": "58.78", "remarks": ["N130"],
                "adjustments": [{"group": "CO", "reason": "45", "amount": "14.70"}]}]}

Every problem is collected with the place it was found (`lines[0].paid`), and nothing is posted unless the whole
document reads; the posting engine then checks the amounts against the claim as it does for the form.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from billing.core.errors import Problem, raise_if
from billing.core.money import parse_amount
from billing.ledger.postings import Adjustment, ClaimPosting, LinePosting

MODES = ("", "add", "replace")
_TOP = {"paid_on", "payer_claim_number", "mode", "memo", "claim_adjustments", "lines"}
_LINE = {"line", "paid", "allowed", "adjustments", "remarks", "leave_open"}
_ADJUSTMENT = {"group", "reason", "amount", "quantity"}


def read_eob(doc: Any) -> tuple[ClaimPosting, str]:
    """The posting an EOB document describes, and its mode ("add", "replace" or "" for a first payment)."""
    problems: list[Problem] = []
    if not isinstance(doc, Mapping):
        raise_if([Problem("eob", "The EOB must be a JSON object with paid_on and lines.")])
    problems += _unknown(doc, _TOP, "eob")
    paid_on = _date(doc.get("paid_on"), "paid_on", problems)
    mode = doc.get("mode", "") or ""
    if mode not in MODES:
        problems.append(Problem("mode", "mode is add (another payment) or replace (this one corrects the last)."))
    lines = [_line(item, f"lines[{n}]", problems) for n, item in enumerate(_list(doc, "lines", problems))]
    claim_level = [_adjustment(item, f"claim_adjustments[{n}]", problems)
                   for n, item in enumerate(_list(doc, "claim_adjustments", problems, required=False))]
    raise_if(problems)
    assert paid_on is not None
    posting = ClaimPosting(
        paid_on=paid_on, lines=tuple(ln for ln in lines if ln is not None),
        claim_adjustments=tuple(a for a in claim_level if a is not None),
        payer_claim_number=_text(doc.get("payer_claim_number")), memo=_text(doc.get("memo")),
    )
    return posting, mode


def _line(item: Any, where: str, problems: list[Problem]) -> LinePosting | None:
    if not isinstance(item, Mapping):
        problems.append(Problem(where, "Each line is an object with line and paid."))
        return None
    problems += _unknown(item, _LINE, where)
    number = item.get("line")
    if not isinstance(number, int) or isinstance(number, bool) or number < 1:
        problems.append(Problem(f"{where}.line", "line is our claim's line number: 1, 2, 3..."))
    paid = _amount(item.get("paid"), f"{where}.paid", problems)
    allowed = _amount(item["allowed"], f"{where}.allowed", problems) if item.get("allowed") is not None else None
    adjustments = [_adjustment(a, f"{where}.adjustments[{n}]", problems)
                   for n, a in enumerate(_list(item, "adjustments", problems, required=False, where=where))]
    remarks = item.get("remarks", [])
    if not isinstance(remarks, list) or not all(isinstance(r, str) and r.strip() for r in remarks):
        problems.append(Problem(f"{where}.remarks", "remarks is a list of RARC codes, e.g. [\"N130\"]."))
        remarks = []
    leave_open = item.get("leave_open", False)
    if not isinstance(leave_open, bool):
        problems.append(Problem(f"{where}.leave_open", "leave_open is true or false."))
    if paid is None or not isinstance(number, int):
        return None
    return LinePosting(number, paid, tuple(a for a in adjustments if a is not None), allowed=allowed,
                       remarks=tuple(r.strip().upper() for r in remarks), leave_open=leave_open is True)


def _adjustment(item: Any, where: str, problems: list[Problem]) -> Adjustment | None:
    if not isinstance(item, Mapping):
        problems.append(Problem(where, "Each adjustment is an object with group, reason and amount."))
        return None
    problems += _unknown(item, _ADJUSTMENT, where)
    group, reason = _text(item.get("group")), _text(item.get("reason"))
    if not group:
        problems.append(Problem(f"{where}.group", "group is the CAS group code: CO, PR, OA, PI or CR."))
    if not reason:
        problems.append(Problem(f"{where}.reason", "reason is the CARC, e.g. 45."))
    amount = _amount(item.get("amount"), f"{where}.amount", problems, negative=True)
    quantity = (_amount(item["quantity"], f"{where}.quantity", problems)
                if item.get("quantity") is not None else None)
    if not (group and reason) or amount is None:
        return None
    return Adjustment(group.upper(), reason.upper(), amount, quantity)


def _amount(value: Any, where: str, problems: list[Problem], *, negative: bool = False) -> Decimal | None:
    # Amounts are JSON strings ("58.78"): a JSON number would arrive as a float and could not be trusted.
    if not isinstance(value, str):
        problems.append(Problem(where, "Write the amount as a string with at most two decimals, e.g. \"58.78\"."))
        return None
    try:
        return parse_amount(value, negative=negative)
    except ValueError as exc:
        problems.append(Problem(where, str(exc)))
        return None


def _date(value: Any, where: str, problems: list[Problem]) -> date | None:
    if isinstance(value, str) and len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    problems.append(Problem(where, f"{where} is the check or EOB date as YYYY-MM-DD."))
    return None


def _list(doc: Mapping[str, Any], key: str, problems: list[Problem], *, required: bool = True,
          where: str = "") -> list[Any]:
    value = doc.get(key)
    name = f"{where}.{key}" if where else key
    if value is None and not required:
        return []
    if not isinstance(value, list) or (required and not value):
        problems.append(Problem(name, f"{name} is a list{' with at least one item' if required else ''}."))
        return []
    return value


def _unknown(doc: Mapping[str, Any], known: set[str], where: str) -> list[Problem]:
    return [Problem(where, f"{where} has no field {key!r}; known: {', '.join(sorted(known))}.")
            for key in sorted(set(doc) - known)]


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None
