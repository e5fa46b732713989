"""The faster `NodeCounter.reset_to_node` in front of pyx12 forgets exactly the counts pyx12's own one forgets, on
every call a validation makes, and pyx12's findings on whole files are the same with either."""

from __future__ import annotations

import copy
import itertools
from decimal import Decimal

import pytest
import pyx12.nodeCounter
import pyx12.path

from billing.edi import pyx12 as runner
from billing.edi.segments import segment_texts
from billing.edi.x837p import write_837
from tests.billing.edi.scenario_facts import ENVELOPE, primary_claim
from tests.worlds.payments import Clp, Payment, Svc, write_835

D = Decimal


def _837(tag: str | None = None, instead: str = "") -> str:
    """An 837P of four claims; with `tag`, its last segment starting so is `instead` (deep in the last claim)."""
    text = write_837(ENVELOPE, [primary_claim(f"C-000{400 + n}") for n in range(4)]).text
    if tag is None:
        return text
    segments = segment_texts(text)
    segments[max(i for i, s in enumerate(segments) if s.startswith(tag))] = instead
    return "~".join(segments) + "~"


def _835() -> str:
    svc = Svc("97153", D("73.48"), D("50.00"), [("CO", "45", D("13.48")), ("PR", "2", D("10.00"))], D("60.00"))
    claims = [Clp(f"C-{n:06d}", "1", D("73.48"), D("50.00"), D("10.00"), f"ICN{n}", [svc, svc]) for n in range(5)]
    return write_835([Payment(D("245.00"), "CHK1", "PAYER", "12345", claims, plbs=[("L6", D("5"))])])


FILES = {
    "837P": _837(),
    "837P, a bad date": _837("DTP*472", "DTP*472*D8*20261399"),
    "837P, a loop started out of place": _837("SBR*", "LX*1"),
    "837P, an unknown segment": _837("DTP*472", "XYZ*1"),
    "835": _835(),
}


def test_the_faster_one_is_what_pyx12_calls():
    assert pyx12.nodeCounter.NodeCounter.reset_to_node is runner._reset_to_node


@pytest.mark.parametrize("name", list(FILES))
def test_every_reset_a_validation_makes_forgets_what_pyx12s_own_forgets(name, monkeypatch):
    calls: list[tuple[list[str], list[str]]] = []

    def both(self, xpath):
        theirs = copy.deepcopy(self)
        runner._pyx12_reset_to_node(theirs, xpath)
        runner._reset_to_node(self, xpath)
        kept, expected = list(self.getState().items()), list(theirs.getState().items())
        assert [(k.format(), v) for k, v in kept] == [(k.format(), v) for k, v in expected], xpath
        calls.append((kept, expected))

    monkeypatch.setattr(pyx12.nodeCounter.NodeCounter, "reset_to_node", both)
    runner.validate(FILES[name])
    assert len(calls) > 3  # the loops of the file were restarted, each reset compared


def test_below_is_is_child_path_for_every_pair_of_paths():
    detail = "/ISA_LOOP/GS_LOOP/ST_LOOP/DETAIL/2000A"
    paths = ["", "/", "/ISA_LOOP", "/ISA_LOOP/GS_LOOP", detail, f"{detail}/2000B/2300", f"{detail}/2000B/2300/CLM",
             f"{detail}/2000B/2300/2400/SV101-2", "/ISA_LOOP/GS_LOOP/ST_LOOP/HEADER/BHT", "2300/2400", "2300",
             "2300/REF[F8]02", "REF[F8]", "/2000A/2000AB", "/2000A/2000B", "/2000/2000"]
    for parent, child in itertools.product(paths, repeat=2):
        x12 = pyx12.path.X12Path(parent)
        expected = x12.is_child_path(pyx12.path.X12Path(child).format())
        assert runner._is_below(x12.format().split("/"), pyx12.path.X12Path(child).format()) is expected, (parent,
                                                                                                             child)


@pytest.mark.parametrize("name", list(FILES))
def test_pyx12s_findings_are_the_same_with_either(name, monkeypatch):
    ours = runner.validate(FILES[name])
    monkeypatch.setattr(pyx12.nodeCounter.NodeCounter, "reset_to_node", runner._pyx12_reset_to_node)
    theirs = runner.validate(FILES[name])
    assert ours == theirs
    if name != "837P" and name != "835":
        assert ours.findings  # the broken files do have findings to compare
