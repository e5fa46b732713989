"""An 835 as data: transactions (BPR, TRN, payer, payee), claims (CLP, CAS, NM1, REF, DTM), services, PLBs."""

from __future__ import annotations

import re
import sys
from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from billing.core.errors import Invalid
from billing.core.money import CENT, MAX_AMOUNT, ZERO, sum_money, to_money
from billing.edi.bounds import beyond_835
from billing.edi.kinds import NAMES, not_x12_message, require_kind_of
from billing.edi.segments import Delimiters, NotX12, SegmentText, decode, join_segments
from billing.ledger.postings import Adjustment

#: N1*PR N103 codes that make N104 a payer id (XV: the CMS plan id; PI: the payer id many payers send).
PAYER_ID_QUALIFIERS = ("XV", "PI")


class EraUnreadable(Invalid):
    """The file is X12 but its content cannot be read as an 835 (a bad amount, a missing BPR...)."""


@dataclass(slots=True)
class ServicePayment:
    """One SVC loop (2110)."""

    qualifier: str
    procedure_code: str
    modifiers: tuple[str, ...]
    charge: Decimal
    paid: Decimal
    units: Decimal | None
    service_date: date | None = None
    adjustments: list[Adjustment] = field(default_factory=list)
    allowed: Decimal | None = None
    remarks: list[str] = field(default_factory=list)
    line_control: str | None = None  # REF*6R: the line item control number we sent
    #: SVC06: the procedure we billed, when the payer paid another (SVC01); the line is ours under this code.
    billed_code: str | None = None
    billed_modifiers: tuple[str, ...] = ()

    def to_data(self) -> dict[str, Any]:
        return {
            "procedure": f"{self.qualifier}:{self.procedure_code}", "modifiers": list(self.modifiers),
            "charge": str(self.charge), "paid": str(self.paid), "units": str(self.units) if self.units else None,
            "service_date": self.service_date.isoformat() if self.service_date else None,
            "adjustments": [[a.group, a.reason, str(a.amount)] for a in self.adjustments],
            "allowed": str(self.allowed) if self.allowed is not None else None, "remarks": self.remarks,
            "line_control": self.line_control, "billed_code": self.billed_code,
            "billed_modifiers": list(self.billed_modifiers),
        }


@dataclass(slots=True)
class ClaimPaymentInfo:
    """One CLP loop (2100) with its services."""

    claim_number: str
    status_code: str
    charge: Decimal
    paid: Decimal
    patient_responsibility: Decimal
    filing_indicator: str
    payer_claim_number: str | None
    patient_name: str = ""
    adjustments: list[Adjustment] = field(default_factory=list)
    services: list[ServicePayment] = field(default_factory=list)
    references: dict[str, str] = field(default_factory=dict)
    dates: dict[str, date] = field(default_factory=dict)
    segments: list[list[str]] = field(default_factory=list)
    #: Where the loop's text is, when it was read from a `SegmentText`: the file's text (shared, not copied)
    #: and the span of its segments in it. Kept instead of `segments`, which would take 20 times the room.
    source: str | None = field(default=None, repr=False, compare=False)
    span: tuple[int, int] = field(default=(0, 0), repr=False, compare=False)

    def to_data(self) -> dict[str, Any]:
        return {
            "claim_number": self.claim_number, "status_code": self.status_code, "charge": str(self.charge),
            "paid": str(self.paid), "patient_responsibility": str(self.patient_responsibility),
            "filing_indicator": self.filing_indicator, "payer_claim_number": self.payer_claim_number,
            "patient_name": self.patient_name,
            "adjustments": [[a.group, a.reason, str(a.amount)] for a in self.adjustments],
            "references": self.references, "dates": {k: v.isoformat() for k, v in self.dates.items()},
            "services": [s.to_data() for s in self.services],
        }


@dataclass(frozen=True)
class PlbAdjustment:
    provider_id: str
    fiscal_period_end: date | None
    reason_code: str
    reference: str | None
    amount: Decimal


