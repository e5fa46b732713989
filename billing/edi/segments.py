"""Reading X12 text: clean it, find its delimiters in the ISA, split it into segments and elements."""

from __future__ import annotations

import sys
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import overload

from billing.core.errors import Invalid

BOM = "\ufeff"
ISA_ELEMENTS = 16


class NotX12(Invalid):
    """The bytes are not an X12 interchange at all."""


@dataclass(frozen=True)
class Delimiters:
    element: str
    component: str
    repetition: str
    segment: str


def decode(data: bytes | str) -> str:
    """Text without a byte-order mark or the whitespace some systems put around the interchange."""
    text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
    return text.lstrip(BOM + " \t\r\n").lstrip(BOM).rstrip()


def delimiters(text: str) -> Delimiters:
    """The ISA names its own delimiters: the 4th character, ISA11, ISA16 and the character after ISA16."""
    if not text.startswith("ISA"):
        raise NotX12("This is not an X12 file: it does not start with an ISA segment.")
    if len(text) < 4:
        raise NotX12("This is not an X12 file: its ISA segment is cut short.")
    element = text[3]
    if element.isalnum() or element.isspace():
        raise NotX12("This is not an X12 file: the ISA has no element separator.")
    position = 0
    for _ in range(ISA_ELEMENTS):
        position = text.find(element, position + 1)
        if position < 0:
            raise NotX12("This is not an X12 file: its ISA segment is cut short.")
    if position + 2 >= len(text):
        raise NotX12("This is not an X12 file: no segment terminator follows the ISA.")
    component, segment = text[position + 1], text[position + 2]
    isa = text[:position].split(element)
    repetition = isa[11] if len(isa) > 11 and len(isa[11]) == 1 and not isa[11].isalnum() else "^"
    return Delimiters(element, component, repetition, segment)


#: What may stand between one segment's terminator and the next segment's id: line breaks and indentation.
BETWEEN_SEGMENTS = " \t\r\n"
#: What may end a segment's text besides its terminator: the line break of a file whose terminator is a newline
#: (CRLF leaves its CR behind) or that breaks lines after it. Spaces are not stripped there: they are the data of
#: the segment's last element.
LINE_BREAKS = "\r\n"


def _raw_segments(text: str, delims: Delimiters) -> list[str]:
    """Each segment's text without its terminator; line breaks and indentation between segments are dropped."""
    return [raw for piece in text.split(delims.segment) if (raw := piece.lstrip(BETWEEN_SEGMENTS).rstrip(LINE_BREAKS))]


#: Characters of text made canonical at a time by `_canonical_blocks`.
BLOCK = 1 << 20


def _canonical_blocks(text: str, delims: Delimiters) -> Iterator[str]:
    """`text`'s segments, each followed by its terminator, a block of about BLOCK characters at a time.

    What joining every `_raw_segments` item and its terminator gives, without their list: a 74,000-claim 835 has
    a million segments, and the list of them and of their terminated copies took 150 MB beside a 20 MB file. The
    text is cut just after a terminator, so each block splits into exactly the pieces the whole text splits into
    there (tests/billing/edi/test_segments_properties.py compares the two)."""
    terminator, start = delims.segment, 0
    while start < len(text):
        cut = text.find(terminator, min(start + BLOCK, len(text)))
        end = len(text) if cut < 0 else cut + 1
        yield "".join(raw + terminator for raw in _raw_segments(text[start:end], delims))
        start = end


def split_segments(text: str, delims: Delimiters | None = None) -> tuple[Delimiters, list[list[str]]]:
    """Segments as lists of elements (element 0 is the segment id); stray whitespace between segments is dropped."""
    text = decode(text)
    delims = delims or delimiters(text)
    return delims, [raw.split(delims.element) for raw in _raw_segments(text, delims)]


