"""The 271 eligibility response reader (005010X279A1): X12 text in, one `Answer` per member asked about.

Read with our own segment reader, not x12sdk's models: x12sdk 2.2.0 types EB09 (quantity qualifier, "VS" for
visits) as a decimal and refuses every 271 that states a visit limit, which is the benefit a therapy practice
most needs (see README, library table). Service type and AAA code texts are from the X279A1 code lists (they
match x12sdk's enums for the codes listed here).

An answer is matched to its question by the TRN02 trace number we sent (the payer echoes it as TRN*2).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from billing.core.errors import Invalid
from billing.core.money import parse_amount
from billing.edi.kinds import require_kind
from billing.edi.segments import decode, split_segments

#: Service type codes (EB03) a therapy practice bills under, with their X12 names.
THERAPY_SERVICE_TYPES = {
    "30": "Health benefit plan coverage",
    "AD": "Occupational therapy",
    "AE": "Physical medicine",
    "PT": "Physical therapy",
    "AF": "Speech therapy",
    "MH": "Mental health",
    "A6": "Psychotherapy",
    "A8": "Psychiatric - outpatient",
    "CF": "Mental health provider - outpatient",
    "BD": "Cognitive therapy",
    "98": "Professional (physician) visit - office",
}
ACTIVE_CODES = frozenset("12345")  # EB01 1-5: active coverage (with or without a named plan type)
INACTIVE_CODES = frozenset("678")  # 6 inactive, 7 pending eligibility update, 8 pending investigation
#: AAA03 reject reasons (X279A1), in words.
REJECT_REASONS = {
    "04": "Authorized quantity exceeded",
    "15": "Required application data missing",
    "33": "Input errors",
    "35": "Out of network",
    "41": "Authorization/access restrictions",
    "42": "Unable to respond at current time",
    "43": "Invalid/missing provider identification",
    "44": "Invalid/missing provider name",
    "45": "Invalid/missing provider specialty",
    "46": "Invalid/missing provider phone number",
    "47": "Invalid/missing provider state",
    "48": "Invalid/missing referring provider identification number",
    "49": "Provider is not primary care physician",
    "50": "Provider ineligible for inquiries",
    "51": "Provider not on file",
    "52": "Service dates not within provider plan enrollment",
    "53": "Inquired benefit inconsistent with provider type",
    "54": "Inappropriate product/service ID qualifier",
    "55": "Inappropriate product/service ID",
    "56": "Inappropriate date",
    "57": "Invalid/missing date(s) of service",
    "58": "Invalid/missing date of birth",
    "60": "Date of birth follows date(s) of service",
    "61": "Date of death precedes date(s) of service",
    "62": "Date of service not within allowable inquiry period",
    "63": "Date of service in future",
    "64": "Invalid/missing patient ID",
    "65": "Invalid/missing patient name",
    "66": "Invalid/missing patient gender code",
    "67": "Patient not found",
    "68": "Duplicate patient ID number",
    "69": "Inconsistent with patient's age",
    "70": "Inconsistent with patient's gender",
    "71": "Patient birth date does not match that for the patient on the database",
    "72": "Invalid/missing subscriber/insured ID",
    "73": "Invalid/missing subscriber/insured name",
    "74": "Invalid/missing subscriber/insured gender code",
    "75": "Subscriber/insured not found",
    "76": "Duplicate subscriber/insured ID number",
    "77": "Subscriber found, patient not found",
    "78": "Subscriber/insured not in group/plan identified",
    "79": "Invalid participant identification",
    "80": "No response received - transaction terminated",
    "97": "Invalid or missing provider address",
    "T4": "Payer name or identifier missing",
}
FOLLOW_UPS = {
    "C": "please correct and resubmit",
    "N": "resubmission not allowed",
    "P": "please resubmit original transaction",
    "R": "resubmission allowed",
    "S": "do not resubmit; inquiry initiated to a third party",
    "W": "please wait 30 days and resubmit",
    "X": "please wait 10 days and resubmit",
    "Y": "do not resubmit; we will hand over",
}
#: AAA03 codes that mean the payer could not find or match the member: the answer is "unknown", not "failed".
MEMBER_NOT_IDENTIFIED = frozenset({"58", "64", "65", "67", "68", "71", "72", "73", "75", "76", "77", "78"})


class Not271(Invalid):
    """The file is not a readable 271."""


@dataclass
class Benefit:
    """What the payer says about one service type (EB03), in network unless the payer says otherwise."""

    service_type: str
    copay: Decimal | None = None
    coinsurance_percent: Decimal | None = None  # 20 for 20%
    deductible_remaining: Decimal | None = None
    out_of_pocket_remaining: Decimal | None = None
    visits_limit: int | None = None
    visits_remaining: int | None = None
    visits_used: int | None = None

    @property
    def name(self) -> str:
        return THERAPY_SERVICE_TYPES.get(self.service_type, f"Service type {self.service_type}")


@dataclass
class Answer:
    trace_number: str | None
    status: str  # active, inactive, unknown, failed
    plan_name: str | None = None
    group_number: str | None = None
    plan_begin: date | None = None
    plan_end: date | None = None
    benefits: dict[str, Benefit] = field(default_factory=dict)
    rejections: list[tuple[str, str]] = field(default_factory=list)  # (AAA03 code, reason in words)
    segments: list[str] = field(default_factory=list)  # the member's part of the 271, as received
    said: set[str] = field(default_factory=set, repr=False)  # what the EB01 codes said, settled at the end


def read_271(data: bytes | str) -> list[Answer]:
    """Every member answered in the file, in order. Payer- or receiver-level AAA (2100A/2100B) applies to every
    member under it; a member with no EB and no AAA is "unknown"."""
    text = decode(data)
    require_kind(text, "271")
    delims, segments = split_segments(text)
    answers: list[Answer] = []
    inherited: list[tuple[str, str]] = []  # (code, words) of AAA above the subscriber level
    current: Answer | None = None
    trace_is_carried = False
    for elements in segments:
        tag = elements[0].strip().upper()
        raw = delims.element.join(elements)
        if tag == "ST":
            inherited, current = [], None
            continue
        if tag == "HL":
            level = _el(elements, 3)
            if level in ("20", "21"):
                inherited = [] if level == "20" else inherited
                current = None
            elif level in ("22", "23"):
                carried = None
                if level == "23" and current is not None and not (current.said or current.rejections
                                                                  or current.benefits):  # fmt: skip
                    # The subscriber level only carries the dependent asked about (and, from some payers, the
                    # trace number: the dependent's own TRN, when there is one, wins).
                    answers.pop()
                    carried = current.trace_number
                current = Answer(trace_number=carried, status="unknown", rejections=list(inherited))
                trace_is_carried = carried is not None
                answers.append(current)
            if current is not None:
                current.segments.append(raw)
            continue
        if tag in ("SE", "GE", "IEA"):
            continue
        if current is None:
            if tag == "AAA":
                inherited.append(_rejection(elements))
            continue
        current.segments.append(raw)
        if tag == "TRN" and _el(elements, 1) in ("1", "2") and (current.trace_number is None or trace_is_carried):
            current.trace_number, trace_is_carried = _el(elements, 2), False
        elif tag == "AAA":
            current.rejections.append(_rejection(elements))
        elif tag == "REF" and _el(elements, 1) == "6P":
            current.group_number = _el(elements, 2) or None
            current.plan_name = current.plan_name or _el(elements, 3) or None
        elif tag == "DTP" and _el(elements, 1) in ("291", "346", "347", "307", "356", "357"):
            _dates(current, elements)
        elif tag == "EB":
            _eb(current, elements, delims.repetition)
    for answer in answers:
        _settle(answer)
    if not answers:
        raise Not271("The 271 answers no member (no subscriber or dependent level).", ["271: no HL*22 or HL*23"])
    return answers


def _el(elements: list[str], n: int) -> str:
    return elements[n].strip() if len(elements) > n else ""


def _rejection(elements: list[str]) -> tuple[str, str]:
    code, follow = _el(elements, 3), _el(elements, 4)
    words = REJECT_REASONS.get(code, f"Reject reason {code or '(none)'}")
    return code, (f"{words} ({code}); {FOLLOW_UPS[follow]}" if follow in FOLLOW_UPS else f"{words} ({code})")


@functools.lru_cache(maxsize=4096)
def _date(value: str) -> date | None:
    """CCYYMMDD, or None; by hand and cached (strptime costs milliseconds a call when the machine is busy)."""
    if len(value) != 8 or not value.isascii() or not value.isdigit():
        return None
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        return None


def _dates(answer: Answer, elements: list[str]) -> None:
    qualifier, form, value = _el(elements, 1), _el(elements, 2), _el(elements, 3)
    if form == "RD8" and "-" in value:
        first, last = value.split("-", 1)
        begin, end = _date(first), _date(last)
    else:
        begin = end = _date(value)
    if qualifier in ("346", "356", "291", "307") and begin and answer.plan_begin is None:
        answer.plan_begin = begin
    if qualifier in ("347", "357") or (form == "RD8" and qualifier in ("291", "307")):
        answer.plan_end = end or answer.plan_end


def _decimal(value: str) -> Decimal | None:
    try:
        return Decimal(value) if value else None
    except InvalidOperation:
        return None


def _money(value: str) -> Decimal | None:
    """EB07 through the house's strict amount parser; an amount it refuses is left out, not guessed at."""
    try:
        return parse_amount(value) if value else None
    except ValueError:
        return None


