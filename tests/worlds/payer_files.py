"""835s as payers really send them, made from tests/worlds/payments.write_835: a payer known only by TRN03 or
by N1*PR N104, a name we never typed, and SVC06 (the code we billed, when the payer paid another)."""

from __future__ import annotations

from demo.era_writer import TERMINATOR


def segments(text: str) -> list[str]:
    return [s for s in text.split(TERMINATOR) if s]


def joined(parts: list[str]) -> str:
    return TERMINATOR.join(parts) + TERMINATOR


def payer_known_by(text: str, *, trn03: str | None = None, n1_pr: str | None = None,
                   drop_ref_2u: bool = True) -> str:
    """The same file with TRN03 and the N1*PR segment replaced, and REF*2U left out (so the segment count in SE
    stays right, one PER-less segment replaces it)."""
    out = []
    for seg in segments(text):
        if trn03 is not None and seg.startswith("TRN*"):
            seg = "*".join([*seg.split("*")[:3], trn03])
        elif n1_pr is not None and seg.startswith("N1*PR*"):
            seg = n1_pr
        elif drop_ref_2u and seg.startswith("REF*2U*"):
            seg = "REF*EO*NOT-AN-ID-OF-OURS"  # keeps SE's count; an id no payer of ours has
        out.append(seg)
    return joined(out)


def with_svc06(text: str, paid_code: str, billed: str, *, nth: int = 1) -> str:
    """Add SVC06 `billed` ("HC:97153" or "HC:97153:HN") to the `nth` SVC whose SVC01 is HC:`paid_code`."""
    out, seen = [], 0
    for seg in segments(text):
        if seg.startswith(f"SVC*HC:{paid_code}*"):
            seen += 1
            if seen == nth:
                seg = f"{seg}*{billed}"
        out.append(seg)
    assert seen >= nth, f"no SVC number {nth} for {paid_code}"
    return joined(out)
