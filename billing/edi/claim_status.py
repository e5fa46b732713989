"""Claim status: writing the 276 inquiry and reading the 277 response (005010X212), as plain data.

A 276 asks a payer, claim by claim, where our claim stands; the 277 answers each with STC statuses
(category:status:entity, the date, the amounts, the finalized and check dates). TRN02 of the inquiry is our
claim number (CLM01), and the 277 echoes it in its TRN*2; REF*EJ carries the same number, REF*1K the payer's.
This is not the 277CA (005010X214, `billing.edi.acks`), which acknowledges an 837 claim by claim.

The hierarchy, one 2000D per claim:
    HL 20 payer (NM1*PR) > HL 21 information receiver (NM1*41, us) > HL 19 provider (NM1*1P)
      > HL 22 subscriber (NM1*IL) [> HL 23 dependent (DMG, NM1*QC) when the patient is not the subscriber]
        > 2200 TRN*1, REF*1K, REF*EJ, AMT*T3, DTP*472

Reading goes through x12sdk (`billing.edi.x12sdk_io`, the one door to it); a file it refuses, or whose
claims lack a trace number or a status, raises `ClaimStatusUnreadable` naming what is wrong.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from billing.core.errors import Invalid, Problem
from billing.edi.claim_facts import ClaimFacts
from billing.edi.segments import decode, split_segments
from billing.edi.writing import COMPONENT, REPETITION, SEGMENT, clean_text, identifier_problem, segment
from billing.edi.x12sdk_io import read_transactions, transaction_problems
from billing.edi.x837p import Envelope

GUIDE = "005010X212"
#: One transaction carries at most this many claims; a longer list goes out as several transactions.
CLAIMS_PER_TRANSACTION = 1000


class ClaimStatusUnreadable(Invalid):
    """A 277 (claim status response) that cannot be read; the message says why."""


# --- the 276 ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InquiryClaim:
    """What a 276 says about one claim: who pays, who billed, whose claim, and how to find it."""

    trace: str  # TRN02 and REF*EJ: our claim number
    payer_name: str
    payer_id: str
    provider_name: str
    provider_npi: str
    member_id: str
    subscriber_last: str
    subscriber_first: str
    charge: Decimal
    service_from: date
    service_to: date
    #: Set when the patient is not the subscriber (a 2000E dependent level is written).
    patient_last: str | None = None
    patient_first: str | None = None
    patient_birth: date | None = None
    patient_sex: str | None = None
    payer_claim_number: str | None = None  # REF*1K, when the payer gave one


def inquiry_claim(facts: ClaimFacts) -> InquiryClaim:
    """The 276's view of a claim as the 837P described it."""
    coverage, patient = facts.coverage, facts.patient
    dates = [line.service_date for line in facts.lines] or [date.min]
    dependent = not coverage.patient_is_subscriber
    return InquiryClaim(
        trace=facts.number, payer_name=coverage.payer_name, payer_id=coverage.payer_id,
        provider_name=facts.billing.name, provider_npi=facts.billing.npi, member_id=coverage.member_id,
        subscriber_last=coverage.subscriber.last_name, subscriber_first=coverage.subscriber.first_name,
        charge=facts.total, service_from=min(dates), service_to=max(dates),
        patient_last=patient.last_name if dependent else None, patient_first=patient.first_name if dependent else None,
        patient_birth=patient.date_of_birth if dependent else None, patient_sex=patient.sex if dependent else None,
        payer_claim_number=facts.payer_claim_number,
    )  # fmt: skip


def inquiry_problems(claim: InquiryClaim) -> list[str]:
    """What stops a claim from being asked about (an identifier X12 cannot carry, a missing dependent's birth date)."""
    found = [identifier_problem(what, value) for what, value in (
        ("The claim number", claim.trace), ("The payer id", claim.payer_id), ("The member id", claim.member_id),
        ("The billing provider's NPI", claim.provider_npi))]  # fmt: skip
    if claim.payer_claim_number:
        found.append(identifier_problem("The payer's claim number", claim.payer_claim_number))
    if claim.patient_last is not None and claim.patient_birth is None:
        found.append("The patient is not the subscriber, and a 276 needs the patient's date of birth.")
    return [problem for problem in found if problem]


