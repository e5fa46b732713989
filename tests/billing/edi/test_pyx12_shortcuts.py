"""The shortcuts in front of pyx12 (billing.edi.pyx12) answer what pyx12's own functions answer, on every call a
validation makes: `NodeCounter.reset_to_node` forgets the same counts, `Segment._parse_refdes` reads each designator
the same way (or raises the same error); and pyx12's findings on whole files are the same with or without them."""

from __future__ import annotations

import copy
import itertools
from decimal import Decimal

import pytest
import pyx12.errors
import pyx12.nodeCounter
import pyx12.path
import pyx12.segment

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


def test_the_faster_designator_reading_is_what_pyx12_calls():
    assert pyx12.segment.Segment._parse_refdes is runner._parse_refdes


def _outcome(function, segment, ref_des):
    try:
        return function(segment, ref_des)
    except Exception as exc:  # the error is part of the answer: its type and its words
        return type(exc), str(exc)


@pytest.mark.parametrize("name", list(FILES))
def test_every_designator_a_validation_reads_is_read_as_pyx12_reads_it(name, monkeypatch):
    asked: list[tuple[pyx12.segment.Segment, str]] = []

    def both(self, ref_des):
        asked.append((self, ref_des))
        ours = _outcome(runner._parse_refdes, self, ref_des)
        assert ours == _outcome(runner._pyx12_parse_refdes, self, ref_des), ref_des
        if isinstance(ours, tuple) and len(ours) == 2 and isinstance(ours[0], type):
            raise ours[0](ours[1])
        return ours

    monkeypatch.setattr(pyx12.segment.Segment, "_parse_refdes", both)
    runner.validate(FILES[name])
    assert len({ref for _segment, ref in asked}) > 20


def test_odd_designators_get_pyx12s_answer_or_its_error():
    segments = [pyx12.segment.Segment(text, "~", "*", ":") for text in ("CLM*C-1*10.00***11:B:1", "TST*A*B:C", "N4")]
    designators = ["CLM01", "CLM05-3", "TST03-2", "05-1", "02", "TST", "XX01", "CLM05-", "1A", "", "REF[F8]02",
                   "CLM99", "tst02", "TST02-0", "/2300/CLM01", "00"]  # fmt: skip
    for segment, ref_des in itertools.product(segments, designators):
        expected = _outcome(runner._pyx12_parse_refdes, segment, ref_des)
        assert _outcome(runner._parse_refdes, segment, ref_des) == expected, (segment.seg_id, ref_des)
        assert _outcome(runner._parse_refdes, segment, ref_des) == expected  # again, from the cache
    assert _outcome(runner._parse_refdes, segments[0], "XX01")[0] is pyx12.errors.EngineError


@pytest.mark.parametrize("name", list(FILES))
def test_pyx12s_findings_are_the_same_with_or_without_the_shortcuts(name, monkeypatch):
    ours = runner.validate(FILES[name])
    monkeypatch.setattr(pyx12.nodeCounter.NodeCounter, "reset_to_node", runner._pyx12_reset_to_node)
    monkeypatch.setattr(pyx12.segment.Segment, "_parse_refdes", runner._pyx12_parse_refdes)
    monkeypatch.setattr(pyx12.validation, "contains_control_character", runner._pyx12_contains_control_character)
    theirs = runner.validate(FILES[name])
    assert ours == theirs
    if name not in ("837P", "835"):
        assert ours.findings  # the broken files do have findings to compare