class SegmentText:
    """An interchange kept as one canonical string (`canonical`), split into segments each time it is read.

    A list of segments, each a list of elements, takes about twenty times the file's size (a 20 MB 835 of
    74,000 claims: over 400 MB); the string takes the file's size, and reading it again costs little. Iterating
    gives what `split_segments` gives; `spans` also says where each segment's text starts and ends.
    """

    def __init__(self, text: str, delims: Delimiters | None = None) -> None:
        text = decode(text)
        self.delims = delims or delimiters(text)
        self.text = "".join(_canonical_blocks(text, self.delims))

    def __iter__(self) -> Iterator[list[str]]:
        return (segment for _, _, segment in self.spans())

    def spans(self) -> Iterator[tuple[int, int, list[str]]]:
        """(start, end, elements) per segment: `text[start:end]` is the segment with its terminator."""
        text, terminator, element = self.text, self.delims.segment, self.delims.element
        start = 0
        while start < len(text):
            end = text.find(terminator, start) + 1
            yield start, end, text[start:end - 1].split(element)
            start = end


class SegmentTable(Sequence[list[str]]):
    """An interchange's segments by number, over its canonical text, each split only when asked for.

    Holds the canonical text (the given one when it already is), where each segment starts, and each segment's id
    in capitals (`ids`, one shared string per distinct id): about 16 bytes a segment where the segments split into
    lists took about 150. An item is what cutting a file reads (billing.edi.chunks): the segments of `in_full`
    split into every element, the others into their id and the rest (or the id alone); `raw(i)` is segment i's text
    with its terminator, exactly as joining the item's elements writes it."""

    def __init__(self, text: str, delims: Delimiters, in_full: frozenset[str]) -> None:
        # Usually the text is canonical already (the 835 import's is): then it is not copied.
        self.text = text if _is_canonical(text, delims) else "".join(_canonical_blocks(text, delims))
        self.delims, self.in_full = delims, in_full
        self.starts = array("q")
        self.ids: list[str] = []
        uppers: dict[str, str] = {}
        position, terminator, element = 0, delims.segment, delims.element
        for block in _blocks_of(self.text, terminator):
            for raw in block.split(terminator)[:-1]:
                tag = raw.partition(element)[0]
                self.starts.append(position)
                self.ids.append(uppers.get(tag) or uppers.setdefault(tag, sys.intern(tag.upper())))
                position += len(raw) + 1
        self.starts.append(position)

    def __len__(self) -> int:
        return len(self.ids)

    @overload
    def __getitem__(self, index: int) -> list[str]: ...
    @overload
    def __getitem__(self, index: slice) -> list[list[str]]: ...
    def __getitem__(self, index: int | slice) -> list[str] | list[list[str]]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        raw = self.raw(index)[:-1]
        tag, separator, rest = raw.partition(self.delims.element)
        if self.ids[index] in self.in_full:
            return raw.split(self.delims.element)
        return [sys.intern(tag), rest] if separator else [sys.intern(tag)]

    def raw(self, index: int) -> str:
        if not -len(self) <= index < len(self):
            raise IndexError(index)
        index %= len(self)
        return self.text[self.starts[index]:self.starts[index + 1]]


def _is_canonical(text: str, delims: Delimiters) -> bool:
    """Whether `text` is its own canonical form, compared a block at a time (no copy of the whole)."""
    position = 0
    for block in _canonical_blocks(text, delims):
        if not text.startswith(block, position):
            return False
        position += len(block)
    return position == len(text)


def _blocks_of(text: str, terminator: str) -> Iterator[str]:
    """A canonical text in blocks of about BLOCK characters, each ending just after a terminator."""
    start = 0
    while start < len(text):
        cut = text.find(terminator, min(start + BLOCK, len(text)))
        end = len(text) if cut < 0 else cut + 1
        yield text[start:end]
        start = end


def segment_texts(text: str) -> list[str]:
    """The segments in order as text (elements joined by the file's own separator), one per list item."""
    text = decode(text)
    return _raw_segments(text, delimiters(text))


def canonical(text: str) -> str:
    """The interchange as one line: each segment followed by its terminator and nothing else.

    Whatever reads X12 (pyx12, our parsers) reads this, so a file indented or broken into lines reads exactly as the
    same file without them. Raises NotX12 when there is no ISA to take the delimiters from.
    """
    delims, segments = split_segments(text)
    return join_segments(segments, delims)


def join_segments(segments: list[list[str]], delims: Delimiters) -> str:
    return "".join(delims.element.join(seg) + delims.segment for seg in segments)