@dataclass
class EraTransaction:
    """One ST..SE: one payment."""

    control_number: str
    handling: str = ""
    amount: Decimal = ZERO
    method: str = ""
    paid_on: date | None = None
    check_number: str = ""
    payer_key: str = ""  # TRN03: the payer's id, often "1" followed by its EIN
    payer_name: str = ""
    #: The payer's ids besides TRN03: N1*PR N104 (when N103 says it is a payer id) and its REF*2U, EO, HI, NF.
    payer_ids: list[str] = field(default_factory=list)
    payee_name: str | None = None
    payee_id: str | None = None
    claims: list[ClaimPaymentInfo] | ClaimList = field(default_factory=list)
    plbs: list[PlbAdjustment] = field(default_factory=list)

    @property
    def claims_paid_total(self) -> Decimal:
        if isinstance(self.claims, ClaimList):
            return self.claims.paid_total
        return sum_money(c.paid for c in self.claims)

    @property
    def plb_total(self) -> Decimal:
        return sum_money(p.amount for p in self.plbs)

    @property
    def balanced(self) -> bool:
        """BPR02 = sum of CLP04 - sum of PLB amounts."""
        return self.amount == self.claims_paid_total - self.plb_total

    @property
    def service_count(self) -> int:
        if isinstance(self.claims, ClaimList):
            return self.claims.service_count
        return sum(len(c.services) for c in self.claims)


class ClaimList(Sequence[ClaimPaymentInfo]):
    """A transaction's claims, each kept as where its text is once it has been read, and read again when asked for.

    The import reads the whole file first (every amount, date and code checked, so a broken file is refused before
    anything is posted), then posts it a chunk of claims at a time: holding every claim of a 74,000-claim 835 as
    objects took 150 MB, while its place in the file is three numbers. A claim is read again from its own segments,
    which is all its reading depends on, so it comes back equal to what was first read
    (tests/billing/edi/test_era_claim_list.py). A claim whose loop was interrupted by a segment not its own (its text
    is not one span) is kept as read. The totals the remittance needs are summed as the claims are read."""

    def __init__(self, delims: Delimiters, source: str) -> None:
        self.delims, self.source = delims, source
        self._numbers, self._starts, self._ends = array("q"), array("q"), array("q")
        self._kept: dict[int, ClaimPaymentInfo] = {}
        self._open: tuple[ClaimPaymentInfo, int] | None = None
        self._paid, self._services = ZERO, 0

    def append(self, claim: ClaimPaymentInfo, number: int) -> None:
        """`claim`, read from segment `number` on; it is still being read until the next one comes (`settle`)."""
        self.settle()
        self._open = (claim, number)

    def settle(self) -> None:
        """The last claim is read in full: count it, and keep its place instead of it when its text is one span."""
        if self._open is None:
            return
        claim, number = self._open
        self._open = None
        self._paid += to_money(claim.paid)
        self._services += len(claim.services)
        spans = claim.source is self.source and not claim.segments
        if not spans:
            self._kept[len(self._numbers)] = claim
        self._numbers.append(number if spans else -1)
        self._starts.append(claim.span[0] if spans else 0)
        self._ends.append(claim.span[1] if spans else 0)

    @property
    def paid_total(self) -> Decimal:
        """`sum_money` of the claims' CLP04, in file order."""
        return to_money(self._paid + (to_money(self._open[0].paid) if self._open else ZERO))

    @property
    def service_count(self) -> int:
        return self._services + (len(self._open[0].services) if self._open else 0)

    def __len__(self) -> int:
        return len(self._numbers) + (self._open is not None)

    def __getitem__(self, index: int) -> ClaimPaymentInfo:  # type: ignore[override]
        if not isinstance(index, int):
            raise TypeError("claims are read one at a time")
        if not -len(self) <= index < len(self):
            raise IndexError(index)
        index %= len(self)
        if index == len(self._numbers):
            assert self._open is not None
            return self._open[0]
        kept = self._kept.get(index)
        return kept if kept is not None else self._read(index)

    def __iter__(self) -> Iterator[ClaimPaymentInfo]:
        return (self[i] for i in range(len(self)))

    def _read(self, index: int) -> ClaimPaymentInfo:
        parser = _Parser(self.delims)
        parser.source, parser.txn = self.source, EraTransaction("")
        position, terminator, element = self._starts[index], self.delims.segment, self.delims.element
        text = self.source[position:self._ends[index]]
        for number, raw in enumerate(text.split(terminator)[:-1], start=self._numbers[index]):
            parser.feed(raw.split(element), number, (position, position + len(raw) + 1))
            position += len(raw) + 1
        (claim,) = parser.txn.claims
        assert isinstance(claim, ClaimPaymentInfo)
        return claim


