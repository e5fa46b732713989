"""What a file is, read before anything validates it: an 835, a 999, a 277CA... or not X12 at all.

An importer given the wrong file says what the file is ("This file is a 999 (implementation acknowledgment),
not an 835 remittance"), instead of letting a validator report the other transaction's segments one by one.
ST01 names the transaction set; GS08 (the implementation guide) tells a 277CA from a 277 and an 837P from
an 837I, which share ST01.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from billing.core.errors import Invalid
from billing.edi.segments import NotX12, decode, split_segments

#: Kind code -> what a person calls it.
NAMES = {
    "835": "835 remittance (health care claim payment/advice)",
    "999": "999 (implementation acknowledgment)",
    "997": "997 (functional acknowledgment)",
    "TA1": "TA1 (interchange acknowledgment)",
    "277CA": "277CA (claim acknowledgment)",
    "277": "277 (claim status response)",
    "276": "276 (claim status request)",
    "837P": "837P (professional claim)",
    "837I": "837I (institutional claim)",
    "837D": "837D (dental claim)",
    "837": "837 (health care claim)",
    "270": "270 (eligibility inquiry)",
    "271": "271 (eligibility response)",
    "278": "278 (prior authorization)",
    "834": "834 (benefit enrollment)",
    "820": "820 (premium payment)",
}
#: Kinds that share ST01, told apart by the implementation guide in GS08.
BY_GUIDE = {("277", "X214"): "277CA", ("837", "X222"): "837P", ("837", "X223"): "837I", ("837", "X224"): "837D"}
#: The opening bytes of files people mistake for an X12 file, and what to say about them.
NOT_X12_SIGNATURES = (
    ("%PDF", "a PDF document"),
    ("PK\x03\x04", "a ZIP archive (unzip it and import the file inside)"),
    ("{\\rtf", "an RTF document"),
    ("<", "an XML or HTML document"),
)


class WrongX12Kind(Invalid):
    """An X12 file of another kind than the importer reads."""


@dataclass(frozen=True)
class X12Kind:
    code: str  # "835", "999", "277CA", "TA1", or ST01 itself when we have no name for it

    @property
    def name(self) -> str:
        return NAMES.get(self.code, f"transaction set {self.code}")


def kinds_in(text: str) -> list[X12Kind]:
    """The kinds of the transactions in an interchange, in order and each once; raises NotX12 when it is none."""
    return kinds_of(split_segments(text)[1])


def kinds_of(segments: Iterable[list[str]]) -> list[X12Kind]:
    """`kinds_in` for segments already split."""
    found: list[X12Kind] = []
    guide = ""
    for segment in segments:
        tag = segment[0].strip().upper()
        if tag == "GS":
            guide = _element(segment, 8).upper()
        elif tag == "ST":
            kind = _kind(_element(segment, 1), _element(segment, 3).upper() or guide)
            if kind not in found:
                found.append(kind)
    if not found and any(s[0].strip().upper() == "TA1" for s in segments):
        found.append(X12Kind("TA1"))
    return found


def require_kind(data: bytes | str, wanted: str, *, hints: Mapping[str, str] | None = None) -> None:
    """Refuse, in one sentence, a file that is not X12 or holds any transaction of another kind than `wanted`.

    `hints` maps a kind to what to tell the person about it (where that file goes instead).
    """
    text = decode(data)
    if not text.startswith("ISA"):
        raise NotX12(not_x12_message(text, NAMES[wanted]))
    require_kind_of(split_segments(text)[1], wanted, hints=hints)


def require_kind_of(segments: Iterable[list[str]], wanted: str, *, hints: Mapping[str, str] | None = None) -> None:
    """`require_kind` for the segments of an interchange already split."""
    others = [k for k in kinds_of(segments) if k.code != wanted]
    if others:
        hint = next((hints[k.code] for k in others if hints and k.code in hints), "")
        raise WrongX12Kind(wrong_kind_message(others, wanted, hint=hint))


def not_x12_message(text: str, wanted: str) -> str:
    """Why a file that does not start with ISA is not read, naming what it looks like when we can tell."""
    wanted = _a(_short(wanted))
    if not text:
        return f"The file is empty; {wanted} starts with an ISA segment."
    what = next((name for start, name in NOT_X12_SIGNATURES if text.startswith(start)), None)
    if what is None and any(c == "\ufffd" or (c < " " and c not in "\t\r\n") for c in text[:512]):
        what = "binary data"
    if what is not None:
        return f"This file is {what}, not an X12 file; {wanted} starts with an ISA segment."
    return f"This is not an X12 file: it does not start with an ISA segment, as {wanted} does."


def wrong_kind_message(kinds: Sequence[X12Kind], wanted: str, *, hint: str = "") -> str:
    names = " and ".join(k.name for k in kinds)
    return f"This file is {_a(names)}, not {_a(_short(NAMES[wanted]))}{'; ' + hint if hint else ''}."


def _short(name: str) -> str:
    """ "835 remittance (health care claim payment/advice)" -> "835 remittance"."""
    return name.split(" (")[0]


def _a(name: str) -> str:
    """The article as the name is read aloud: "an 835", "an 837P", "a 999", "a TA1"."""
    return f"{'an' if name[:1] in '8AEIO' else 'a'} {name}"


def _kind(st01: str, guide: str) -> X12Kind:
    st01 = st01.strip().upper()
    for (transaction, marker), code in BY_GUIDE.items():
        if st01 == transaction and marker in guide:
            return X12Kind(code)
    return X12Kind(st01 or "?")


def _element(segment: list[str], n: int) -> str:
    return segment[n].strip() if len(segment) > n else ""
