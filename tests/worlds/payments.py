"""Payer answers for tests: postings typed by hand, and 835 files a payer could have sent.

The 835 writer here takes payments as plain values (any claim number, any amounts, foreign claims, PLBs), so a
test can say exactly what the payer sent; it writes amounts and CAS segments with the demo's own helpers
(demo/era_writer.py), so there is one way to write them. What it writes passes pyx12 with zero errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from billing.claims.models import Claim
from billing.ledger.postings import Adjustment, ClaimPosting, LinePosting
from demo.era_writer import TERMINATOR, amount, cas_segments
from tests.worlds.practice import DAY

D = Decimal
PAID_ON = date(2026, 4, 1)


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
    plbs: list[tuple[str, Decimal] | tuple[str, Decimal, str]] = field(default_factory=list)
    method: str = "CHK"


def _cas(items: list[tuple[str, str, Decimal]]) -> list[str]:
    """CAS segments for (group, reason, amount) triples, as the demo's writer writes them."""
    return cas_segments(Adjustment(group, reason, value) for group, reason, value in items)


def write_835(payments: list[Payment], *, control: int = 1) -> str:
    """An interchange with one ST..SE per payment, in the segment order pyx12's 835 map expects."""
    body: list[str] = []
    for n, pay in enumerate(payments, start=1):
        seg = [f"ST*835*{n:04d}",
               f"BPR*I*{amount(pay.amount)}*C*{pay.method}************{pay.paid_on:%Y%m%d}",
               f"TRN*1*{pay.check}*1{pay.payer_id[:9]:0>9}",
               f"DTM*405*{pay.paid_on:%Y%m%d}",
               f"N1*PR*{pay.payer_name}", "N3*1 PAYER WAY", "N4*SPRINGFIELD*IL*62701",
               f"REF*2U*{pay.payer_id}", "PER*BL*EDI DESK*TE*8005551212",
               "N1*PE*TEST THERAPY GROUP*XX*1234567893", "LX*1"]
        for clp in pay.claims:
            seg.append(f"CLP*{clp.number}*{clp.status}*{amount(clp.charge)}*{amount(clp.paid)}*"
                       f"{amount(clp.patient_responsibility)}*12*{clp.payer_claim_number}")
            seg += _cas(clp.adjustments)
            seg.append("NM1*QC*1*CLIENT*SAM****MI*M123")
            for svc in clp.services:
                seg.append(f"SVC*HC:{svc.code}*{amount(svc.charge)}*{amount(svc.paid)}**{svc.units}")
                if svc.service_date:
                    seg.append(f"DTM*472*{svc.service_date:%Y%m%d}")
                seg += _cas(svc.adjustments)
                if svc.line_control:
                    seg.append(f"REF*6R*{svc.line_control}")
                if svc.allowed is not None:
                    seg.append(f"AMT*B6*{amount(svc.allowed)}")
                seg += [f"LQ*HE*{r}" for r in svc.remarks]
        # (reason, amount) or (reason, amount, PLB03-2); one PLB segment holds up to six (PLB03..PLB14).
        pairs = [f"{reason}:{(reference or ['REF1'])[0]}*{amount(value)}" for reason, value, *reference in pay.plbs]
        for k in range(0, len(pairs), 6):
            seg.append(f"PLB*1234567893*{pay.paid_on.year}1231*" + "*".join(pairs[k:k + 6]))
        seg.append(f"SE*{len(seg) + 1}*{n:04d}")
        body += seg
    isa = (f"ISA*00*          *00*          *ZZ*PAYERSENDER    *ZZ*CLAIMDESK      *260401*1200*^*00501*"
           f"{control:09d}*0*T*:")
    gs = f"GS*HP*PAYERSENDER*CLAIMDESK*20260401*1200*{control}*X*005010X221A1"
    segments = [isa, gs, *body, f"GE*{len(payments)}*{control}", f"IEA*1*{control:09d}"]
    return TERMINATOR.join(segments) + TERMINATOR


def clp_for(claim: Claim, posting: ClaimPosting, *, status: str = "1") -> Clp:
    """The CLP a payer would send for a posting we can also type by hand."""
    services = [
        Svc(line.service_code.code, line.charge, lp.paid, [(a.group, a.reason, a.amount) for a in lp.adjustments],
            lp.allowed, line.service_date, str(line.line_number), list(lp.remarks))
        for line, lp in zip(claim.lines, posting.lines, strict=True)
    ]
    pr = sum((a.amount for lp in posting.lines for a in lp.adjustments if a.group == "PR"), Decimal(0))
    return Clp(claim.number, status, claim.total_charge, posting.paid, pr, f"ICN{claim.id:08d}", services)


def era_for(world, claim: Claim, *, check: str = "CHK1", extra: tuple[Clp, ...] | list[Clp] = ()) -> bytes:
    """The payer pays our claim in full (50.00 + CO-45 13.48 + PR-2 10.00), plus any foreign claims, with a PLB."""
    svc = Svc("97153", D("73.48"), D("50.00"), [("CO", "45", D("13.48")), ("PR", "2", D("10.00"))], D("60.00"),
              DAY, "1", ["N130"])
    claims = [Clp(claim.number, "1", D("73.48"), D("50.00"), D("10.00"), "ICN-9", [svc]), *extra]
    total = sum((c.paid for c in claims), D(0)) - D("2.00")
    payment = Payment(total, check, world.payer.name, world.payer.edi_payer_id, claims, plbs=[("L6", D("2.00"))])
    return write_835([payment]).encode()


def foreign(number: str = "ACCT-77") -> Clp:
    """A claim in the payer's 835 that is not ours."""
    return Clp(number, "1", D("73.48"), D("60.00"), D("0"), "ICN-F",
               [Svc("97153", D("73.48"), D("60.00"), [("CO", "45", D("13.48"))], None, DAY, None)])
