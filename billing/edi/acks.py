"""Reading acknowledgments: the 999 (did our 837's syntax pass?) and the 277CA (did the payer's front end take
each claim?), as plain data. Matching them to batches and claims is `billing.submissions.acknowledgments`.

999 (005010X231A1): per functional group AK1 (AK102 = the GS06 of the group it answers), per transaction AK2
(AK202 = its ST02) with IK3 segment errors, each with IK4 element errors, and IK5 (the transaction's verdict),
then AK9 (the group's verdict). 277CA (005010X214): HL levels 20 (source), 21 (receiver), 19 (provider) and PT
(the claim), where TRN*2 is our CLM01, STC the status (category:status:entity), REF*1K the payer's claim number.

A file that is not one of these, or lacks what makes it readable, raises AckUnreadable naming what is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from billing.core.errors import Invalid
from billing.edi.kinds import kinds_of, not_x12_message, wrong_kind_message
from billing.edi.segments import Delimiters, NotX12, decode, split_segments

#: More than this many segments is no acknowledgment of ours (a 5,000-claim 277CA has about 60,000).
MAX_SEGMENTS = 2_000_000


class AckUnreadable(Invalid):
    """The file is not a 999 or 277CA we can read; the message says why."""


@dataclass(frozen=True)
class Envelope:
    sender_id: str  # ISA06: who sent the acknowledgment (the clearinghouse or payer)
    receiver_id: str  # ISA08: who it is for (us, when it answers our file)
    gs_sender: str  # GS02
    gs_receiver: str  # GS03
    interchange_control: str  # ISA13


@dataclass(frozen=True)
class ElementError:
    """IK4: which element of the segment is wrong and how."""

    position: str  # IK401 as written: "9" or "9:1" (element, component)
    reference: str  # IK402: the data element dictionary number
    code: str  # IK403
    bad_value: str  # IK404: the value as received, when given


@dataclass(frozen=True)
class SegmentError:
    """IK3 (and its IK4s): a segment of the answered transaction found at fault."""

    segment_id: str  # IK301
    position: int | None  # IK302: counted from ST = 1
    loop: str  # IK303
    code: str  # IK304 (empty when only its elements are wrong)
    elements: tuple[ElementError, ...] = ()


@dataclass
class TransactionAck:
    """AK2 ... IK5: the verdict on one transaction of the answered group."""

    set_id: str  # AK201: 837
    control: str  # AK202: its ST02
    status: str = ""  # IK501: A, E, M, R, W, X
    codes: list[str] = field(default_factory=list)  # IK502-IK506
    errors: list[SegmentError] = field(default_factory=list)


@dataclass
class GroupAck:
    """One ST*999: the answer to one functional group (batch) of ours."""

    functional_id: str  # AK101: HC for an 837
    group_control: str  # AK102: the answered group's GS06
    version: str  # AK103
    transactions: list[TransactionAck] = field(default_factory=list)
    status: str = ""  # AK901: A, E, P, R, ...
    counts: tuple[int | None, int | None, int | None] = (None, None, None)  # included, received, accepted
    codes: list[str] = field(default_factory=list)  # AK905-AK909


@dataclass
class Ack999:
    envelope: Envelope
    groups: list[GroupAck]


@dataclass(frozen=True)
class StatusCode:
    """One STC composite: category (A1, A7...), status code (20, 562...), entity (85, IL...)."""

    category: str
    status: str
    entity: str


@dataclass
class ClaimStatus277:
    """A claim-level (HL PT) status of a 277CA, with its service lines' statuses folded in."""

    reference: str  # TRN02: our CLM01 (the claim number)
    statuses: list[StatusCode] = field(default_factory=list)
    status_date: date | None = None  # STC02
    payer_claim_number: str | None = None  # REF*1K
    clearinghouse_trace: str | None = None  # REF*D9
    line_statuses: list[tuple[str, StatusCode]] = field(default_factory=list)  # (procedure, status)


@dataclass
class Ack277:
    envelope: Envelope
    claims: list[ClaimStatus277]


def read_ack(data: bytes | str) -> Ack999 | Ack277:
    """Read a 999 or a 277CA; anything else (an 835, an 837, not X12) raises AckUnreadable with the reason."""
    text = decode(data)
    if not text.startswith("ISA"):
        raise AckUnreadable(not_x12_message(text, "999 (implementation acknowledgment)"))
    try:
        delims, segments = split_segments(text)
    except NotX12 as exc:
        raise AckUnreadable(exc.message) from None
    if len(segments) > MAX_SEGMENTS:
        raise AckUnreadable(f"The file has {len(segments)} segments, more than an acknowledgment of ours can have.")
    segments = [[e.strip() for e in s] for s in segments]
    kinds = [k.code for k in kinds_of(segments)]
    if kinds == ["999"]:
        return _read_999(segments, delims)
    if kinds == ["277CA"]:
        return _read_277(segments, delims)
    if not kinds:
        raise AckUnreadable("The file holds no transaction (no ST segment), so it acknowledges nothing.")
    others = [k for k in kinds_of(segments) if k.code not in ("999", "277CA")]
    if others:
        raise AckUnreadable(wrong_kind_message(others, "999", hint="only 999 and 277CA acknowledgments are read here"))
    raise AckUnreadable("The file mixes 999 and 277CA transactions; the clearinghouse sends each kind on its own.")


