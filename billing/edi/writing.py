"""Writing X12: our delimiters, cleaning values for an element, amounts, and joining elements into a segment.

Reading (delimiters from the ISA, splitting into segments) is `billing.edi.segments`.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from decimal import Decimal

ELEMENT = "*"
COMPONENT = ":"
REPETITION = "^"
SEGMENT = "~"
#: Characters that end or split a value; none may appear inside one.
RESERVED = frozenset(ELEMENT + COMPONENT + REPETITION + SEGMENT)
_SPACES = re.compile(r"\s+")
_RESERVED_RE = re.compile(r"[*:^~]")


@functools.lru_cache(maxsize=65536)
def clean_text(value: str | None, *, limit: int = 60) -> str:
    """A name or street fit for X12: plain ASCII, delimiters replaced by spaces, upper case, trimmed.

    Payers' systems read the basic character set; an accented name is sent without its accents
    rather than refused, and "O*Brien" becomes "O BRIEN" rather than splitting the segment.
    Cached: the same names and streets come back on every claim of a batch.
    """
    if not value:
        return ""
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")
    ascii_text = _RESERVED_RE.sub(" ", ascii_text)
    return _SPACES.sub(" ", ascii_text).strip().upper()[:limit].strip()


def identifier_problem(what: str, value: str | None) -> str | None:
    """Identifiers (member ids, claim numbers, NPIs) are never altered: a delimiter in one is refused."""
    if value is None or not value.strip():
        return f"{what} is missing."
    if RESERVED & set(value):
        return f"{what} {value!r} contains a character X12 reserves (* : ^ ~); correct it at the source."
    if not value.isascii():
        return f"{what} {value!r} contains characters outside plain ASCII."
    return None


def amount(value: Decimal) -> str:
    """X12 decimal: no trailing zeros after the point, no point for whole amounts ("72", "18.5")."""
    text = format(value.quantize(Decimal("0.01")), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def segment(*elements: str | int | Decimal | None) -> str:
    """Join elements with `*`, dropping trailing empties (X12 forbids trailing delimiters)."""
    values = [e if type(e) is str else "" if e is None else amount(e) if isinstance(e, Decimal) else str(e)
              for e in elements]  # fmt: skip
    while values and values[-1] == "":
        values.pop()
    return ELEMENT.join(values)

