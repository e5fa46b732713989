"""Hypothesis: the X12 reader survives any delimiters, byte-order mark and whitespace, and never crashes on
arbitrary bytes; `SegmentText` made canonical a block at a time is the text made canonical at once."""

from __future__ import annotations

import contextlib
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.edi import segments as segments_module
from billing.edi.segments import Delimiters, SegmentTable, SegmentText, join_segments, split_segments

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


@pytest.mark.parametrize("block", [1, 2, 5, 17, 1 << 20])
@given(interchange(), st.sampled_from(["", "\n", "\r\n", " \t\n", "\r"]),
       st.sampled_from(["", "  \n", "\n\n"]), st.data())
def test_a_text_made_canonical_in_blocks_is_the_text_made_canonical_at_once(block, built, newline, trailing, data):
    delims, segments = built
    text = join_segments(segments, delims).replace(delims.segment, delims.segment + newline) + trailing
    text = text.replace(delims.segment, data.draw(st.sampled_from([delims.segment, delims.segment * 2])), 1)
    at_once = "".join(raw + delims.segment for raw in segments_module._raw_segments(text, delims))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(segments_module, "BLOCK", block)
        assert SegmentText(text, delims).text == at_once


@pytest.mark.parametrize("block", [1, 3, 1 << 20])
@given(interchange(), st.sampled_from(["", "\n", "\r\n"]), st.sampled_from([frozenset(), frozenset({"ISA", "CLP"})]))
def test_a_segment_table_reads_each_segment_as_splitting_the_text_does(block, built, newline, in_full):
    delims, segments = built
    text = join_segments(segments, delims).replace(delims.segment, delims.segment + newline)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(segments_module, "BLOCK", block)
        table = SegmentTable(text, delims, in_full)
    _, expected = split_segments(text)
    assert len(table) == len(expected)
    assert table.ids == [seg[0].upper() for seg in expected]
    for index, seg in enumerate(expected):
        tag, rest = seg[0], delims.element.join(seg[1:])
        assert table[index] == (seg if tag.upper() in in_full else [tag, rest] if len(seg) > 1 else [tag])
        assert table.raw(index) == join_segments([seg], delims) == join_segments([table[index]], delims)
    assert table[-1] == table[len(table) - 1]
    assert "".join(table.raw(i) for i in range(len(table))) == table.text
    if not newline:
        assert table.text is text  # already canonical: not copied
