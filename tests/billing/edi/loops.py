"""Split an 837P into its loops, so a generated file can be compared with a TR3 sample loop by loop.

The TR3 samples are the public X12 samples beside the checkout (tests/paths.py); a test that reads one is
marked `samples`, so it skips where the folder is absent.

A segment's key is its tag plus the qualifier that tells same-tag segments apart (NM1*85, REF*G1,
DTP*472). The comparison is of shape (which segments each loop carries, in which order), since
the samples' names, amounts and ids are someone else's.
"""

from __future__ import annotations

import pytest

from billing.edi.segments import segment_texts
from billing.edi.writing import ELEMENT
from tests.paths import X12_SAMPLES

QUALIFIED = {"NM1", "REF", "DTP", "AMT", "PER", "PRV", "HL"}
HL_LOOPS = {"20": "2000A", "22": "2000B", "23": "2000C"}
NM1_LOOPS = {
    ("2000A", "85"): "2010AA", ("2010AA", "87"): "2010AB", ("2000B", "IL"): "2010BA", ("2010BA", "PR"): "2010BB",
    ("2000C", "QC"): "2010CA", ("2300", "82"): "2310B", ("2310B", "77"): "2310C", ("2300", "77"): "2310C",
    ("2320", "IL"): "2330A", ("2330A", "PR"): "2330B", ("HEADER", "41"): "1000A", ("1000A", "40"): "1000B",
}  # fmt: skip
AFTER_2300 = {"2300", "2310B", "2310C"}


def key(segment: str) -> str:
    elements = segment.split(ELEMENT)
    tag = elements[0]
    if tag == "HL":
        return f"HL*{elements[3]}"
    if tag in QUALIFIED and len(elements) > 1:
        return f"{tag}*{elements[1]}"
    return tag


def loops(text: str) -> dict[str, list[str]]:
    """Loop id -> segment keys of its first occurrence (envelope segments left out)."""
    found: dict[str, list[str]] = {}
    current, closed = "HEADER", set()
    for segment in segment_texts(text):
        tag = segment.split(ELEMENT)[0]
        if tag in ("ISA", "GS", "ST", "SE", "GE", "IEA"):
            continue
        loop = _loop_of(segment, tag, current)
        if loop != current or tag == "LX":
            closed.add(current)
            current = loop
        if loop not in closed:
            found.setdefault(loop, []).append(key(segment))
    return found


def _loop_of(segment: str, tag: str, current: str) -> str:
    elements = segment.split(ELEMENT)
    if tag == "HL":
        return HL_LOOPS[elements[3]]
    if tag == "CLM":
        return "2300"
    if tag == "LX":
        return "2400"
    if tag == "SVD":
        return "2430"
    if tag == "SBR" and current in AFTER_2300 | {"2330B", "2320"}:
        return "2320"
    if tag == "NM1":
        return NM1_LOOPS.get((current, elements[1]), NM1_LOOPS.get(("2300", elements[1]), current))
    return current


def same_order(ours: list[str], theirs: list[str]) -> bool:
    """The segments both loops carry appear in the same order in each."""
    common = [k for k in dict.fromkeys(ours) if k in theirs]
    return common == [k for k in dict.fromkeys(theirs) if k in common]


def sample(name: str) -> str:
    """A TR3 837P sample's text (the test reading it must be marked `samples`)."""
    path = X12_SAMPLES / "837p" / name
    if not path.exists():
        pytest.fail(f"{path} is missing: the public X12 samples live in ../shared/x12-samples (CI always has them).")
    return path.read_text()


def assert_loops_match(ours: str, theirs: str, compared: dict[str, tuple[set[str], set[str]]]) -> None:
    """For each loop: same order, and only the listed segments missing (theirs-only) or added (ours-only)."""
    mine, model = loops(ours), loops(theirs)
    for loop, (absent, extra) in compared.items():
        assert loop in mine, f"loop {loop} missing: {sorted(mine)}"
        assert same_order(mine[loop], model[loop]), (loop, mine[loop], model[loop])
        assert set(model[loop]) - set(mine[loop]) == absent, (loop, mine[loop], model[loop])
        assert set(mine[loop]) - set(model[loop]) == extra, (loop, mine[loop], model[loop])


NOTHING: tuple[set[str], set[str]] = (set(), set())
