"""Writing a 999 and a 277CA the way a clearinghouse and a payer's front end would, answering our own batches.

ClaimDesk receives these files; it writes them only to play the other side: the demo practice's acknowledgments,
and tests and benchmarks that must feed the importer files answering their own batches.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from billing.submissions.models import SubmissionBatch

ISA = "ISA*00*          *00*          *ZZ*{sender:<15}*ZZ*{receiver:<15}*{day:%y%m%d}*0900*^*00501*{control:09d}*0*T*:"
#: The day a file is dated when the caller gives none (what the tests' batches expect).
DEFAULT_DAY = date(2026, 3, 10)


@dataclass(frozen=True)
class Error:
    """An IK3 (and IK4s) at a position counted from ST = 1."""

    segment: str
    position: int
    code: str = "8"
    elements: Sequence[tuple[str, str, str, str]] = ()  # (IK401, IK402, IK403, IK404)


@dataclass
class Answer:
    status: str = "A"  # IK501
    errors: list[Error] = field(default_factory=list)
    codes: Sequence[str] = ()


def write_999(batch: SubmissionBatch, answers: Mapping[str, Answer] | None = None, *, receiver: str | None = None,
              group_control: int | None = None, ak9: str | None = None, on: date = DEFAULT_DAY) -> bytes:
    """A 999 for `batch`: one AK2 per transaction (ST02 "0001"...), each accepted unless `answers` says otherwise."""
    answers = answers or {}
    controls = [f"{batch.control_number + i:04d}" for i in range(batch.transaction_count)]
    body = ["ST*999*0001*005010X231A1", f"AK1*HC*{group_control or batch.control_number}*005010X222A1"]
    statuses = []
    for control in controls:
        answer = answers.get(control, Answer())
        body.append(f"AK2*837*{control}*005010X222A1")
        for error in answer.errors:
            body.append(f"IK3*{error.segment}*{error.position}**{error.code}")
            body += [f"IK4*{pos}*{ref}*{code}" + (f"*{bad}" if bad else "") for pos, ref, code, bad in error.elements]
        body.append("*".join(["IK5", answer.status, *answer.codes]))
        statuses.append(answer.status)
    accepted = sum(1 for s in statuses if s in "AE")
    verdict = ak9 or ("A" if accepted == len(statuses) and "E" not in statuses else "E" if accepted == len(statuses)
                      else "R" if accepted == 0 else "P")
    body.append(f"AK9*{verdict}*{len(statuses)}*{len(statuses)}*{accepted}")
    return _interchange(batch, "FA", "005010X231A1", body, receiver, on)


@dataclass(frozen=True)
class ClaimAnswer:
    claim_number: str
    category: str = "A2"
    status: str = "20"
    entity: str = ""
    payer_claim_number: str | None = None
    service_date: date = date(2026, 3, 2)


def write_277ca(batch: SubmissionBatch, answers: Sequence[ClaimAnswer], *, receiver: str | None = None,
                on: date = DEFAULT_DAY) -> bytes:
    d8 = f"{on:%Y%m%d}"
    body = ["ST*277*0001*005010X214", f"BHT*0085*08*1*{d8}*0900*TH", "HL*1**20*1",
            "NM1*PR*2*KEYSTONE HEALTH*****PI*KEYINS01", "TRN*1*1", f"DTP*050*D8*{d8}", f"DTP*009*D8*{d8}",
            "HL*2*1*21*1", "NM1*41*2*TEST THERAPY GROUP*****46*ETIN0001", "TRN*2*1",
            f"STC*A1:20*{d8}*WQ*0", "HL*3*2*19*1", "NM1*85*2*TEST THERAPY GROUP*****XX*1234567893"]
    for n, answer in enumerate(answers, start=4):
        stc = ":".join(p for p in (answer.category, answer.status, answer.entity) if p)
        body += [f"HL*{n}*3*PT", "NM1*QC*1*DOE*JANE****MI*M1", f"TRN*2*{answer.claim_number}",
                 f"STC*{stc}*{d8}*WQ*100"]
        if answer.payer_claim_number:
            body.append(f"REF*1K*{answer.payer_claim_number}")
        body.append(f"DTP*472*D8*{answer.service_date:%Y%m%d}")
    return _interchange(batch, "HN", "005010X214", body, receiver, on)


def _interchange(batch: SubmissionBatch, functional: str, guide: str, body: list[str], receiver: str | None,
                 on: date) -> bytes:
    house = batch.clearinghouse
    to, gs_to = receiver or house.isa_sender_id, receiver or house.gs_sender_code
    segments = [ISA.format(sender=house.isa_receiver_id, receiver=to, control=batch.id, day=on),
                f"GS*{functional}*{house.gs_receiver_code}*{gs_to}*{on:%Y%m%d}*0900*1*X*{guide}",
                *body, f"SE*{len(body) + 1}*0001", "GE*1*1", f"IEA*1*{batch.id:09d}"]
    return ("~".join(segments) + "~").encode()
