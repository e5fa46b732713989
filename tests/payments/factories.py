"""Payments test helpers: submitted claims in the claims world, and an 835 writer that passes pyx12."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time, timedelta
from decimal import Decimal

from billing.claims.models import Claim
from billing.claims.sessions import finalize_sessions
from billing.claims.statuses import ClaimStatus
from billing.ledger.charges import post_submission_charges
from billing.ledger.postings import Adjustment, ClaimPosting, LinePosting
from tests.billing.claims.world import DAY, SYSTEM, World, walk_to

PAID_ON = date(2026, 4, 1)


def submitted_claim(world: World, *, lines: int = 1, day: date = DAY, charged: bool = True) -> Claim:
    """A Submitted claim with `lines` one-hour sessions on one day (4 units x 18.37 = 73.48 each).

    Its charges are in the ledger, dated the day after the service, as a batch send leaves them; `charged=False`
    gives a claim marked Submitted without them (one billed before charges posted at submission).
    """
    visits = [world.visit(day=day, start=time(8 + 2 * n, 0)) for n in range(lines)]
    result = finalize_sessions(visits, actor=SYSTEM)
    assert len(result.created) == 1, result
    claim = walk_to(result.created[0], ClaimStatus.SUBMITTED)
    if charged:
        post_submission_charges([claim], actor=SYSTEM, posted_on=day + timedelta(days=1))
    return claim


def full_payment(claim: Claim, *, paid_share: Decimal = Decimal("0.80"), copay: Decimal = Decimal("0")) -> ClaimPosting:
    """Every line paid `paid_share` of its charge, the rest contractual (CO-45) except a PR-3 copay."""
    postings = []
    for line in claim.lines:
        paid = (line.charge * paid_share).quantize(Decimal("0.01"))
        adjustments = [Adjustment("CO", "45", line.charge - paid - copay)]
        if copay:
            adjustments.append(Adjustment("PR", "3", copay))
        postings.append(LinePosting(line.line_number, paid, tuple(adjustments), allowed=paid + copay))
    return ClaimPosting(paid_on=PAID_ON, lines=tuple(postings), payer_claim_number=f"ICN{claim.id:08d}")


# --- 835 writer ---------------------------------------------------------------------------------------------

@dataclass
class Svc:
    code: str
    charge: Decimal
    paid: Decimal
    adjustments: list[tuple[str, str, Decimal]] = field(default_factory=list)
    allowed: Decimal | None = None
    service_date: date | None = DAY
    line_control: str | None = None
    remarks: list[str] = field(default_factory=list)
    units: int = 4


@dataclass
class Clp:
    number: str
    status: str
    charge: Decimal
    paid: Decimal
    patient_responsibility: Decimal = Decimal(0)
    payer_claim_number: str = "PCN1"
    services: list[Svc] = field(default_factory=list)
    adjustments: list[tuple[str, str, Decimal]] = field(default_factory=list)


@dataclass
class Payment:
    amount: Decimal
    check: str
    payer_name: str
    payer_id: str
    claims: list[Clp]
    paid_on: date = PAID_ON
    plbs: list[tuple[str, Decimal]] = field(default_factory=list)
    method: str = "CHK"


def _amt(value: Decimal) -> str:
    text = f"{Decimal(value):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _cas(group: str, items: list[tuple[str, str, Decimal]]) -> list[str]:
    segments = []
    for g in dict.fromkeys(a[0] for a in items):
        triples = [x for a in items if a[0] == g for x in (a[1], _amt(a[2]), "")]
        segments.append("*".join(["CAS", g, *triples]).rstrip("*"))
    return segments


def write_835(payments: list[Payment], *, control: int = 1) -> str:
    """An interchange with one ST..SE per payment, in the segment order pyx12's 835 map expects."""
    body: list[str] = []
    for n, pay in enumerate(payments, start=1):
        seg = [f"ST*835*{n:04d}",
               f"BPR*I*{_amt(pay.amount)}*C*{pay.method}************{pay.paid_on:%Y%m%d}",
               f"TRN*1*{pay.check}*1{pay.payer_id[:9]:0>9}",
               f"DTM*405*{pay.paid_on:%Y%m%d}",
               f"N1*PR*{pay.payer_name}", "N3*1 PAYER WAY", "N4*SPRINGFIELD*IL*62701",
               f"REF*2U*{pay.payer_id}", "PER*BL*EDI DESK*TE*8005551212",
               "N1*PE*TEST THERAPY GROUP*XX*1234567893", "LX*1"]
        for clp in pay.claims:
            seg.append(f"CLP*{clp.number}*{clp.status}*{_amt(clp.charge)}*{_amt(clp.paid)}*"
                       f"{_amt(clp.patient_responsibility)}*12*{clp.payer_claim_number}")
            seg += _cas("", clp.adjustments)
            seg.append("NM1*QC*1*CLIENT*SAM****MI*M123")
            for svc in clp.services:
                seg.append(f"SVC*HC:{svc.code}*{_amt(svc.charge)}*{_amt(svc.paid)}**{svc.units}")
                if svc.service_date:
                    seg.append(f"DTM*472*{svc.service_date:%Y%m%d}")
                seg += _cas("", svc.adjustments)
                if svc.line_control:
                    seg.append(f"REF*6R*{svc.line_control}")
                if svc.allowed is not None:
                    seg.append(f"AMT*B6*{_amt(svc.allowed)}")
                seg += [f"LQ*HE*{r}" for r in svc.remarks]
        for reason, amount in pay.plbs:
            seg.append(f"PLB*1234567893*{pay.paid_on.year}1231*{reason}:REF1*{_amt(amount)}")
        seg.append(f"SE*{len(seg) + 1}*{n:04d}")
        body += seg
    isa = (f"ISA*00*          *00*          *ZZ*PAYERSENDER    *ZZ*CLAIMDESK      *260401*1200*^*00501*"
           f"{control:09d}*0*T*:")
    gs = f"GS*HP*PAYERSENDER*CLAIMDESK*20260401*1200*{control}*X*005010X221A1"
    segments = [isa, gs, *body, f"GE*{len(payments)}*{control}", f"IEA*1*{control:09d}"]
    return "~\n".join(segments) + "~\n"


def clp_for(claim: Claim, posting: ClaimPosting, *, status: str = "1") -> Clp:
    """The CLP a payer would send for a posting we can also type by hand."""
    services = [
        Svc(line.service_code.code, line.charge, lp.paid, [(a.group, a.reason, a.amount) for a in lp.adjustments],
            lp.allowed, line.service_date, str(line.line_number), list(lp.remarks))
        for line, lp in zip(claim.lines, posting.lines, strict=True)
    ]
    pr = sum((a.amount for lp in posting.lines for a in lp.adjustments if a.group == "PR"), Decimal(0))
    return Clp(claim.number, status, claim.total_charge, posting.paid, pr, f"ICN{claim.id:08d}", services)
