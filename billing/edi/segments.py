"""Reading X12 text: clean it, find its delimiters in the ISA, split it into segments and elements."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

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
        self.text = "".join(raw + self.delims.segment for raw in _raw_segments(text, self.delims))

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
