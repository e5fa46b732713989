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

from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import pairwise

from billing.edi.segments import Delimiters, join_segments

Segment = list[str]
#: The file's segments: a list, or a `SegmentTable` that splits each when asked and keeps none.
Segments = Sequence[Segment]
HEADER_OF_LX = ("TS3", "TS2")
#: Segments of a piece joined into one string at a time when its text is written.
_TEXT_BLOCK = 4096


@dataclass
class Piece:
    """One interchange to validate, and the original 1-based segment number of each of its segments.

    A segment of the file is kept as its number only (`keep`), its text read from the file's segments when the
    piece's text is made; only the trailers written anew (`add`) are held. A piece of half a 74,000-claim 835
    held as lists of elements took over 100 MB."""

    source: Segments = field(default_factory=list)
    origin: array[int] = field(default_factory=lambda: array("i"))
    written: dict[int, Segment] = field(default_factory=dict)

    def keep(self, origin: int) -> None:
        self.origin.append(origin)

    def add(self, segment: Segment, origin: int) -> None:
        self.written[len(self.origin)] = segment
        self.origin.append(origin)

    @property
    def segments(self) -> list[Segment]:
        return [self.written.get(k) or self.source[origin - 1] for k, origin in enumerate(self.origin)]

    def text(self, delims: Delimiters) -> str:
        return "".join(self.blocks(delims))

    def blocks(self, delims: Delimiters) -> Iterator[str]:
        """The piece's text a few thousand segments at a time (written out so, it is never whole in memory)."""
        raw = getattr(self.source, "raw", None)  # a SegmentTable hands out a segment's text as it is in the file
        for first in range(0, len(self.origin), _TEXT_BLOCK):
            out = []
            for k in range(first, min(first + _TEXT_BLOCK, len(self.origin))):
                written, index = self.written.get(k), self.origin[k] - 1
                out.append(join_segments([written], delims) if written is not None
                           else raw(index) if raw is not None else join_segments([self.source[index]], delims))
            yield "".join(out)


@lru_cache(maxsize=1024)
def _upper(tag: str) -> str:
    """A segment id in capitals, one string per distinct id (a million segments name a dozen ids)."""
    return tag.upper()


def segment_ids(segments: Segments) -> list[str]:
    """Each segment's id in capitals; a `SegmentTable` has them already."""
    ids = getattr(segments, "ids", None)
    return ids if ids is not None else [_upper(s[0]) for s in segments]


@dataclass
class _Unit:
    """A claim loop (or an LX without claims) and the LX header it sits under, as 1-based segment numbers."""

    transaction: int
    lx: list[int]
    body: list[int] | range


@dataclass
class _Transaction:
    header: list[int]
    trailer: list[int]  # PLBs, then SE
    control: str
    end: int  # the SE's segment number


@dataclass(frozen=True)
class EnvelopeProblem:
    """A trailer count or control number that is wrong, worded and coded as pyx12 reports it."""

    line: int
    level: str  # transaction, group, interchange
    code: str
    message: str


