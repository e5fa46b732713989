"""Writing an 835 the way a payer would: from adjudications expressed as our own `ClaimPosting`s.

ClaimDesk receives 835s; it writes one only to play the payer: the demo practice's remittances, and
round-trip tests and benchmarks that must feed the importer a file it has never seen. The segment order
is the one pyx12's 005010X221A1 map expects, so what this writes validates with zero errors.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from billing.claims.models import Claim, ClaimLine
from billing.core.money import sum_money
from billing.ledger.postings import Adjustment, ClaimPosting, LinePosting

TERMINATOR = "~\n"

#: The 835's CLP06 has its own code list: the 837's SBR09 codes for commercial (CI), Blue Cross (BL), self-pay
#: (09) and other non-federal (11) plans are not in it, so a payer answers with the nearest 835 code.
CLP06_FOR_SBR09 = {"CI": "15", "BL": "12", "09": "ZZ", "11": "ZZ", "10": "ZZ"}
CLP06_CODES = frozenset({"12", "13", "14", "15", "16", "17", "AM", "CH", "DS", "HM", "LM", "MA", "MB", "MC", "OF",
                         "TV", "VA", "WC", "ZZ"})


def era_filing_code(sbr09: str | None) -> str:
    """The CLP06 a payer writes for a claim we filed with this SBR09 (an 835 code, never an 837-only one)."""
    code = CLP06_FOR_SBR09.get(sbr09 or "", sbr09 or "")
    return code if code in CLP06_CODES else "ZZ"


@dataclass(frozen=True)
class ClaimRemit:
    """One CLP loop: the payer's answer for one claim."""

    claim: Claim
    posting: ClaimPosting
    #: CLP01 when it is not the claim's own number: a crossover comes back under the number the primary forwarded.
    control_number: str | None = None

    @property
    def charge(self) -> Decimal:
        return sum_money(lp.charge if lp.charge is not None else line.charge for line, lp in self._lines())

    @property
    def patient_responsibility(self) -> Decimal:
        return sum_money(a.amount for a in self.posting.all_adjustments if a.group == "PR")

    def _lines(self) -> list[tuple[ClaimLine, LinePosting]]:
        by_number = {line.line_number: line for line in self.claim.lines}
        return [(by_number[lp.line_number], lp) for lp in self.posting.lines]


@dataclass(frozen=True)
class ProviderLevelAdjustment:
    """A PLB: money the payer takes back (positive) or adds (negative) outside any claim, e.g. L6 interest."""

    reason: str
    reference: str
    amount: Decimal


@dataclass(frozen=True)
class Payment:
    """One check or EFT: an ST..SE transaction."""

    payer_name: str
    payer_id: str
    payee_name: str
    payee_npi: str
    check_number: str
    paid_on: date
    claims: Sequence[ClaimRemit]
    method: str = "ACH"  # BPR04: ACH for EFT, CHK for a paper check
    plbs: Sequence[ProviderLevelAdjustment] = field(default_factory=tuple)

    @property
    def amount(self) -> Decimal:
        """BPR02 = sum of CLP04 - sum of PLB amounts: the balance every 835 must keep."""
        return sum_money(r.posting.paid for r in self.claims) - sum_money(p.amount for p in self.plbs)


def write_835(payments: Sequence[Payment], *, sender: str, receiver: str, control: int, created: datetime) -> str:
    """One interchange with a functional group holding one transaction per payment."""
    body: list[str] = []
    for number, payment in enumerate(payments, start=1):
        segments = _transaction(payment, number)
        body += [*segments, f"SE*{len(segments) + 1}*{number:04d}"]
    isa = (f"ISA*00*{'':10}*00*{'':10}*ZZ*{sender[:15]:<15}*ZZ*{receiver[:15]:<15}*{created:%y%m%d}*{created:%H%M}*^*"
           f"00501*{control:09d}*0*P*:")
    gs = f"GS*HP*{sender}*{receiver}*{created:%Y%m%d}*{created:%H%M}*{control}*X*005010X221A1"
    segments = [isa, gs, *body, f"GE*{len(payments)}*{control}", f"IEA*1*{control:09d}"]
    return TERMINATOR.join(segments) + TERMINATOR