@dataclass
class Era:
    delimiters: Delimiters
    transactions: list[EraTransaction]


#: An X12 decimal (type R): an optional minus, digits, an optional point. No exponent, separator or other script.
_X12_DECIMAL = re.compile(r"-?([0-9]+(\.[0-9]*)?|\.[0-9]+)", re.ASCII)


def _decimal(value: str, where: str, what: str) -> Decimal:
    """An X12 decimal that a Numeric(12, 2) column holds exactly: a third decimal is refused, never rounded."""
    number = _exact_decimal(value)
    if number is None:
        raise EraUnreadable(f"{where}: {value!r} is not {what}.")
    if number is _INEXACT:
        raise EraUnreadable(f"{where}: {value!r} is not {what} we can keep exactly (at most two decimals, "
                            f"at most {MAX_AMOUNT:,}).")
    return number


#: Returned by `_exact_decimal` for a number no Numeric(12, 2) column holds exactly.
_INEXACT = Decimal("NaN")


@lru_cache(maxsize=4096)
def _exact_decimal(value: str) -> Decimal | None:
    """`value` as a Decimal, None when it is no X12 decimal, _INEXACT when it is one no Numeric(12, 2) column
    keeps exactly. Cached: a remittance repeats a few amounts tens of thousands of times (Decimals are immutable)."""
    if not _X12_DECIMAL.fullmatch(value):
        return None
    number = Decimal(value)
    if number != number.quantize(CENT) or abs(number) > MAX_AMOUNT:
        return _INEXACT
    return number


@lru_cache(maxsize=4096)
def _cents(value: str) -> Decimal:
    """An amount `_decimal` accepted, as two places (cached like it)."""
    return to_money(Decimal(value))


def _money(value: str, where: str) -> Decimal:
    """An amount exactly as sent: a third decimal or an amount no column holds is refused, never rounded."""
    _decimal(value or "0", where, "an amount")
    return _cents(value or "0")


def _quantity(value: str, where: str) -> Decimal | None:
    """A count of units (SVC05, a CAS quantity); absent is None, anything else not a number refuses the file."""
    return _decimal(value, where, "a quantity") if value else None


def _date(value: str, where: str) -> date:
    found = _ccyymmdd(value)
    if found is None:
        raise EraUnreadable(f"{where}: {value!r} is not a date (CCYYMMDD).")
    return found


@lru_cache(maxsize=4096)
def _ccyymmdd(value: str) -> date | None:
    """Cached: strptime is slow, and a remittance names the same few hundred days over and over."""
    if len(value) != 8 or not value.isascii() or not value.isdigit():
        return None
    try:
        return datetime.strptime(value, "%Y%m%d").date()
    except ValueError:
        return None


def _el(seg: list[str], n: int) -> str:
    return seg[n].strip() if len(seg) > n else ""


def _code(seg: list[str], n: int) -> str:
    """`_el` for a code (a qualifier, CARC group and reason, procedure, status): one string per distinct code.
    A 74,000-claim 835 repeats a few dozen codes half a million times; each kept apart took 50 bytes."""
    return sys.intern(_el(seg, n))