def write_276(envelope: Envelope, claims: Sequence[InquiryClaim]) -> str:
    """One interchange, one functional group (HR), a transaction per CLAIMS_PER_TRANSACTION claims."""
    stamp = envelope.created_at
    out = [
        _isa(envelope),
        segment(
            "GS",
            "HR",
            envelope.gs_sender,
            envelope.gs_receiver,
            stamp.strftime("%Y%m%d"),
            stamp.strftime("%H%M"),
            envelope.control_number,
            "X",
            GUIDE,
        ),
    ]
    chunks = [claims[i : i + CLAIMS_PER_TRANSACTION] for i in range(0, len(claims), CLAIMS_PER_TRANSACTION)]
    for index, chunk in enumerate(chunks):
        _inquiry(out, envelope, f"{index + 1:04d}", chunk)
    out += [segment("GE", len(chunks), envelope.control_number), segment("IEA", 1, f"{envelope.control_number:09d}")]
    return SEGMENT.join(out) + SEGMENT


def _isa(env: Envelope) -> str:
    return segment(
        "ISA", "00", " " * 10, "00", " " * 10,
        env.sender_qualifier, env.sender_id.ljust(15)[:15], env.receiver_qualifier, env.receiver_id.ljust(15)[:15],
        env.created_at.strftime("%y%m%d"), env.created_at.strftime("%H%M"), REPETITION, "00501",
        f"{env.control_number:09d}", "0", env.usage_indicator, COMPONENT,
    )  # fmt: skip


def _inquiry(out: list[str], env: Envelope, control: str, claims: Sequence[InquiryClaim]) -> None:
    start = len(out)
    out.append(segment("ST", "276", control, GUIDE))
    out.append(segment("BHT", "0010", "13", env.reference, env.created_at.strftime("%Y%m%d"),
                       env.created_at.strftime("%H%M")))  # fmt: skip
    hl = 0
    for (payer_name, payer_id), for_payer in _grouped(claims, lambda c: (c.payer_name, c.payer_id)):
        hl += 1
        payer_hl = hl
        out += [
            segment("HL", payer_hl, "", "20", "1"),
            segment("NM1", "PR", "2", clean_text(payer_name), "", "", "", "", "PI", payer_id),
        ]
        hl += 1
        receiver_hl = hl
        out += [
            segment("HL", receiver_hl, payer_hl, "21", "1"),
            segment("NM1", "41", "2", clean_text(env.submitter_name), "", "", "", "", "46", env.submitter_etin),
        ]
        for (provider, npi), for_provider in _grouped(for_payer, lambda c: (c.provider_name, c.provider_npi)):
            hl += 1
            provider_hl = hl
            out += [
                segment("HL", provider_hl, receiver_hl, "19", "1"),
                segment("NM1", "1P", "2", clean_text(provider), "", "", "", "", "XX", npi),
            ]
            for claim in for_provider:
                hl = _claim(out, claim, provider_hl, hl)
    out.append(segment("SE", len(out) - start + 1, control))


def _claim(out: list[str], claim: InquiryClaim, provider_hl: int, hl: int) -> int:
    dependent = claim.patient_last is not None
    hl += 1
    subscriber_hl = hl
    out += [segment("HL", subscriber_hl, provider_hl, "22", "1" if dependent else "0"),
            segment("NM1", "IL", "1", clean_text(claim.subscriber_last), clean_text(claim.subscriber_first), "", "",
                    "", "MI", claim.member_id)]  # fmt: skip
    if dependent:
        hl += 1
        out += [
            segment("HL", hl, subscriber_hl, "23"),
            segment("DMG", "D8", f"{claim.patient_birth:%Y%m%d}", claim.patient_sex or "U"),
            segment("NM1", "QC", "1", clean_text(claim.patient_last), clean_text(claim.patient_first)),
        ]
    out.append(segment("TRN", "1", claim.trace))
    if claim.payer_claim_number:
        out.append(segment("REF", "1K", claim.payer_claim_number))
    out += [segment("REF", "EJ", claim.trace), segment("AMT", "T3", claim.charge)]
    if claim.service_from == claim.service_to:
        out.append(segment("DTP", "472", "D8", f"{claim.service_from:%Y%m%d}"))
    else:
        out.append(segment("DTP", "472", "RD8", f"{claim.service_from:%Y%m%d}-{claim.service_to:%Y%m%d}"))
    return hl


