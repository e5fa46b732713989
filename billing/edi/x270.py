"""The 270 eligibility inquiry writer (005010X279A1): inquiry facts in, X12 text out.

Layout: one transaction set per payer; under it (2000A payer) one 2000B information receiver (the practice's
group NPI), and one 2000C subscriber per inquiry, with a 2000D dependent when the client is not the subscriber.
Each inquiry carries its own TRN trace number, which the payer echoes in the 271 (TRN*2): that is how an answer
finds the check it answers. Each asks EQ*30 (health benefit plan coverage), to which a payer answers with the
benefits of every service type it covers, therapy ones included.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from billing.edi.writing import COMPONENT, REPETITION, SEGMENT, clean_text, identifier_problem, segment

IMPLEMENTATION = "005010X279A1"
#: The TR3 allows up to 99 subscribers per 2000B in batch mode; a larger inquiry goes out as several
#: transaction sets, each still one file.
INQUIRIES_PER_TRANSACTION = 99
GENERAL_COVERAGE = "30"


@dataclass(frozen=True)
class InquiryEnvelope:
    sender_qualifier: str
    sender_id: str
    receiver_qualifier: str
    receiver_id: str
    gs_sender: str
    gs_receiver: str
    usage_indicator: str
    control_number: int
    created_at: datetime
    reference: str  # BHT03


@dataclass(frozen=True)
class Receiver:
    """2100B: the practice asking (organisation name, group NPI) and the TRN03 originator (1 + EIN)."""

    name: str
    npi: str
    tax_id: str


@dataclass(frozen=True)
class Person:
    last_name: str
    first_name: str
    date_of_birth: date | None
    sex: str | None  # M, F or None


@dataclass(frozen=True)
class Inquiry:
    trace_number: str
    payer_name: str
    payer_id: str
    member_id: str
    subscriber: Person
    dependent: Person | None  # the client, when not the subscriber
    service_date: date


def d8(day: date) -> str:
    return day.strftime("%Y%m%d")


def inquiry_problems(inquiry: Inquiry) -> list[str]:
    """What stops an inquiry from being written (identifiers are never altered, only refused)."""
    problems = [p for p in (identifier_problem("Member ID", inquiry.member_id),
                            identifier_problem("Payer ID", inquiry.payer_id)) if p]  # fmt: skip
    if not clean_text(inquiry.subscriber.last_name):
        problems.append("Subscriber last name is missing.")
    return problems


def write_270(envelope: InquiryEnvelope, receiver: Receiver, inquiries: Sequence[Inquiry]) -> str:
    """The interchange: one GS, one ST per payer (and per 99 inquiries), in the order given."""
    created = envelope.created_at
    gs = segment("GS", "HS", envelope.gs_sender, envelope.gs_receiver, d8(created), created.strftime("%H%M"),
                 envelope.control_number, "X", IMPLEMENTATION)  # fmt: skip
    lines = [_isa(envelope), gs]
    groups: dict[tuple[str, str], list[Inquiry]] = {}
    for inquiry in inquiries:
        groups.setdefault((inquiry.payer_id, inquiry.payer_name), []).append(inquiry)
    count = 0
    for (payer_id, payer_name), members in groups.items():
        for start in range(0, len(members), INQUIRIES_PER_TRANSACTION):
            count += 1
            lines.extend(_transaction(count, envelope, receiver, payer_id, payer_name,
                                      members[start:start + INQUIRIES_PER_TRANSACTION]))  # fmt: skip
    lines.append(segment("GE", count, envelope.control_number))
    lines.append(segment("IEA", 1, f"{envelope.control_number:09d}"))
    return "".join(line + SEGMENT for line in lines)


def _isa(envelope: InquiryEnvelope) -> str:
    created = envelope.created_at
    return segment(
        "ISA", "00", " " * 10, "00", " " * 10, envelope.sender_qualifier, envelope.sender_id.ljust(15),
        envelope.receiver_qualifier, envelope.receiver_id.ljust(15), created.strftime("%y%m%d"),
        created.strftime("%H%M"), REPETITION, "00501", f"{envelope.control_number:09d}", "0",
        envelope.usage_indicator, COMPONENT,
    )  # fmt: skip


def _transaction(number: int, envelope: InquiryEnvelope, receiver: Receiver, payer_id: str, payer_name: str,
                 members: Sequence[Inquiry]) -> list[str]:  # fmt: skip
    control = f"{number:04d}"
    created = envelope.created_at
    out = [
        segment("ST", "270", control, IMPLEMENTATION),
        segment("BHT", "0022", "13", envelope.reference, d8(created), created.strftime("%H%M")),
        segment("HL", 1, None, 20, 1),
        segment("NM1", "PR", 2, clean_text(payer_name), None, None, None, None, "PI", payer_id),
        segment("HL", 2, 1, 21, 1),
        segment("NM1", "1P", 2, clean_text(receiver.name), None, None, None, None, "XX", receiver.npi),
    ]
    hl = 2
    originator = f"1{receiver.tax_id}"[:10]
    for inquiry in members:
        hl += 1
        subscriber_hl = hl
        dependent = inquiry.dependent
        out.append(segment("HL", subscriber_hl, 2, 22, 1 if dependent else 0))
        if dependent is None:
            out.append(segment("TRN", 1, inquiry.trace_number, originator))
        out.append(_name("IL", inquiry.subscriber, member_id=inquiry.member_id))
        out.extend(_demographics(inquiry.subscriber))
        if dependent is None:
            out.append(segment("DTP", "291", "D8", d8(inquiry.service_date)))
            out.append(segment("EQ", GENERAL_COVERAGE))
            continue
        hl += 1
        out.append(segment("HL", hl, subscriber_hl, 23, 0))
        out.append(segment("TRN", 1, inquiry.trace_number, originator))
        out.append(_name("03", dependent))
        out.extend(_demographics(dependent))
        out.append(segment("DTP", "291", "D8", d8(inquiry.service_date)))
        out.append(segment("EQ", GENERAL_COVERAGE))
    out.append(segment("SE", len(out) + 1, control))
    return out


def _name(entity: str, person: Person, *, member_id: str | None = None) -> str:
    last, first = clean_text(person.last_name), clean_text(person.first_name, limit=35)
    if member_id is None:
        return segment("NM1", entity, 1, last, first)
    return segment("NM1", entity, 1, last, first, None, None, None, "MI", member_id)


def _demographics(person: Person) -> list[str]:
    if person.date_of_birth is None:
        return []
    return [segment("DMG", "D8", d8(person.date_of_birth), person.sex if person.sex in ("M", "F") else None)]