def _amount(seg: list[str], n: int, where: str) -> Decimal:
    """Element n of the segment as an amount; a refusal names the element (CLP04)."""
    return _money(_el(seg, n), f"{where} {seg[0].strip().upper()}{n:02d}")


def _cas(seg: list[str], where: str) -> list[Adjustment]:
    """CAS01 group, then up to six (reason, amount, quantity) triples; more were refused by `read_835`."""
    # The elements stripped once, padded to CAS19: the loop below reads each of them, for every CAS of the file.
    els = [sys.intern(e.strip()) for e in seg[:20]] + [""] * (20 - min(len(seg), 20))
    group, out = els[1], []
    for k in range(2, 19, 3):
        reason, amount, quantity = els[k], els[k + 1], els[k + 2]
        if reason:
            money, count = _money(amount, f"{where} CAS{k + 1:02d}"), _quantity(quantity, f"{where} CAS{k + 2:02d}")
            out.append(_shared_adjustment(group, reason, amount, quantity, money, count))
        elif amount or quantity:
            raise EraUnreadable(f"{where}: CAS{k + 1:02d}-{k + 2:02d} carry an amount or quantity without a "
                                f"reason code in CAS{k:02d}.")
    return out


#: Adjustments made so far, by the text they were read from: an Adjustment is frozen, so one object serves every
#: CAS that says the same (most of a remittance's CAS say CO*45 or PR*2 of a few amounts).
_ADJUSTMENTS: dict[tuple[str, str, str, str], Adjustment] = {}


def _shared_adjustment(group: str, reason: str, amount_text: str, quantity_text: str, amount: Decimal,
                       quantity: Decimal | None) -> Adjustment:
    key = (group, reason, amount_text, quantity_text)
    found = _ADJUSTMENTS.get(key)
    if found is None:
        found = Adjustment(group, reason, amount, quantity)
        if len(_ADJUSTMENTS) < 4096:
            _ADJUSTMENTS[key] = found
    return found


def read_835(text: str, *, hints: Mapping[str, str] | None = None) -> tuple[Delimiters, SegmentText]:
    """The segments of an 835. Refuses, before anything reads them: a file that is not X12 (NotX12) or holds another
    kind of transaction (WrongX12Kind, with the `hints` of billing.edi.kinds), and one that carries more than the
    TR3 allows anywhere (EraUnreadable, listing every place)."""
    text = decode(text)
    if not text.startswith("ISA"):
        raise NotX12(not_x12_message(text, NAMES["835"]))
    segments = SegmentText(text)  # read again by the parser rather than held split: see SegmentText
    delims = segments.delims
    # One reading for the three checks: the bounds are checked on every segment, while the envelope's GS, ST and
    # TA1 (all the kind and the version look at) are kept aside; the refusals come in the same order as before.
    envelope: list[list[str]] = []
    problems = beyond_835(_keeping_envelope(segments, envelope), delims)
    require_kind_of(envelope, "835", hints=hints)
    _require_5010(envelope)
    if problems:
        raise EraUnreadable(problems[0] + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""), problems)
    return delims, segments


_ENVELOPE_IDS = frozenset({"GS", "ST", "TA1"})


def _keeping_envelope(segments: Iterable[list[str]], envelope: list[list[str]]) -> Iterator[list[str]]:
    """The segments, each passed on, the GS, ST and TA1 among them also added to `envelope`."""
    for seg in segments:
        if seg[0].strip().upper() in _ENVELOPE_IDS:
            envelope.append(seg)
        yield seg


#: GS08 of the 835 we read: the 5010 TR3, with or without its addenda. A 4010 835 (004010X091A1) places
#: adjustments and dates differently, so reading it as 5010 would post wrong amounts rather than fail.
SUPPORTED_835_GUIDES = ("005010X221A1", "005010X221")