def _grouped(items: Sequence[InquiryClaim], key: Any) -> Iterator[tuple[Any, list[InquiryClaim]]]:
    """Groups in first-seen order (the file keeps the caller's order within each group)."""
    groups: dict[Any, list[InquiryClaim]] = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    yield from groups.items()


def check_276(text: str, claims: Sequence[InquiryClaim]) -> list[Problem]:
    """The house checks of a written 276, then x12sdk's reading of it against the X212 guide.

    House checks: every claim asked about once, SE01 counts its segments, HL numbers run 1, 2, 3... with
    parents that exist, GE01 counts the transactions, the control numbers agree.
    """
    problems = [Problem(f"claim {c.trace}", p) for c in claims for p in inquiry_problems(c)]
    _, segments = split_segments(text)
    traces = [s[2] for s in segments if s[0] == "TRN" and len(s) > 2]
    if sorted(traces) != sorted(c.trace for c in claims):
        problems.append(Problem("TRN", "The file does not ask about each claim exactly once."))
    problems += _structure_problems(segments)
    return problems + transaction_problems(text, "276")


def _structure_problems(segments: list[list[str]]) -> list[Problem]:
    problems: list[Problem] = []
    start, transactions, seen_hl = 0, 0, 0
    for index, seg in enumerate(segments):
        if seg[0] == "ST":
            start, seen_hl, transactions = index, 0, transactions + 1
        elif seg[0] == "HL":
            seen_hl += 1
            if seg[1] != str(seen_hl) or (seg[2] and not 0 < int(seg[2] or 0) < seen_hl):
                problems.append(Problem(f"HL {seg[1]}", "HL numbers must run 1, 2, 3... under existing parents."))
        elif seg[0] == "SE" and seg[1] != str(index - start + 1):
            problems.append(
                Problem(f"SE {seg[2]}", f"SE01 says {seg[1]} segments; the transaction has {index - start + 1}.")
            )
    ge = next((s for s in segments if s[0] == "GE"), None)
    if ge is None or ge[1] != str(transactions):
        problems.append(Problem("GE", "GE01 must count the transactions in the group."))
    isa, gs, iea = segments[0], segments[1], segments[-1]
    if iea[2] != isa[13] or (ge is not None and ge[2] != gs[6]) or int(gs[6]) != int(isa[13]):
        problems.append(Problem("IEA", "The interchange and group control numbers must agree."))
    return problems


# --- the 277 ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusAnswer:
    """One STC: what the payer says about a claim."""

    category: str  # STC01-1, e.g. P1, F1, F2, A4
    status_code: str  # STC01-2
    entity: str  # STC01-3 (who the status is about), often empty
    effective_on: date | None  # STC02
    action_code: str  # STC03
    charge: Decimal | None  # STC04
    paid: Decimal | None  # STC05
    finalized_on: date | None  # STC06: adjudication or finalized date
    payment_method: str  # STC07
    check_issued_on: date | None  # STC08
    check_number: str  # STC09
    #: Further statuses in the same STC (STC10, STC11), "category:status[:entity]" each.
    more: tuple[str, ...] = ()
    message: str = ""  # STC12


@dataclass(frozen=True)
class ClaimStatusReport:
    """A claim's 2200 loop in a 277: its trace number and the payer's statuses."""

    trace: str  # TRN02: our claim number, echoed
    statuses: tuple[StatusAnswer, ...]
    payer_claim_number: str | None  # REF*1K
    patient_account: str | None  # REF*EJ
    service_from: date | None
    service_to: date | None
    payer_name: str = ""
    payer_id: str = ""
    member_id: str = ""