def split(segments: Segments, parts: int) -> tuple[list[Piece], list[EnvelopeProblem]] | None:
    """`parts` interchanges covering the file (fewer when it has fewer claims), or None if it cannot be cut."""
    ids = segment_ids(segments)
    shape = _shape(segments, ids)
    if shape is None or parts < 2:
        return None
    transactions, units = shape
    if len(units) < parts:
        return None
    last_units = {id(next(u for u in reversed(units) if u.transaction == n)) for n in range(len(transactions))}
    size = -(-len(units) // parts)
    pieces = [_piece(segments, transactions, units[i:i + size], last_units) for i in range(0, len(units), size)]
    return pieces, envelope_problems(segments, ids)


def split_transactions(segments: Segments, parts: int) -> tuple[list[Piece], list[EnvelopeProblem]] | None:
    """`parts` interchanges (fewer when there are fewer transactions) of whole transactions, or None when the
    file has one transaction or another shape than one interchange of one group of transactions."""
    ids = segment_ids(segments)
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
    return pieces, envelope_problems(segments, ids) + _repeated_controls(segments, spans)


def _whole_transactions(segments: Segments, spans: list[tuple[int, int]]) -> Piece:
    piece = Piece(segments)
    piece.keep(1)
    piece.keep(2)
    for start, end in spans:
        for index in range(start, end + 1):
            piece.keep(index + 1)
    last = len(segments)
    piece.add(["GE", str(len(spans)), _el(segments[-2], 2)], last - 1)
    piece.add(["IEA", "1", _el(segments[-1], 2)], last)
    return piece


def _repeated_controls(segments: Segments, spans: list[tuple[int, int]]) -> list[EnvelopeProblem]:
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


def _shape(segments: Segments, ids: list[str]) -> tuple[list[_Transaction], list[_Unit]] | None:
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


def _transaction(segments: Segments, ids: list[str], start: int, number: int,
                 units: list[_Unit]) -> _Transaction | None:
    try:
        end = ids.index("SE", start)
    except ValueError:
        return None
    if "ST" in ids[start + 1:end]:
        return None
    first_lx = _first(ids, "LX", start, end)  # counted from the ST
    first_plb = _first(ids, "PLB", start, end)
    first_plb = end - start if first_plb is None else first_plb
    first_clp = _first(ids, "CLP", start, end)
    if first_clp is not None and (first_lx is None or first_clp < first_lx):
        return None  # a claim outside any LX: pyx12 must see it in place
    if first_lx is None:
        first_lx = first_plb
    if any(ids[i] in ("LX", "CLP") for i in range(start + first_plb, end + 1)):
        return None
    numbered = range(start + 1, end + 2)
    header, detail, trailer = list(numbered[:first_lx]), numbered[first_lx:first_plb], list(numbered[first_plb:])
    before = len(units)
    _units(detail, ids, number, units)
    for unit in units[before:]:
        unit.body = _compact(unit.body)
    if len(units) == before:
        units.append(_Unit(number, [], []))  # a payment with no claims still needs its transaction checked
    control = segments[start][2] if len(segments[start]) > 2 else ""
    return _Transaction(header, trailer, control, end + 1)


def _first(ids: list[str], tag: str, start: int, end: int) -> int | None:
    """Where `tag` first is among segments start..end (0-based, both included), counted from start."""
    try:
        return ids.index(tag, start, end + 1) - start
    except ValueError:
        return None


def _units(detail: range, ids: list[str], number: int, units: list[_Unit]) -> None:
    lx: list[int] = []
    current: _Unit | None = None
    for origin in detail:
        tag = ids[origin - 1]
        if current is not None and tag in ("LX", "CLP"):
            current.body = _compact(current.body)  # that claim loop is complete
        if tag == "LX":
            lx, current = [origin], None
            units.append(_Unit(number, lx, []))  # an LX with no claim stays a unit (and an error) of its own
        elif tag in HEADER_OF_LX and current is None:
            lx.append(origin)
        elif tag == "CLP":
            if units and units[-1].lx is lx and not units[-1].body:
                units.pop()  # the LX placeholder: this claim carries the LX now
            current = _Unit(number, lx, [origin])
            units.append(current)
        elif current is not None:
            current.body.append(origin)
        else:
            units[-1].body.append(origin)


def _compact(numbers: list[int] | range) -> list[int] | range:
    """Consecutive segment numbers as a range (a claim loop's always are): a list of them took 36 bytes each."""
    if len(numbers) > 1 and numbers[-1] - numbers[0] == len(numbers) - 1 \
            and all(b == a + 1 for a, b in pairwise(numbers)):
        return range(numbers[0], numbers[-1] + 1)
    return numbers


def _piece(segments: Segments, transactions: list[_Transaction], units: list[_Unit],
           last_units: set[int]) -> Piece:
    piece = Piece(segments)
    piece.keep(1)
    piece.keep(2)
    current: int | None = None
    last_lx: list[tuple[int, Segment]] | None = None
    count = in_piece = 0
    for unit in units:
        if unit.transaction != current:
            if current is not None:  # units are in file order: that transaction ended in this piece
                _close(piece, transactions[current], count, complete=True)
            current, last_lx, in_piece = unit.transaction, None, in_piece + 1
            piece.origin.extend(transactions[current].header)
            count = len(transactions[current].header)
        if unit.lx is not last_lx:
            piece.origin.extend(unit.lx)
            count, last_lx = count + len(unit.lx), unit.lx
        piece.origin.extend(unit.body)
        count += len(unit.body)
    assert current is not None
    _close(piece, transactions[current], count, complete=id(units[-1]) in last_units)
    piece.add(["GE", str(in_piece), _el(segments[-2], 2)], len(segments) - 1)
    piece.add(["IEA", "1", _el(segments[-1], 2)], len(segments))
    return piece


def _close(piece: Piece, transaction: _Transaction, count: int, *, complete: bool) -> None:
    """End a transaction in the piece: its PLBs where it really ends, then an SE that counts right."""
    plbs, se_origin = transaction.trailer[:-1], transaction.trailer[-1]
    if complete:
        piece.origin.extend(plbs)
        count += len(plbs)
    piece.add(["SE", str(count + 1), transaction.control], se_origin)


def envelope_problems(segments: Segments, ids: list[str] | None = None) -> list[EnvelopeProblem]:
    """The counts and control numbers the pieces' rewritten trailers no longer show to pyx12."""
    problems = []
    ids = segment_ids(segments) if ids is None else ids
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