def _el(segment: list[str], n: int) -> str:
    return segment[n] if len(segment) > n else ""


def _envelope(segments: list[list[str]]) -> Envelope:
    isa = segments[0]
    gs = next((s for s in segments if s[0] == "GS"), [])
    return Envelope(sender_id=_el(isa, 6), receiver_id=_el(isa, 8), gs_sender=_el(gs, 2), gs_receiver=_el(gs, 3),
                    interchange_control=_el(isa, 13))


def _count(value: str) -> int | None:
    return int(value) if value.isdigit() and len(value) <= 6 else None


def _read_999(segments: list[list[str]], delims: Delimiters) -> Ack999:
    groups: list[GroupAck] = []
    group: GroupAck | None = None
    txn: TransactionAck | None = None
    for seg in segments:
        tag = seg[0]
        if tag == "ST":
            group, txn = None, None
        elif tag == "AK1":
            group = GroupAck(functional_id=_el(seg, 1), group_control=_el(seg, 2), version=_el(seg, 3))
            groups.append(group)
        elif tag == "AK2":
            if group is None:
                raise AckUnreadable("The 999 has an AK2 (a transaction's verdict) before any AK1 names the batch.")
            txn = TransactionAck(set_id=_el(seg, 1), control=_el(seg, 2))
            group.transactions.append(txn)
        elif tag == "IK3" and txn is not None:
            position = _count(_el(seg, 2))
            txn.errors.append(SegmentError(_el(seg, 1), position, _el(seg, 3), _el(seg, 4)))
        elif tag == "IK4" and txn is not None and txn.errors:
            last = txn.errors[-1]
            element = ElementError(_el(seg, 1).replace(delims.component, ":"), _el(seg, 2), _el(seg, 3), _el(seg, 4))
            txn.errors[-1] = SegmentError(last.segment_id, last.position, last.loop, last.code,
                                          (*last.elements, element))
        elif tag == "IK5" and txn is not None:
            txn.status, txn.codes = _el(seg, 1).upper(), [c for c in seg[2:7] if c]
        elif tag == "AK9" and group is not None:
            group.status = _el(seg, 1).upper()
            group.counts = (_count(_el(seg, 2)), _count(_el(seg, 3)), _count(_el(seg, 4)))
            group.codes = [c for c in seg[5:10] if c]
    if not groups:
        raise AckUnreadable("The 999 has no AK1, so it does not say which batch it answers.")
    for found in groups:
        if not found.group_control:
            raise AckUnreadable("The 999's AK1 has no group control number (AK102), so it names no batch.")
        if not found.status:
            raise AckUnreadable(f"The 999 answering group {found.group_control} has no AK9 (the batch's verdict).")
        missing = [t.control or "?" for t in found.transactions if not t.status]
        if missing:
            raise AckUnreadable(f"The 999 gives no verdict (IK5) for transaction {', '.join(missing)}.")
    return Ack999(_envelope(segments), groups)


def _status_code(composite: str, delims: Delimiters) -> StatusCode | None:
    parts = composite.split(delims.component)
    if not parts or not parts[0]:
        return None
    return StatusCode(parts[0].upper(), parts[1] if len(parts) > 1 else "", parts[2] if len(parts) > 2 else "")


def _day(value: str) -> date | None:
    try:
        return datetime.strptime(value, "%Y%m%d").date() if len(value) == 8 else None
    except ValueError:
        return None


def _read_277(segments: list[list[str]], delims: Delimiters) -> Ack277:
    claims: list[ClaimStatus277] = []
    claim: ClaimStatus277 | None = None
    procedure: str | None = None  # inside a service line (SVC) of the current claim
    for seg in segments:
        tag = seg[0]
        if tag == "HL":
            claim, procedure = None, None
            if _el(seg, 3).upper() == "PT":
                claim = ClaimStatus277(reference="")
                claims.append(claim)
        elif claim is None:
            continue
        elif tag == "TRN" and _el(seg, 1) == "2" and procedure is None:
            claim.reference = _el(seg, 2)
        elif tag == "SVC":
            procedure = _el(seg, 1).replace(delims.component, ":") or "?"
        elif tag == "STC":
            codes = [c for c in (_status_code(_el(seg, n), delims) for n in (1, 10, 11)) if c is not None]
            if procedure is not None:
                claim.line_statuses += [(procedure, c) for c in codes]
            else:
                claim.statuses += codes
                claim.status_date = claim.status_date or _day(_el(seg, 2))
        elif tag == "REF" and procedure is None and _el(seg, 1) == "1K":
            claim.payer_claim_number = _el(seg, 2) or None
        elif tag == "REF" and procedure is None and _el(seg, 1) == "D9":
            claim.clearinghouse_trace = _el(seg, 2) or None
    unnamed = sum(1 for c in claims if not c.reference)
    if unnamed:
        raise AckUnreadable(f"{unnamed} claim(s) of the 277CA carry no TRN*2 (our claim number), so they match "
                            "nothing; ask the clearinghouse for a corrected file.")
    if any(not c.statuses for c in claims):
        bad = next(c.reference for c in claims if not c.statuses)
        raise AckUnreadable(f"Claim {bad} in the 277CA has no STC status.")
    return Ack277(_envelope(segments), claims)