def _require_5010(segments: Iterable[list[str]]) -> None:
    for seg in segments:
        if seg[0].strip().upper() != "GS":
            continue
        guide = seg[8].strip().upper() if len(seg) > 8 else ""
        if guide not in SUPPORTED_835_GUIDES:
            shown = guide or "missing"
            raise EraUnreadable(f"GS08 (version) is {shown}: ClaimDesk reads 835s of version 005010X221A1 only; "
                                "ask the payer or clearinghouse for the 5010 remittance", [])


def parse_835(text: str) -> Era:
    """Every transaction, claim and service of an 835, or EraUnreadable / NotX12 naming the first problem."""
    return era_from_segments(*read_835(text))


def era_from_segments(delims: Delimiters, segments: Iterable[list[str]], *, claims_by_place: bool = False) -> Era:
    """`parse_835` for segments `read_835` has read. `claims_by_place`: each transaction's claims are a `ClaimList`
    (for a `SegmentText`), read again when asked for rather than held."""
    parser = _Parser(delims)
    if isinstance(segments, SegmentText):
        parser.source = segments.text
        parser.by_place = claims_by_place
        for number, (start, end, seg) in enumerate(segments.spans(), start=1):
            parser.feed(seg, number, (start, end))
    else:
        for number, seg in enumerate(segments, start=1):
            parser.feed(seg, number)
    if not parser.transactions:
        raise NotX12("The file holds no 835 transaction (no ST*835 segment).")
    for txn in parser.transactions:
        if not txn.check_number:
            # Payer and TRN02 are the check's identity (rule 8): without TRN02 a re-sent check could not be known.
            raise EraUnreadable(f"transaction {txn.control_number}: no check or EFT number (TRN02); a payment "
                                f"without one cannot be told from the same payment sent again.")
    for txn in parser.transactions:
        if isinstance(txn.claims, ClaimList):
            txn.claims.settle()
    return Era(delims, parser.transactions)


