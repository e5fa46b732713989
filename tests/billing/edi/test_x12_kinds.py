"""Each X12 kind is named when given to the wrong reader, and a file that is not X12 gets one clear sentence."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billing.edi.kinds import WrongX12Kind, X12Kind, kinds_in, require_kind
from billing.edi.segments import NotX12
from tests.worlds.payments import Clp, Payment, Svc, write_835

D = Decimal


def envelope(st01: str, guide: str, body: str = "") -> str:
    isa = "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *260401*1200*^*00501*000000001*0*T*:~"
    return f"{isa}GS*XX*S*R*20260401*1200*1*X*{guide}~ST*{st01}*0001~{body}SE*2*0001~GE*1*1~IEA*1*000000001~"


def an_835() -> str:
    svc = Svc("97153", D("100.00"), D("90.00"), [("CO", "45", D("10.00"))], None)
    return write_835(
        [Payment(D("90.00"), "CHK1", "ACME", "12345", [Clp("C-1", "1", D("100.00"), D("90.00"), services=[svc])])]
    )


@pytest.mark.parametrize(
    ("st01", "guide", "expected"),
    [
        ("999", "005010X231A1", "This file is a 999 (implementation acknowledgment), not an 835 remittance"),
        ("277", "005010X214", "This file is a 277CA (claim acknowledgment), not an 835 remittance"),
        ("277", "005010X212", "This file is a 277 (claim status response), not an 835 remittance"),
        ("837", "005010X222A1", "This file is an 837P (professional claim), not an 835 remittance"),
        ("837", "005010X223A2", "This file is an 837I (institutional claim), not an 835 remittance"),
        ("997", "004010", "This file is a 997 (functional acknowledgment), not an 835 remittance"),
        ("271", "005010X279A1", "This file is a 271 (eligibility response), not an 835 remittance"),
        ("123", "005010", "This file is a transaction set 123, not an 835 remittance"),
    ],
)
def test_another_kind_is_named_before_anything_validates_it(st01, guide, expected):
    with pytest.raises(WrongX12Kind) as refused:
        require_kind(envelope(st01, guide), "835", hints={"999": "acknowledgments go elsewhere"})
    assert refused.value.message.startswith(expected)
    assert "\n" not in refused.value.message
    assert refused.value.message.endswith("acknowledgments go elsewhere.") == (st01 == "999")


def test_an_835_passes_and_a_file_mixing_kinds_names_the_intruder():
    require_kind(an_835(), "835")
    mixed = an_835().replace("GE*1*1~", "ST*999*0002~AK1*HC*1~SE*3*0002~GE*2*1~")
    assert kinds_in(mixed) == [X12Kind("835"), X12Kind("999")]
    with pytest.raises(WrongX12Kind, match=r"^This file is a 999"):
        require_kind(mixed, "835")


def test_a_ta1_alone_is_named():
    isa = "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *260401*1200*^*00501*000000001*0*T*:~"
    text = f"{isa}TA1*000000001*260401*1200*R*022~IEA*0*000000001~"
    with pytest.raises(WrongX12Kind, match=r"^This file is a TA1 \(interchange acknowledgment\)"):
        require_kind(text, "835")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "The file is empty; an 835 remittance starts with an ISA segment."),
        (b"  \r\n\t", "The file is empty; an 835 remittance starts with an ISA segment."),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "This file is a PDF document, not an X12 file"),
        (b"PK\x03\x04\x14\x00", "This file is a ZIP archive"),
        (b"<?xml version='1.0'?><era/>", "This file is an XML or HTML document"),
        (bytes(range(256)), "This file is binary data"),
        (b"Dear provider, your payment is enclosed.", "This is not an X12 file: it does not start with an ISA segment"),
        (b"ISA", "This is not an X12 file: its ISA segment is cut short."),
        (b"ISA 00", "This is not an X12 file: the ISA has no element separator."),
        (b"ISA*00*short", "This is not an X12 file: its ISA segment is cut short."),
    ],
)
def test_a_file_that_is_not_x12_gets_one_clear_sentence(data, expected):
    with pytest.raises(NotX12) as refused:
        require_kind(data, "835")
    assert refused.value.message.startswith(expected)
    assert "\n" not in refused.value.message


@pytest.mark.samples
@pytest.mark.parametrize(("folder", "code"), [("999", "999"), ("277ca", "277CA"), ("837p", "837P"), ("835", "835")])
def test_the_public_samples_are_recognised(folder, code):
    from tests.paths import X12_SAMPLES

    for path in sorted((X12_SAMPLES / folder).iterdir()):
        assert kinds_in(path.read_text(encoding="ascii")) == [X12Kind(code)], path.name
