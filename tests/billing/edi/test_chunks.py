"""A large 835 is validated in pieces side by side; the verdict must be the one pyx12 gives the whole file."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billing.edi.chunks import split
from billing.edi.pyx12 import validate
from billing.edi.segments import decode, split_segments
from tests.worlds.payments import Clp, Payment, Svc, write_835
from tests.worlds.x12_pieces import findings, in_pieces

D = Decimal


def era(claims: int = 12, *, payments: int = 2) -> str:
    def clp(n: int) -> Clp:
        svc = Svc("97153", D("73.48"), D("50.00"), [("CO", "45", D("13.48")), ("PR", "2", D("10.00"))], D("60.00"))
        return Clp(f"C-{n:06d}", "1", D("73.48"), D("50.00"), D("10.00"), f"ICN{n}", [svc, svc])
    checks = [Payment(D("50.00") * claims - D("5"), f"CHK{p}", "PAYER", "12345", [clp(n) for n in range(claims)],
                      plbs=[("L6", D("5"))]) for p in range(payments)]
    return write_835(checks)


@pytest.mark.samples
@pytest.mark.parametrize("parts", [2, 3, 5])
def test_the_samples_get_the_same_findings_in_pieces(samples_835, parts):
    cut = 0
    for path in sorted(samples_835.iterdir()):
        text = decode(path.read_bytes())
        merged = in_pieces(text, parts)
        if merged is None:
            continue  # not cut: validated whole, as before
        cut += 1
        whole = validate(text)
        assert merged.refused is whole.refused, path.name
        assert findings(merged) == findings(whole), path.name
    assert cut >= 1


@pytest.mark.parametrize("parts", [2, 3, 7])
def test_a_generated_remittance_with_two_checks_is_clean_in_pieces(parts):
    text = era()
    merged = in_pieces(text, parts)
    assert merged is not None
    assert findings(merged) == findings(validate(text)) == []


def test_a_broken_claim_in_the_middle_is_found_at_its_own_line():
    lines = era().split("~\n")
    middle = next(i for i, seg in enumerate(lines) if seg.startswith("CLP*C-000006"))
    lines.insert(middle + 1, "XYZ*1")  # a segment the 835 map does not know
    text = "~\n".join(lines)
    whole, merged = validate(text), in_pieces(text, 3)
    assert merged is not None
    assert whole.refused
    assert merged.refused
    assert findings(merged) == findings(whole)
    assert middle + 2 in {f.line for f in merged.errors}  # the unknown segment, at its line in the file


@pytest.mark.parametrize(("segment", "wrong"), [
    ("SE*", lambda s: "SE*999*" + s.split("*")[2]),
    ("SE*", lambda s: "*".join(s.split("*")[:2]) + "*0009"),
    ("GE*", lambda s: "GE*7*" + s.split("*")[2]),
    ("GE*", lambda s: "GE*" + s.split("*")[1] + "*9"),
    ("IEA*", lambda s: "IEA*3*" + s.split("*")[2]),
    ("IEA*", lambda s: "IEA*1*000000999"),
])
def test_envelope_counts_the_pieces_rewrite_are_checked_on_the_whole_file(segment, wrong):
    lines = era().split("~\n")
    index = next(i for i, seg in enumerate(lines) if seg.startswith(segment))
    lines[index] = wrong(lines[index])
    text = "~\n".join(lines)
    merged, whole = in_pieces(text, 3), validate(text)
    assert merged is not None
    assert whole.refused
    assert merged.refused
    assert findings(merged) == findings(whole)  # same line, code and words as pyx12's


@pytest.mark.samples
def test_files_of_another_shape_are_not_cut(samples_835):
    reversals = decode((samples_835 / "tc_parse_835.rb__MESSAGE1_reversals.x12").read_bytes())
    assert in_pieces(reversals, 2) is None  # its claims sit outside any LX: pyx12 must see them in place
    assert in_pieces(era(claims=1, payments=1), 2) is None  # fewer claims than pieces


@pytest.mark.parametrize("broken", ["", "SE*5*0001", "GE*9*1", "IEA*1*000000009"])
def test_the_workers_pieces_are_those_of_the_fully_split_file(broken):
    """`_pieces` splits only the envelope segments in full (memory): the pieces, their segment numbers and the
    envelope problems must be exactly those `split` makes from the file split in full."""
    from billing.edi import pyx12

    text = era(claims=9)
    if broken:
        tag = broken.split("*")[0] + "*"
        start = text.index(tag)
        text = text[:start] + broken + text[text.index("~", start):]
    delims, pieces, envelope = pyx12._pieces(text)
    expected_delims, segments = split_segments(text)
    expected_pieces, expected_envelope = split(segments, pyx12.VALIDATION_WORKERS)
    assert delims == expected_delims
    assert envelope == expected_envelope
    assert [(p.text(delims), p.origin) for p in pieces] == [(p.text(delims), p.origin) for p in expected_pieces]