def _count(value: str) -> int | None:
    number = _decimal(value)
    return int(number) if number is not None and number == number.to_integral_value() else None


def _eb(answer: Answer, elements: list[str], repetition: str) -> None:
    code, level = _el(elements, 1).upper(), _el(elements, 2)
    types = [t for t in _el(elements, 3).split(repetition) if t] or ["30"]
    period, network = _el(elements, 6), _el(elements, 12).upper()
    if code in ACTIVE_CODES:
        answer.said.add("active")
        answer.plan_name = _el(elements, 5) or answer.plan_name
    elif code in INACTIVE_CODES:
        answer.said.add("inactive" if "30" in types else "inactive for a service type")
    if network == "N" or level == "FAM":
        return  # out-of-network and family amounts are not the client's own
    amount, percent = _money(_el(elements, 7)), _decimal(_el(elements, 8))
    quantity_kind, quantity = _el(elements, 9).upper(), _count(_el(elements, 10))
    for service_type in types:
        benefit = answer.benefits.get(service_type)
        if benefit is None and code in "BACGF":
            benefit = answer.benefits.setdefault(service_type, Benefit(service_type))
        if benefit is None:
            continue
        if code == "B" and amount is not None:
            benefit.copay = amount
        elif code == "A" and percent is not None:
            benefit.coinsurance_percent = (percent * 100 if percent <= 1 else percent).quantize(Decimal("0.01"))
        elif code == "C" and amount is not None and period == "29":
            benefit.deductible_remaining = amount
        elif code == "G" and amount is not None and period == "29":
            benefit.out_of_pocket_remaining = amount
        elif code == "F" and quantity_kind == "VS" and quantity is not None:
            if period == "29":
                benefit.visits_remaining = quantity
            else:
                benefit.visits_limit = quantity


def _settle(answer: Answer) -> None:
    for benefit in answer.benefits.values():
        if benefit.visits_limit is not None and benefit.visits_remaining is not None:
            benefit.visits_used = max(benefit.visits_limit - benefit.visits_remaining, 0)
    if "inactive" in answer.said:  # the plan as a whole (EB03 30) is inactive
        answer.status = "inactive"
    elif "active" in answer.said:
        answer.status = "active"
    elif answer.said:
        answer.status = "inactive"
    elif answer.rejections:
        codes = {code for code, _ in answer.rejections}
        answer.status = "unknown" if codes & MEMBER_NOT_IDENTIFIED else "failed"
