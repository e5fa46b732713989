"""Writing a 277 claim status response (005010X212) the way a payer answers our 276, from the demo's data.

ClaimDesk receives these files; it writes them only to play the payer: the demo clearinghouse in test mode, and
tests that must feed the importer 277s answering their own inquiries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from billing.edi.writing import amount
from billing.submissions.claim_status_models import StatusInquiry

ISA = "ISA*00*          *00*          *ZZ*{sender:<15}*ZZ*{receiver:<15}*{day:%y%m%d}*0900*^*00501*{control:09d}*0*T*:"


@dataclass(frozen=True)
class StatusReply:
    """What the payer says about one claim (one STC)."""

    claim_number: str
    charge: Decimal
    service_date: date
    category: str = "P1"
    status: str = "20"
    entity: str = ""
    paid: Decimal = Decimal(0)
    finalized_on: date | None = None
    check_on: date | None = None
    check_number: str = ""
    payer_claim_number: str | None = None
    member_id: str = "M1"
    last_name: str = "DOE"
    first_name: str = "JANE"


def write_277(
    inquiry: StatusInquiry,
    replies: Sequence[StatusReply],
    *,
    on: date,
    payer_name: str = "DEMO PAYER",
    payer_id: str = "DEMOPAYER",
    provider_npi: str = "1234567893",
) -> bytes:
    """A 277 answering `inquiry`: one 2000D per reply (the subscriber is the patient), in the given order."""
    house = inquiry.clearinghouse
    d8 = f"{on:%Y%m%d}"
    body = [
        "ST*277*0001*005010X212",
        f"BHT*0010*08*{inquiry.number}*{d8}*0900*DG",
        "HL*1**20*1",
        f"NM1*PR*2*{payer_name}*****PI*{payer_id}",
        "HL*2*1*21*1",
        f"NM1*41*2*{house.submitter_name[:60].upper()}*****46*{house.submitter_etin}",
        "HL*3*2*19*1",
        f"NM1*1P*2*DEMO THERAPY*****XX*{provider_npi}",
    ]
    for n, reply in enumerate(replies, start=4):
        stc = ":".join(p for p in (reply.category, reply.status, reply.entity) if p)
        tail = [
            d8 if reply.finalized_on is None else f"{reply.finalized_on:%Y%m%d}",
            "",
            "" if reply.check_on is None else f"{reply.check_on:%Y%m%d}",
            reply.check_number,
        ]
        if reply.finalized_on is None and reply.check_on is None and not reply.check_number:
            tail = []
        body += [
            f"HL*{n}*3*22*0",
            f"NM1*IL*1*{reply.last_name}*{reply.first_name}****MI*{reply.member_id}",
            f"TRN*2*{reply.claim_number}",
            "*".join(["STC", stc, d8, "", amount(reply.charge), amount(reply.paid), *tail]).rstrip("*"),
        ]
        if reply.payer_claim_number:
            body.append(f"REF*1K*{reply.payer_claim_number}")
        body += [f"REF*EJ*{reply.claim_number}", f"DTP*472*D8*{reply.service_date:%Y%m%d}"]
    segments = [
        ISA.format(sender=house.isa_receiver_id, receiver=house.isa_sender_id, control=inquiry.id, day=on),
        f"GS*HN*{house.gs_receiver_code}*{house.gs_sender_code}*{d8}*0900*{inquiry.id}*X*005010X212",
        *body,
        f"SE*{len(body) + 1}*0001",
        f"GE*1*{inquiry.id}",
        f"IEA*1*{inquiry.id:09d}",
    ]
    return ("~".join(segments) + "~").encode()
