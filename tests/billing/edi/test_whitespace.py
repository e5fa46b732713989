"""Line breaks and indentation between segments change nothing an X12 reader sees: not the segments, not pyx12's
verdict, not the 835 read from them. Spaces inside elements are data and stay."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing.edi.era import parse_835
from billing.edi.kinds import kinds_in
from billing.edi.pyx12 import validate
from billing.edi.segments import canonical, segment_texts, split_segments
from billing.edi.x837p_checks import house_checks
from tests.worlds.payments import Clp, Payment, Svc, write_835

D = Decimal
BETWEEN = st.text(alphabet=" \t\r\n", max_size=5)


def rich_835() -> str:
    """Two checks, claims with claim- and line-level CAS, remarks and a PLB: most of what the parser reads."""
    line = Svc(
        "97153",
        D("100.00"),
        D("70.00"),
        [("CO", "45", D("20.00")), ("PR", "2", D("10.00"))],
        D("80.00"),
        line_control="1",
        remarks=["N130", "M15"],
    )
    claims = [
        Clp("C-1", "1", D("100.00"), D("70.00"), D("10.00"), "PCN1", [line]),
        Clp("C-2", "4", D("100.00"), D("0.00"), D("0.00"), "PCN2", adjustments=[("CO", "16", D("100.00"))]),
    ]
    return write_835(
        [
            Payment(D("68.00"), "CHK1", "ACME HEALTH", "12345", claims, plbs=[("L6", D("2.00"))]),
            Payment(D("70.00"), "CHK2", "ACME HEALTH", "12345", claims[:1]),
        ]
    )


def with_terminator(text: str, terminator: str) -> str:
    delims, segments = split_segments(text)
    return "".join(delims.element.join(s) + terminator for s in segments)


def noisy(text: str, terminator: str, draw) -> str:
    """The file with its own terminator and random whitespace after each segment and around the interchange."""
    delims, segments = split_segments(text)
    parts = [draw(BETWEEN)]
    for segment in segments:
        parts.append(delims.element.join(segment) + terminator + draw(BETWEEN))
    return "".join(parts)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["~", "\n"]), st.data())
def test_whitespace_between_segments_never_changes_what_is_read(terminator, data):
    plain = with_terminator(rich_835(), terminator)
    text = noisy(plain, terminator, data.draw)
    assert split_segments(text) == split_segments(plain)
    assert canonical(text) == canonical(plain)  # so pyx12 is given the very same text
    assert parse_835(text).transactions == parse_835(plain).transactions
    assert kinds_in(text) == kinds_in(plain)


@pytest.mark.parametrize(
    "layout",
    [
        lambda t: t.replace("~", "~\n    "),  # indented
        lambda t: t.replace("~", "~\r\n\t"),  # CRLF and tabs
        lambda t: "\n\n  " + t.replace("~", "~\r\n") + "\r\n\r\n",
        lambda t: with_terminator(t, "\n"),  # the newline is the terminator
        lambda t: with_terminator(t, "\r\n").replace("\n", "\n  "),  # CR terminator, LF and spaces after it
    ],
)
def test_pyx12_sees_an_indented_or_line_broken_835_as_the_plain_one(layout):
    plain = rich_835()
    assert validate(plain).findings == ()
    assert validate(layout(plain)).findings == ()


def test_spaces_inside_elements_are_data_and_stay():
    text = rich_835().replace("N1*PR*ACME HEALTH~", "N1*PR*ACME HEALTH  ~\n   ")
    _, segments = split_segments(text)
    assert ["N1", "PR", "ACME HEALTH  "] in segments


def test_the_837_checks_read_an_indented_file_like_the_plain_one():
    isa = "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *260401*1200*^*00501*000000001*0*T*:~"
    plain = isa + "CLM*C-1*100***11:B:1*Y*A*Y*Y~LX*1~SV1*HC:97153*60*UN*4***1~LX*2~SV1*HC:97153*30*UN*2***1~SE*1*1~"
    indented = plain.replace("~", "~\r\n\t  ")
    assert segment_texts(indented) == segment_texts(plain)
    found = [str(e) for e in house_checks(segment_texts(indented))]
    assert found == [str(e) for e in house_checks(segment_texts(plain))]
    assert "CLM02 100 is not the sum" in found[0]


@pytest.mark.parametrize(
    "layout", [lambda t: t, lambda t: t.replace("~", "~\r\n\t"), lambda t: with_terminator(t, "\n")]
)
def test_collect_responses_reads_the_type_of_an_indented_file(layout):
    """The clearinghouse reader (billing.submissions.responses) splits with the same reader: a tab after a line
    break no longer hides ST, so a collected 835 is still found and imported by the job."""
    from billing.submissions.responses import transaction_type

    assert transaction_type(layout(rich_835())) == "835"
    ack = (
        "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *260401*1200*^*00501*000000001*0*T*:~"
        "GS*FA*S*R*20260401*1200*1*X*005010X231A1~ST*999*0001*005010X231A1~AK1*HC*1~AK9*A*1*1*1~SE*4*0001~"
        "GE*1*1~IEA*1*000000001~"
    )
    assert transaction_type(layout(ack)) == "999"