class _Parser:
    """A small state machine over segments: header, then claims (CLP), services (SVC), then PLBs."""

    def __init__(self, delims: Delimiters) -> None:
        self.delims = delims
        self.transactions: list[EraTransaction] = []
        self.txn: EraTransaction | None = None
        self.claim: ClaimPaymentInfo | None = None
        self.service: ServicePayment | None = None
        self.party: str | None = None
        self.source: str | None = None
        self.by_place = False  # each transaction's claims a ClaimList
        self.number = 0

    def feed(self, seg: list[str], number: int, span: tuple[int, int] | None = None) -> None:
        sid, where = seg[0].strip().upper(), f"segment {number} ({seg[0].strip()})"
        self.number = number
        if sid == "ST":
            if _el(seg, 1) != "835":
                raise EraUnreadable(f"{where}: transaction {_el(seg, 1)!r} is not an 835 remittance.")
            self.txn, self.claim, self.service, self.party = EraTransaction(_el(seg, 2)), None, None, None
            if self.by_place and self.source is not None:
                self.txn.claims = ClaimList(self.delims, self.source)
            self.transactions.append(self.txn)
            return
        if sid in ("ISA", "GS", "GE", "IEA", "TA1"):
            return
        if self.txn is None:
            raise EraUnreadable(f"{where} comes before any ST*835.")
        if sid == "SE":
            self.txn = self.claim = self.service = None
            return
        if self.claim is not None and sid not in ("CLP", "PLB", "LX", "TS3", "TS2"):
            self._keep(self.claim, seg, span)
        handler = getattr(self, f"_{sid.lower()}", None)
        if handler is not None:
            handler(seg, where)
        if sid == "CLP" and self.claim is not None and span is not None and self.source is not None:
            self.claim.source, self.claim.span, self.claim.segments = self.source, span, []

    def _keep(self, claim: ClaimPaymentInfo, seg: list[str], span: tuple[int, int] | None) -> None:
        """Add a segment to the claim's own text: its span grows while its segments follow each other in the
        file; otherwise (the loop interrupted by a segment not its own) the claim keeps them as lists."""
        if claim.source is not None and span is not None and span[0] == claim.span[1]:
            claim.span = (claim.span[0], span[1])
            return
        if claim.source is not None:
            text = claim.source[claim.span[0]:claim.span[1] - 1]
            claim.segments = [piece.split(self.delims.element) for piece in text.split(self.delims.segment)]
            claim.source = None
        claim.segments.append(seg)

    # header
    def _bpr(self, seg: list[str], where: str) -> None:
        assert self.txn is not None
        self.txn.handling, self.txn.amount, self.txn.method = _el(seg, 1), _amount(seg, 2, where), _el(seg, 4)
        if _el(seg, 16):
            self.txn.paid_on = _date(_el(seg, 16), where)

    def _trn(self, seg: list[str], where: str) -> None:
        assert self.txn is not None
        self.txn.check_number, self.txn.payer_key = _el(seg, 2), _el(seg, 3)

    def _n1(self, seg: list[str], where: str) -> None:
        assert self.txn is not None
        self.party = _el(seg, 1)
        if self.party == "PR":
            self.txn.payer_name = _el(seg, 2)
            if _el(seg, 4) and _el(seg, 3) in PAYER_ID_QUALIFIERS:
                self.txn.payer_ids.append(_el(seg, 4))
        elif self.party == "PE":
            self.txn.payee_name, self.txn.payee_id = _el(seg, 2) or None, _el(seg, 4) or None

    def _ref(self, seg: list[str], where: str) -> None:
        assert self.txn is not None
        qualifier, value = _code(seg, 1), _el(seg, 2)
        if self.service is not None:
            if qualifier == "6R":
                self.service.line_control = sys.intern(value)  # our line number: a few distinct ones
        elif self.claim is not None:
            self.claim.references[qualifier] = value
        elif self.party == "PR" and qualifier in ("2U", "EO", "HI", "NF"):
            self.txn.payer_ids.append(value)

    def _dtm(self, seg: list[str], where: str) -> None:
        assert self.txn is not None
        qualifier, value = _code(seg, 1), _el(seg, 2)
        if not value:
            return
        if self.service is not None and qualifier in ("472", "150"):
            self.service.service_date = _date(value, where)
        elif self.claim is not None:
            self.claim.dates[qualifier] = _date(value, where)
        elif qualifier == "405" and self.txn.paid_on is None:
            self.txn.paid_on = _date(value, where)  # production date, when BPR16 is missing

    # claims
    def _clp(self, seg: list[str], where: str) -> None:
        assert self.txn is not None
        self.service = None
        self.claim = ClaimPaymentInfo(
            claim_number=_el(seg, 1), status_code=_code(seg, 2), charge=_amount(seg, 3, where),
            paid=_amount(seg, 4, where), patient_responsibility=_amount(seg, 5, where),
            filing_indicator=_code(seg, 6), payer_claim_number=_el(seg, 7) or None, segments=[seg],
        )
        if not self.claim.claim_number:
            raise EraUnreadable(f"{where}: the claim has no claim number (CLP01).")
        if isinstance(self.txn.claims, ClaimList):
            self.txn.claims.append(self.claim, self.number)
        else:
            self.txn.claims.append(self.claim)

    def _cas(self, seg: list[str], where: str) -> None:
        target = self.service or self.claim
        if target is None:
            raise EraUnreadable(f"{where}: adjustments (CAS) outside any claim or service line.")
        target.adjustments.extend(_cas(seg, where))

    def _nm1(self, seg: list[str], where: str) -> None:
        if self.claim is not None and _el(seg, 1) == "QC":
            self.claim.patient_name = " ".join(p for p in (_el(seg, 4), _el(seg, 3)) if p)

    def _svc(self, seg: list[str], where: str) -> None:
        if self.claim is None:
            raise EraUnreadable(f"{where}: a service line outside any claim.")
        parts = _el(seg, 1).split(self.delims.component)
        if len(parts) < 2:
            raise EraUnreadable(f"{where}: the procedure {_el(seg, 1)!r} has no qualifier and code.")
        units = _el(seg, 5)
        billed = _el(seg, 6).split(self.delims.component) if _el(seg, 6) else []
        self.service = ServicePayment(
            qualifier=sys.intern(parts[0]), procedure_code=sys.intern(parts[1]),
            modifiers=tuple(sys.intern(m) for m in parts[2:6] if m),
            charge=_amount(seg, 2, where), paid=_amount(seg, 3, where),
            units=_quantity(units, f"{where} SVC05"),
            billed_code=(sys.intern(billed[1].strip()) or None) if len(billed) > 1 else None,
            billed_modifiers=tuple(sys.intern(m.strip()) for m in billed[2:6] if m.strip()),
        )
        self.claim.services.append(self.service)

    def _amt(self, seg: list[str], where: str) -> None:
        if self.service is not None and _el(seg, 1) == "B6":
            self.service.allowed = _amount(seg, 2, where)

    def _lq(self, seg: list[str], where: str) -> None:
        if self.service is not None and _el(seg, 1) == "HE":
            self.service.remarks.append(_code(seg, 2))

    def _lx(self, seg: list[str], where: str) -> None:
        self.claim = self.service = None

    def _plb(self, seg: list[str], where: str) -> None:
        assert self.txn is not None
        self.claim = self.service = None
        fiscal = _date(_el(seg, 2), where) if _el(seg, 2) else None
        for k in range(3, 15, 2):
            if not _el(seg, k):
                if _el(seg, k + 1):
                    raise EraUnreadable(f"{where}: PLB{k + 1:02d} carries an amount without a reason in PLB{k:02d}.")
                continue
            reason, _, reference = _el(seg, k).partition(self.delims.component)
            self.txn.plbs.append(PlbAdjustment(_el(seg, 1), fiscal, reason, reference or None,
                                               _amount(seg, k + 1, where)))


