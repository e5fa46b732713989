"""The gate every 837P passes before it can be sent or downloaded: pyx12, then what pyx12 cannot check.

pyx12 runs through `billing.edi.pyx12`, the one runner every X12 check shares.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from billing.core.identifiers import npi_problem
from billing.edi.pyx12 import PendingValidation, Validation, validate
from billing.edi.segments import segment_texts
from billing.edi.writing import COMPONENT, ELEMENT

# pyx12 logs each error at ERROR level as well as reporting it; the report is what we show.
logging.getLogger("pyx12").setLevel(logging.CRITICAL)


@dataclass(frozen=True)
class FileError:
    """One problem in a file, with the segment it was found at and the claim that segment belongs to."""

    segment_number: int | None
    segment_text: str
    message: str
    claim_number: str | None = None

    def __str__(self) -> str:
        where = f"segment {self.segment_number}" if self.segment_number else "file"
        who = f"claim {self.claim_number}, " if self.claim_number else ""
        return f"{who}{where}: {self.message}"


def validate_837(text: str, claim_at: Callable[[int], str | None] = lambda _n: None) -> list[FileError]:
    """Every error pyx12 and the house checks find; an empty list means the file may go out."""
    check = Checking(text, claim_at, parallel=False)
    try:
        return check.errors()
    finally:
        check.close()


class Checking:
    """`validate_837` started now and read later: with `parallel`, pyx12 runs in a worker process
    (billing.edi.pyx12, as the 835 import does) while the caller builds the next file. Always `close()` it."""

    def __init__(self, text: str, claim_at: Callable[[int], str | None], *, parallel: bool) -> None:
        self.text, self.claim_at = text, claim_at
        # An 837P is cut only between its transactions (each stands alone: billing.edi.chunks), so a large
        # file's transactions are validated side by side; files are also capped per clearinghouse.
        self._pending = PendingValidation(text, parallel=parallel, cut=False, by_transaction=parallel)

    def errors(self) -> list[FileError]:
        segments = segment_texts(self.text)
        errors = [*_as_file_errors(self._pending.result(), segments), *house_checks(segments)]
        return [
            FileError(e.segment_number, e.segment_text, e.message,
                      self.claim_at(e.segment_number) if e.segment_number else None)
            for e in sorted(errors, key=lambda e: e.segment_number or 0)
        ]  # fmt: skip

    def close(self) -> None:
        self._pending.close()


def pyx12_errors(text: str, segments: list[str] | None = None) -> list[FileError]:
    """pyx12's findings on a file, each with the text of the segment it points at."""
    segments = segments if segments is not None else segment_texts(text)
    return _as_file_errors(validate(text), segments)


def _as_file_errors(validation: Validation, segments: list[str]) -> list[FileError]:
    if not validation.looks_like_x12:
        return [FileError(1, segments[0] if segments else "", "Not an X12 interchange (the ISA segment is malformed).")]
    return [FileError(f.line, segments[f.line - 1] if f.line and 0 < f.line <= len(segments) else "",
                      f.message or f"error {f.code}") for f in validation.findings]


def house_checks(segments: list[str]) -> list[FileError]:
    """CLM02 = sum of SV102, NPI check digits, REF*F8 on frequency 7 and 8."""
    errors: list[FileError] = []
    claim: _OpenClaim | None = None
    for number, text in enumerate(segments, start=1):
        elements = text.split(ELEMENT)
        tag = elements[0]
        if tag in ("CLM", "SE", "HL") and claim is not None:
            errors += claim.close()
            claim = None
        if tag == "CLM":
            claim = _OpenClaim(number, text, elements)
        elif claim is not None:
            claim.see(tag, elements)
        if tag == "NM1" and len(elements) > 9 and elements[8] == "XX" and (problem := npi_problem(elements[9])):
            errors.append(FileError(number, text, problem))
    return errors


class _OpenClaim:
    def __init__(self, number: int, text: str, elements: list[str]) -> None:
        self.number, self.text = number, text
        self.total = _decimal(elements[2] if len(elements) > 2 else "")
        self.frequency = elements[5].split(COMPONENT)[-1] if len(elements) > 5 else ""
        self.lines_total = Decimal(0)
        self.has_f8 = False
        self.in_lines = False

    def see(self, tag: str, elements: list[str]) -> None:
        if tag == "LX":
            self.in_lines = True
        elif tag == "SV1" and len(elements) > 2:
            self.lines_total += _decimal(elements[2]) or 0
        elif tag == "REF" and not self.in_lines and len(elements) > 2 and elements[1] == "F8" and elements[2]:
            self.has_f8 = True

    def close(self) -> list[FileError]:
        errors = []
        if self.total is None or self.total != self.lines_total:
            errors.append(FileError(self.number, self.text,
                                    f"CLM02 {self.total} is not the sum of the service lines ({self.lines_total})."))
        if self.frequency in ("7", "8") and not self.has_f8:
            errors.append(FileError(self.number, self.text,
                                    f"Frequency {self.frequency} needs the payer's claim number in REF*F8."))
        return errors


def _decimal(text: str) -> Decimal | None:
    try:
        return Decimal(text)
    except InvalidOperation:
        return None
