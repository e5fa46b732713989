"""Hypothesis: the X12 reader survives any delimiters, byte-order mark and whitespace, and never crashes on
arbitrary bytes."""

from __future__ import annotations

import contextlib
import string

from hypothesis import given
from hypothesis import strategies as st

from billing.edi.segments import Delimiters, join_segments, split_segments

SEPARATORS = "*|^~!:>+`{}#"
element_text = st.text(alphabet=string.ascii_uppercase + string.digits + " .-", min_size=0, max_size=12)


@st.composite
def interchange(draw):
    element, component, repetition, segment = draw(st.lists(
        st.sampled_from(SEPARATORS), min_size=4, max_size=4, unique=True))
    delims = Delimiters(element, component, repetition, segment)
    isa = ["ISA", "00", " " * 10, "00", " " * 10, "ZZ", "SENDER".ljust(15), "ZZ", "RECEIVER".ljust(15), "260401",
           "1200", repetition, "00501", "000000001", "0", "T", component]
    body = draw(st.lists(
        st.tuples(st.sampled_from(["CLP", "SVC", "CAS", "REF", "DTM", "NM1"]),
                  st.lists(element_text.map(str.strip), min_size=1, max_size=6)),
        max_size=10))
    segments = [isa, *[[sid, *elements] for sid, elements in body]]
    return delims, segments


@given(interchange(), st.sampled_from(["", "\ufeff"]), st.sampled_from(["", "\n", "\r\n"]),
       st.sampled_from(["", "  \n", "\n\n"]))
def test_segments_survive_any_delimiters_bom_and_whitespace(built, bom, newline, trailing):
    delims, segments = built
    text = join_segments(segments, delims).replace(delims.segment, delims.segment + newline)
    found, parsed = split_segments(bom + newline + text + trailing)
    assert found == delims
    assert parsed == segments


@given(st.binary(max_size=200))
def test_arbitrary_bytes_never_crash_the_reader(data):
    from billing.edi.segments import NotX12

    with contextlib.suppress(NotX12):
        split_segments(data.decode("latin-1"))