def claim_raw(claim: ClaimPaymentInfo, delims: Delimiters) -> str:
    if claim.source is not None:
        return claim.source[claim.span[0]:claim.span[1]]
    return join_segments(claim.segments, delims)



def _adjustments_from(rows: list[list[str]]) -> list[Adjustment]:
    return [Adjustment(g, r, to_money(a)) for g, r, a in rows]


def claim_from_data(data: dict[str, Any]) -> ClaimPaymentInfo:
    """Rebuild a claim payment kept in the Unmatched queue, to post it once a biller has matched it."""
    services = []
    for s in data["services"]:
        qualifier, _, code = s["procedure"].partition(":")
        services.append(ServicePayment(
            qualifier=qualifier, procedure_code=code, modifiers=tuple(s["modifiers"]), charge=to_money(s["charge"]),
            paid=to_money(s["paid"]), units=Decimal(s["units"]) if s["units"] else None,
            service_date=date.fromisoformat(s["service_date"]) if s["service_date"] else None,
            adjustments=_adjustments_from(s["adjustments"]),
            allowed=to_money(s["allowed"]) if s["allowed"] is not None else None, remarks=list(s["remarks"]),
            line_control=s["line_control"], billed_code=s.get("billed_code"),
            billed_modifiers=tuple(s.get("billed_modifiers") or ()),
        ))
    return ClaimPaymentInfo(
        claim_number=data["claim_number"], status_code=data["status_code"], charge=to_money(data["charge"]),
        paid=to_money(data["paid"]), patient_responsibility=to_money(data["patient_responsibility"]),
        filing_indicator=data["filing_indicator"], payer_claim_number=data["payer_claim_number"],
        patient_name=data["patient_name"], adjustments=_adjustments_from(data["adjustments"]), services=services,
        references=dict(data["references"]),
        dates={k: date.fromisoformat(v) for k, v in data["dates"].items()},
    )
