"""Cutting a large 835 (or 837P) into smaller interchanges that pyx12 can validate side by side.

An 837P is cut only between its transactions (`split_transactions`): each transaction stands alone (its own
BHT, submitter, receiver and HL numbers from 1), so a piece of whole transactions is validated exactly as pyx12
validates it in the whole file, and the envelope around them is checked on the whole file here.

pyx12 validates about a thousand claims a second on one CPU, so a 10,000-claim ERA costs more than the
rest of its import. Each piece is a complete interchange: the original ISA and GS, each transaction's
header (ST to its first LX), then a run of whole claim loops (CLP to the next CLP), each under a copy of
the LX (and TS3/TS2) it belongs to, then PLBs and SE where the transaction ends there. Every segment of
the file is validated exactly once except the copied headers, whose findings are merged. Trailers are
rewritten with their counts, so the envelope (SE, GE and IEA counts and control numbers) is checked on
the whole file here. A file that does not have this shape (several interchanges or groups, a claim
outside any LX) is not cut: it is validated whole, which is always correct, only slower.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from billing.edi.segments import Delimiters, join_segments

Segment = list[str]
HEADER_OF_LX = ("TS3", "TS2")


@dataclass
class Piece:
    """One interchange to validate, and the original 1-based segment number of each of its segments."""

    segments: list[Segment] = field(default_factory=list)
    origin: list[int] = field(default_factory=list)

    def add(self, segment: Segment, origin: int) -> None:
        self.segments.append(segment)
        self.origin.append(origin)

    def text(self, delims: Delimiters) -> str:
        return join_segments(self.segments, delims)


@dataclass
class _Unit:
    """A claim loop (or an LX without claims) and the LX header it sits under."""

    transaction: int
    lx: list[tuple[int, Segment]]
    body: list[tuple[int, Segment]]


@dataclass
class _Transaction:
    header: list[tuple[int, Segment]]
    trailer: list[tuple[int, Segment]]  # PLBs, then SE
    control: str
    end: int  # the SE's segment number


@dataclass(frozen=True)
class EnvelopeProblem:
    """A trailer count or control number that is wrong, worded and coded as pyx12 reports it."""

    line: int
    level: str  # transaction, group, interchange
    code: str
    message: str


def split(segments: list[Segment], parts: int) -> tuple[list[Piece], list[EnvelopeProblem]] | None:
    """`parts` interchanges covering the file (fewer when it has fewer claims), or None if it cannot be cut."""
    shape = _shape(segments)
    if shape is None or parts < 2:
        return None
    transactions, units = shape
    if len(units) < parts:
        return None
    last_units = {id(next(u for u in reversed(units) if u.transaction == n)) for n in range(len(transactions))}
    size = -(-len(units) // parts)
    pieces = [_piece(segments, transactions, units[i:i + size], last_units) for i in range(0, len(units), size)]
    return pieces, envelope_problems(segments)


def split_transactions(segments: list[Segment], parts: int) -> tuple[list[Piece], list[EnvelopeProblem]] | None:
    """`parts` interchanges (fewer when there are fewer transactions) of whole transactions, or None when the
    file has one transaction or another shape than one interchange of one group of transactions."""
    ids = [s[0].upper() for s in segments]
    if parts < 2 or len(ids) < 4 or ids[:2] != ["ISA", "GS"] or ids[-2:] != ["GE", "IEA"] \
            or ids.count("ISA") != 1 or ids.count("GS") != 1:
        return None
    spans: list[tuple[int, int]] = []
    position = 2
    while position < len(ids) - 2:
        if ids[position] != "ST" or "SE" not in ids[position:-2]:
            return None
        end = ids.index("SE", position)
        if "ST" in ids[position + 1:end]:
            return None
        spans.append((position, end))
        position = end + 1
    if len(spans) < 2:
        return None
    size = -(-len(spans) // parts)
    pieces = [_whole_transactions(segments, spans[i:i + size]) for i in range(0, len(spans), size)]
    return pieces, envelope_problems(segments) + _repeated_controls(segments, spans)


def _whole_transactions(segments: list[Segment], spans: list[tuple[int, int]]) -> Piece:
    piece = Piece()
    piece.add(segments[0], 1)
    piece.add(segments[1], 2)
    for start, end in spans:
        for index in range(start, end + 1):
            piece.add(segments[index], index + 1)
    last = len(segments)
    piece.add(["GE", str(len(spans)), _el(segments[-2], 2)], last - 1)
    piece.add(["IEA", "1", _el(segments[-1], 2)], last)
    return piece


def _repeated_controls(segments: list[Segment], spans: list[tuple[int, int]]) -> list[EnvelopeProblem]:
    """ST02 must be unique in the group; pieces validated apart would not see a repeat across them."""
    seen: set[str] = set()
    problems = []
    for start, _end in spans:
        control = _el(segments[start], 2)
        if control in seen:
            problems.append(EnvelopeProblem(start + 1, "transaction", "23",
                                            f"ST02 {control} is used by an earlier transaction of the group"))
        seen.add(control)
    return problems


def _shape(segments: list[Segment]) -> tuple[list[_Transaction], list[_Unit]] | None:
    ids = [s[0].upper() for s in segments]
    if len(ids) < 4 or ids[:2] != ["ISA", "GS"] or ids[-2:] != ["GE", "IEA"] or ids.count("ISA") != 1 \
            or ids.count("GS") != 1:
        return None
    transactions: list[_Transaction] = []
    units: list[_Unit] = []
    position = 2
    while position < len(segments) - 2:
        if ids[position] != "ST":
            return None
        found = _transaction(segments, ids, position, len(transactions), units)
        if found is None:
            return None
        transactions.append(found)
        position = found.end  # 1-based end == 0-based index of the next segment
    return transactions, units


def _transaction(segments: list[Segment], ids: list[str], start: int, number: int,
                 units: list[_Unit]) -> _Transaction | None:
    try:
        end = ids.index("SE", start)
    except ValueError:
        return None
    if "ST" in ids[start + 1:end]:
        return None
    numbered = [(i + 1, segments[i]) for i in range(start, end + 1)]
    first_lx = next((k for k, (_, s) in enumerate(numbered) if s[0].upper() == "LX"), None)
    first_plb = next((k for k, (_, s) in enumerate(numbered) if s[0].upper() == "PLB"), len(numbered) - 1)
    first_clp = next((k for k, (_, s) in enumerate(numbered) if s[0].upper() == "CLP"), None)
    if first_clp is not None and (first_lx is None or first_clp < first_lx):
        return None  # a claim outside any LX: pyx12 must see it in place
    if first_lx is None:
        first_lx = first_plb
    if any(s[0].upper() in ("LX", "CLP") for _, s in numbered[first_plb:]):
        return None
    header, detail, trailer = numbered[:first_lx], numbered[first_lx:first_plb], numbered[first_plb:]
    before = len(units)
    _units(detail, number, units)
    if len(units) == before:
        units.append(_Unit(number, [], []))  # a payment with no claims still needs its transaction checked
    control = segments[start][2] if len(segments[start]) > 2 else ""
    return _Transaction(header, trailer, control, end + 1)


def _units(detail: list[tuple[int, Segment]], number: int, units: list[_Unit]) -> None:
    lx: list[tuple[int, Segment]] = []
    current: _Unit | None = None
    for origin, segment in detail:
        tag = segment[0].upper()
        if tag == "LX":
            lx, current = [(origin, segment)], None
            units.append(_Unit(number, lx, []))  # an LX with no claim stays a unit (and an error) of its own
        elif tag in HEADER_OF_LX and current is None:
            lx.append((origin, segment))
        elif tag == "CLP":
            if units and units[-1].lx is lx and not units[-1].body:
                units.pop()  # the LX placeholder: this claim carries the LX now
            current = _Unit(number, lx, [(origin, segment)])
            units.append(current)
        elif current is not None:
            current.body.append((origin, segment))
        else:
            units[-1].body.append((origin, segment))


def _piece(segments: list[Segment], transactions: list[_Transaction], units: list[_Unit],
           last_units: set[int]) -> Piece:
    piece = Piece()
    piece.add(segments[0], 1)
    piece.add(segments[1], 2)
    current: int | None = None
    last_lx: list[tuple[int, Segment]] | None = None
    count = in_piece = 0
    for unit in units:
        if unit.transaction != current:
            if current is not None:  # units are in file order: that transaction ended in this piece
                _close(piece, transactions[current], count, complete=True)
            current, last_lx, in_piece = unit.transaction, None, in_piece + 1
            for origin, segment in transactions[current].header:
                piece.add(segment, origin)
            count = len(transactions[current].header)
        if unit.lx is not last_lx:
            for origin, segment in unit.lx:
                piece.add(segment, origin)
            count, last_lx = count + len(unit.lx), unit.lx
        for origin, segment in unit.body:
            piece.add(segment, origin)
        count += len(unit.body)
    assert current is not None
    _close(piece, transactions[current], count, complete=id(units[-1]) in last_units)
    piece.add(["GE", str(in_piece), _el(segments[-2], 2)], len(segments) - 1)
    piece.add(["IEA", "1", _el(segments[-1], 2)], len(segments))
    return piece


def _close(piece: Piece, transaction: _Transaction, count: int, *, complete: bool) -> None:
    """End a transaction in the piece: its PLBs where it really ends, then an SE that counts right."""
    plbs, (se_origin, _) = transaction.trailer[:-1], transaction.trailer[-1]
    if complete:
        for origin, segment in plbs:
            piece.add(segment, origin)
        count += len(plbs)
    piece.add(["SE", str(count + 1), transaction.control], se_origin)


def envelope_problems(segments: list[Segment]) -> list[EnvelopeProblem]:
    """The counts and control numbers the pieces' rewritten trailers no longer show to pyx12."""
    problems = []
    ids = [s[0].upper() for s in segments]
    isa, gs, ge, iea = segments[0], segments[1], segments[-2], segments[-1]
    starts = [i for i, tag in enumerate(ids) if tag == "ST"]
    for start in starts:
        end = ids.index("SE", start)
        se, st, count = segments[end], segments[start], end - start + 1
        if _el(se, 1) != str(count):
            message = f"SE count of {_el(se, 1)} for SE02={_el(se, 2)} is wrong. I count {count}"
            problems.append(EnvelopeProblem(end + 1, "transaction", "4", message))
        if _el(se, 2) != _el(st, 2):
            problems.append(EnvelopeProblem(end + 1, "transaction", "3",
                                            f"SE id={_el(se, 2)} does not match ST id={_el(st, 2)}"))
    last = len(segments)
    if _el(ge, 1) != str(len(starts)):
        problems.append(EnvelopeProblem(
            last - 1, "group", "5", f"GE count of {_el(ge, 1)} for GE02={_el(ge, 2)} is wrong. I count {len(starts)}"))
    if _el(ge, 2) != _el(gs, 6):
        problems.append(EnvelopeProblem(
            last - 1, "group", "4", f"GE id={_el(ge, 2)} does not match GS id={_el(gs, 6)}"))
    if _el(iea, 1) != "1":
        problems.append(EnvelopeProblem(last, "interchange", "021", f"IEA count for IEA02={_el(iea, 2)} is wrong"))
    if _el(iea, 2) != _el(isa, 13):
        problems.append(EnvelopeProblem(last, "interchange", "001",
                                        f"IEA id={_el(iea, 2)} does not match ISA id={_el(isa, 13)}"))
    return problems


def _el(segment: Segment, n: int) -> str:
    return segment[n].strip() if len(segment) > n else ""