def _transaction(payment: Payment, number: int) -> list[str]:
    handling = "I" if payment.amount > 0 else "H"  # H: notification only, no money moves
    method = payment.method if payment.amount > 0 else "NON"
    segments = [
        f"ST*835*{number:04d}",
        f"BPR*{handling}*{amount(payment.amount)}*C*{method}************{payment.paid_on:%Y%m%d}",
        f"TRN*1*{payment.check_number}*1{payment.payer_id[:9]:0>9}",
        f"DTM*405*{payment.paid_on:%Y%m%d}",
        f"N1*PR*{_clean(payment.payer_name)}",
        "N3*PO BOX 1000",
        "N4*SPRINGFIELD*IL*62701",
        f"REF*2U*{payment.payer_id}",
        "PER*BL*PROVIDER SERVICES*TE*8005550100",
        f"N1*PE*{_clean(payment.payee_name)}*XX*{payment.payee_npi}",
        "LX*1",
    ]
    for remit in payment.claims:
        segments += _claim(remit)
    for plb in payment.plbs:
        segments.append(f"PLB*{payment.payee_npi}*{payment.paid_on.year}1231*{plb.reason}:{plb.reference}*"
                        f"{amount(plb.amount)}")
    return segments


def _claim(remit: ClaimRemit) -> list[str]:
    claim, posting = remit.claim, remit.posting
    client = claim.client
    segments = [
        f"CLP*{remit.control_number or claim.number}*{posting.status_code}*{amount(remit.charge)}*"
        f"{amount(posting.paid)}*{amount(remit.patient_responsibility)}*{era_filing_code(claim.policy.payer.claim_filing_indicator)}*"
        f"{posting.payer_claim_number or claim.number}",
        *cas_segments(posting.claim_adjustments),
        f"NM1*QC*1*{_clean(client.last_name)}*{_clean(client.first_name)}****MI*{claim.policy.member_id}",
    ]
    for line, lp in remit._lines():
        code = ":".join(["HC", line.service_code.code, *(m for m in line.modifiers.split(":") if m)])
        charge = lp.charge if lp.charge is not None else line.charge
        segments.append(f"SVC*{code}*{amount(charge)}*{amount(lp.paid)}**{line.units}")
        segments.append(f"DTM*472*{line.service_date:%Y%m%d}")
        segments += cas_segments(lp.adjustments)
        segments.append(f"REF*6R*{line.line_number}")
        if lp.allowed is not None:
            segments.append(f"AMT*B6*{amount(lp.allowed)}")
        segments += [f"LQ*HE*{remark}" for remark in lp.remarks]
    return segments


def cas_segments(adjustments: Iterable[Adjustment]) -> list[str]:
    """One CAS per group code, up to six reason/amount/quantity triples each (the demo's and the tests' 835s)."""
    by_group: dict[str, list[Adjustment]] = {}
    for adjustment in adjustments:
        by_group.setdefault(adjustment.group, []).append(adjustment)
    segments = []
    for group, items in by_group.items():
        for start in range(0, len(items), 6):
            triples = [part for a in items[start:start + 6] for part in (a.reason, amount(a.amount), "")]
            segments.append("*".join(["CAS", group, *triples]).rstrip("*"))
    return segments


def amount(value: Decimal) -> str:
    """X12 decimals: no trailing zeros, no exponent ("73.4", "100", "-12.5"); the demo's and the tests' 835s."""
    text = f"{Decimal(value):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _clean(text: str) -> str:
    """Names in an X12 element: upper case, without the interchange's delimiters."""
    return "".join(" " if ch in "*~:^" else ch for ch in text.upper()).strip()