@dataclass(frozen=True)
class Envelope277:
    sender_id: str  # ISA06
    receiver_id: str  # ISA08
    gs_sender: str
    gs_receiver: str
    interchange_control: str


@dataclass
class Response277:
    envelope: Envelope277
    claims: list[ClaimStatusReport] = field(default_factory=list)


def read_277(data: bytes | str) -> Response277:
    """Every claim status the file reports, in file order; raises ClaimStatusUnreadable when it cannot be read."""
    text = decode(data)
    try:
        models = read_transactions(text, "277")
        _, segments = split_segments(text)
    except Invalid as exc:
        raise ClaimStatusUnreadable(f"This 277 cannot be read: {exc.message}", exc.problems) from None
    isa = segments[0]
    gs = next((s for s in segments if s[0] == "GS"), ["GS", "", "", ""])
    envelope = Envelope277(_at(isa, 6), _at(isa, 8), _at(gs, 2), _at(gs, 3), _at(isa, 13))
    response = Response277(envelope)
    for model in models:
        for payer in model.loop_2000a:
            nm1 = payer.loop_2100a.nm1_segment
            where = (nm1.name_last_or_organization_name or "", nm1.identification_code or "")
            for receiver in payer.loop_2000b:
                for provider in receiver.loop_2000c or ():
                    for subscriber in provider.loop_2000d or ():
                        member = subscriber.loop_2100d.nm1_segment.identification_code or ""
                        loops = list(subscriber.loop_2200d or ())
                        for dependent in subscriber.loop_2000e or ():
                            loops += list(dependent.loop_2200e or ())
                        response.claims += [_report(loop, where, member) for loop in loops]
    return response


def _report(loop: Any, payer: tuple[str, str], member: str) -> ClaimStatusReport:
    refs = {ref.reference_identification_qualifier: ref.reference_identification for ref in loop.ref_segment or ()}
    start, end = _period(loop.dtp_segment)
    trace = (loop.trn_segment.reference_identification_1 or "").strip()
    if not trace:
        raise ClaimStatusUnreadable("A claim in this 277 has no trace number (TRN02); nothing was recorded.")
    return ClaimStatusReport(
        trace=trace, statuses=tuple(_answer(stc) for stc in loop.stc_segment),
        payer_claim_number=_text(refs.get("1K")), patient_account=_text(refs.get("EJ")),
        service_from=start, service_to=end, payer_name=payer[0], payer_id=payer[1], member_id=member,
    )  # fmt: skip


def _answer(stc: Any) -> StatusAnswer:
    parts = (str(stc.health_care_claim_status_1) + "::").split(":")
    more = tuple(str(v) for v in (stc.health_care_claim_status_2, stc.health_care_claim_status_3) if v)
    return StatusAnswer(
        category=parts[0].strip().upper(), status_code=parts[1].strip(), entity=parts[2].strip().upper(),
        effective_on=_day(stc.status_effective_date), action_code=stc.action_code or "",
        charge=_money(stc.total_claim_charge_amount), paid=_money(stc.claim_payment_amount),
        finalized_on=_day(stc.adjudication_finalized_date), payment_method=stc.payment_method_code or "",
        check_issued_on=_day(stc.remittance_date), check_number=stc.remittance_trace_number or "",
        more=more, message=(stc.free_form_message_text or "")[:264],
    )  # fmt: skip


def _period(dtp: Any) -> tuple[date | None, date | None]:
    if dtp is None:
        return None, None
    value = dtp.date_time_period
    if isinstance(value, str) and "-" in value:
        first, _, last = value.partition("-")
        return _day(first), _day(last)
    day = _day(value)
    return day, day


def _day(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return datetime.strptime(str(value)[:8], "%Y%m%d").date()
    except ValueError:
        return None


def _money(value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except InvalidOperation:
        return None


def _text(value: Any) -> str | None:
    return str(value).strip() or None if value is not None else None


def _at(seg: list[str], n: int) -> str:
    return seg[n].strip() if len(seg) > n else ""
