"""Nothing in an 835 is dropped: more elements, components or characters than the TR3 allows refuse the file, with
the segment, the position and what is wrong; amounts and quantities are read exactly or refused."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.edi import pyx12 as pyx12_runner
from billing.edi.bounds import COMPONENTS_835, ELEMENTS_835
from billing.edi.era import EraUnreadable, parse_835, read_835
from tests.worlds.payments import Clp, Payment, Svc, write_835

D = Decimal
#: CARCs a payer could send on one line; any distinct codes will do.
REASONS = [
    "45",
    "253",
    "94",
    "97",
    "59",
    "B7",
    "16",
    "18",
    "23",
    "24",
    "50",
    "96",
    "119",
    "129",
    "131",
    "142",
    "151",
    "167",
    "170",
    "185",
    "197",
    "204",
    "222",
    "242",
    "A1",
]


def era(*, cas: str = "CAS*CO*45*10", svc: str = "SVC*HC:97153*100*90**4", extra: str = "") -> str:
    """A one-claim 835 from tests.worlds.payments whose line CAS and SVC are replaced as given."""
    service = Svc("97153", D("100.00"), D("90.00"), [("CO", "45", D("10.00"))], None)
    claim = Clp("C-1", "1", D("100.00"), D("90.00"), services=[service])
    payment = Payment(D("90.00"), "CHK1", "ACME", "12345", [claim])
    text = write_835([payment]).replace("CAS*CO*45*10~", cas + "~").replace("SVC*HC:97153*100*90**4~", svc + "~")
    return text.replace("SE*", extra + "SE*") if extra else text


def refusal(text: str) -> list[str]:
    with pytest.raises(EraUnreadable) as refused:
        read_835(text)
    return refused.value.problems


def test_the_tables_agree_with_pyx12s_835_map():
    """ELEMENTS_835 and COMPONENTS_835 say what the map pyx12 validates with says."""
    import xml.etree.ElementTree as ET
    from importlib.resources import files

    tree = ET.parse(str(files("pyx12") / "map" / "835.5010.X221.A1.xml"))  # noqa: S314
    for segment in tree.iter("segment"):
        children = [e for e in segment if e.tag in ("element", "composite")]
        assert ELEMENTS_835[segment.get("xid")] == len(children), segment.get("xid")
        for position, child in enumerate(children, start=1):
            if child.tag == "composite" and child.findtext("usage") != "N":
                parts = len([c for c in child if c.tag == "element"])
                assert COMPONENTS_835[(segment.get("xid"), position)] == parts


def test_a_cas_with_six_adjustments_is_read_whole():
    cas = "CAS*CO" + "".join(f"*{r}*1" + "*" for r in REASONS[:6]).rstrip("*")
    adjustments = parse_835(era(cas=cas)).transactions[0].claims[0].services[0].adjustments
    assert [(a.group, a.reason, a.amount) for a in adjustments] == [("CO", r, D("1.00")) for r in REASONS[:6]]


def test_a_cas_with_nineteen_adjustments_is_refused_and_says_why():
    cas = "CAS*CO" + "".join(f"*{r}*1*" for r in REASONS[:19]).rstrip("*")
    [problem] = refusal(era(cas=cas))
    assert problem.startswith("segment 18 (CAS): 19 adjustments in one CAS")
    assert "the TR3 allows 6" in problem


def test_empty_elements_past_the_end_carry_nothing_and_are_tolerated():
    text = era(cas="CAS*CO*45*10" + "*" * 20)
    assert parse_835(text).transactions[0].claims[0].services[0].adjustments[0].amount == D("10.00")


@pytest.mark.parametrize(
    ("svc", "expected"),
    [
        ("SVC*HC:97153*100*90**4*HC:97153*4*EXTRA", "segment 16 (SVC): data up to SVC08, but the TR3 defines 7"),
        ("SVC*HC:97153:GP:59:KX:95:DESC:ID:NINTH*100*90**4", "segment 16 (SVC): SVC01 has data in component 9"),
        ("SVC*HC:97153:GPX*100*90**4", "segment 16 (SVC): SVC01-3 is 3 characters long, the TR3 allows 2"),
        ("SVC*HC:97153*100*90**4*HC:97153:A:B:C:D:E:F:G", "segment 16 (SVC): SVC06 has data in component 9"),
    ],
)
def test_a_service_line_carrying_more_than_the_tr3_is_refused(svc, expected):
    [problem] = refusal(era(svc=svc))
    assert problem.startswith(expected)


def test_a_plb_with_seven_adjustments_is_refused():
    plb = "PLB*1234567893*20261231" + "*L6:A*-1" * 7 + "~"
    [problem] = refusal(era(extra=plb))
    assert "7 adjustments in one PLB" in problem


def test_a_plb_reference_with_a_third_component_is_refused():
    [problem] = refusal(era(extra="PLB*1234567893*20261231*WO:REF:MORE*5~"))
    assert "PLB03 has data in component 3" in problem


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("TRN*1*CHK1*", "TRN*1*" + "9" * 51 + "*", "TRN02 is 51 characters long, the TR3 allows 50"),
        ("CLP*C-1*", "CLP*" + "C" * 39 + "*", "CLP01 is 39 characters long, the TR3 allows 38"),
        ("CLP*C-1*1*100*90*0*12*PCN1", "CLP*C-1*1*100*90*0*12*PCN1*****X", "data up to CLP13, but the TR3 defines 14"),
    ],
)
def test_a_value_longer_than_the_tr3_allows_is_refused_not_cut(old, new, expected):
    text = era().replace(old, new)
    if "CLP13" in expected:  # CLP has 14 elements: CLP13 is inside the bound, so this one reads
        parse_835(text)
        return
    [problem] = refusal(text)
    assert expected in problem


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ("BPR*I*90*", "BPR*I*1e10*", "BPR02"),
        ("CLP*C-1*1*100*90", "CLP*C-1*1*100*90.005", "CLP04"),
        ("CLP*C-1*1*100*90", "CLP*C-1*1*100*\uff19\uff10", "CLP04"),
        ("CLP*C-1*1*100*90", "CLP*C-1*1*100*99999999999.99", "CLP04"),
        ("CAS*CO*45*10", "CAS*CO*45*10*\u00b2", "CAS04"),
        ("SVC*HC:97153*100*90**4", "SVC*HC:97153*100*90**4,5", "SVC05"),
        ("CAS*CO*45*10", "CAS*CO*45*NaN", "CAS03"),
    ],
)
def test_an_amount_or_quantity_is_read_exactly_or_refused(old, new, where):
    with pytest.raises(EraUnreadable, match=where):
        parse_835(era().replace(old, new))


def test_an_amount_without_its_reason_is_refused_not_skipped():
    with pytest.raises(EraUnreadable, match="CAS06-07 carry an amount"):
        parse_835(era(cas="CAS*CO*45*10***5"))
    with pytest.raises(EraUnreadable, match="PLB06 carries an amount without a reason"):
        parse_835(era(extra="PLB*1234567893*20261231*L6:A*-1**3~"))


def test_pyx12_crashing_on_too_many_components_is_a_refusal_not_an_exception():
    text = era(svc="SVC*HC:97153:GP:59:KX:95:DESC:ID:NINTH:TENTH*100*90**4")
    validation = pyx12_runner.validate(text)
    assert validation.refused
    assert "pyx12 could not read the file" in str(validation.errors[0])


@given(st.integers(min_value=1, max_value=25), st.data())
def test_a_cas_keeps_up_to_six_adjustments_and_refuses_more(count, data):
    """Any number of triplets in one CAS: six or fewer are all read, exactly; more refuse the file and say so."""
    amounts = data.draw(st.lists(st.integers(min_value=1, max_value=999), min_size=count, max_size=count))
    quantities = data.draw(st.lists(st.one_of(st.none(), st.integers(1, 9)), min_size=count, max_size=count))
    triplets = [(REASONS[k], D(a) / 100, q) for k, (a, q) in enumerate(zip(amounts, quantities, strict=True))]
    cas = "CAS*CO" + "".join(f"*{r}*{a}*{'' if q is None else q}" for r, a, q in triplets)
    if count > 6:
        [problem] = refusal(era(cas=cas))
        assert f"{count} adjustments in one CAS" in problem
        return
    adjustments = parse_835(era(cas=cas)).transactions[0].claims[0].services[0].adjustments
    assert [(a.group, a.reason, a.amount, a.quantity) for a in adjustments] == [
        ("CO", r, a, None if q is None else D(q)) for r, a, q in triplets
    ]


@pytest.mark.parametrize("trn", ["TRN*1**1000012345~", ""])
def test_a_payment_without_its_check_number_is_refused(trn):
    """Payer + TRN02 is the check's identity (rule 8): without TRN02 a re-sent check could not be recognised."""
    text = era().replace("TRN*1*CHK1*1000012345~", trn)
    with pytest.raises(EraUnreadable, match=r"transaction 0001: no check or EFT number \(TRN02\)"):
        parse_835(text)
