"""The shortcuts in front of pyx12 (billing.edi.pyx12) answer what pyx12's own functions answer, on every call a
validation makes: `NodeCounter.reset_to_node` forgets the same counts, `Segment._parse_refdes` reads each designator
the same way (or raises the same error), `segment_if.get_child_node_by_idx` finds the same map node and
`segment_if.is_valid_errors` gives the same findings from memory as validating again; and pyx12's findings on whole
files (ours, the public samples, 835s and 837Ps with errors) are the same with or without them."""

from __future__ import annotations

import copy
import itertools
import pickle
from decimal import Decimal

import pytest
import pyx12.errors
import pyx12.map_if
import pyx12.nodeCounter
import pyx12.params
import pyx12.path
import pyx12.segment

from billing.edi import pyx12 as runner
from billing.edi.segments import decode, segment_texts
from billing.edi.x837p import write_837
from tests.billing.edi.scenario_facts import ENVELOPE, primary_claim
from tests.paths import X12_SAMPLES
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


def _835_repeating(bad: str | None = None) -> str:
    """An 835 of 40 claims whose services repeat the same segments (as a payer's do); with `bad`, every claim's
    service date is that (a finding repeated on 80 lines)."""
    day = None if bad is None else bad
    text = write_835([Payment(D("1960.00"), "CHK1", "PAYER", "12345", [
        Clp(f"C-{n:06d}", "1", D("146.96"), D("100.00"), D("20.00"), f"ICN{n}", [
            Svc("97153", D("73.48"), D("50.00"), [("CO", "45", D("13.48")), ("PR", "2", D("10.00"))], D("60.00"),
                line_control=str(line)) for line in (1, 2)]) for n in range(40)])])
    return text if day is None else text.replace("DTM*472*", f"DTM*472*{day}X")


FILES = {
    "837P": _837(),
    "837P, a bad date": _837("DTP*472", "DTP*472*D8*20261399"),
    "837P, a loop started out of place": _837("SBR*", "LX*1"),
    "837P, an unknown segment": _837("DTP*472", "XYZ*1"),
    "835": _835(),
    "835, repeated segments": _835_repeating(),
    "835, the same bad date on every line": _835_repeating("2026"),
}
SAMPLE_NAMES = [f"{kind}/{name}" for kind in ("835", "837p") for name in (
    sorted(p.name for p in (X12_SAMPLES / kind).iterdir()) if (X12_SAMPLES / kind).is_dir() else ["(absent)"])]


def _sample(name: str) -> str:
    path = X12_SAMPLES / name
    if not path.is_file():
        pytest.fail(f"{path} is missing: the public X12 samples live in ../shared/x12-samples (CI always has them).")
    return decode(path.read_bytes())


def _without_shortcuts(monkeypatch: pytest.MonkeyPatch) -> None:
    for owner, name, theirs, _ours in runner.SHORTCUTS:
        monkeypatch.setattr(owner, name, theirs)


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
        below = pyx12.path.X12Path(child).format().startswith(runner._below_prefix(x12.format()))
        assert below is expected, (parent, child)


def test_below_is_is_child_path_for_every_pair_of_texts():
    """`is_child_path` on the texts themselves, including ones no `X12Path` formats to (empty parts, trailing "/")."""
    parts = ["", "A", "B", "AB", "A/B", "2300", "/"]
    texts = {"".join(p) for n in range(4) for p in itertools.product(parts, repeat=n)}
    for parent, child in itertools.product(texts, repeat=2):
        root = pyx12.path.X12Path("")  # its text replaced by `parent`, as `is_child_path` reads only `format()`
        root.format = lambda parent=parent: parent
        assert child.startswith(runner._below_prefix(parent)) is root.is_child_path(child), (parent, child)


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


def test_every_shortcut_is_what_pyx12_calls():
    for owner, name, theirs, ours in runner.SHORTCUTS:
        assert getattr(owner, name) is ours, name
        assert ours is not theirs, name


@pytest.mark.parametrize("name", list(FILES))
def test_pyx12s_findings_are_the_same_with_or_without_the_shortcuts(name, monkeypatch):
    ours = runner.validate(FILES[name])
    _without_shortcuts(monkeypatch)
    theirs = runner.validate(FILES[name])
    assert ours == theirs
    if name not in ("837P", "835", "835, repeated segments"):
        assert ours.findings  # the broken files do have findings to compare


@pytest.mark.samples
@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_the_samples_findings_are_the_same_with_or_without_the_shortcuts(name, monkeypatch):
    text = _sample(name)
    ours = runner.validate(text)
    _without_shortcuts(monkeypatch)
    assert ours == runner.validate(text)


@pytest.mark.samples
def test_the_samples_compared_include_files_with_findings():
    with_findings = [name for name in SAMPLE_NAMES if runner.validate(_sample(name)).findings]
    assert len([n for n in with_findings if n.startswith("835/")]) >= 3
    assert any(n.startswith("837p/") for n in with_findings)


def test_a_finding_repeated_on_every_line_is_reported_on_every_line():
    validation = runner.validate(FILES["835, the same bad date on every line"])
    dates = [f for f in validation.findings if f.segment == "DTM"]
    assert len({f.line for f in dates}) == 80


def _outcome_of(function, *args):
    try:
        return ("value", function(*args))
    except Exception as exc:  # the error is part of the answer: its type and its words
        return ("error", type(exc), str(exc))


def _same(ours, theirs) -> bool:
    """Two outcomes alike: the same map node (the very object), or the same error."""
    if ours[0] == "value" and theirs[0] == "value":
        return ours[1] is theirs[1]
    return ours == theirs


@pytest.mark.parametrize("name", list(FILES))
def test_every_child_lookup_a_validation_makes_finds_pyx12s_node(name, monkeypatch):
    asked: list[int] = []

    def both(self, idx):
        ours = _outcome_of(runner._child_by_idx, self, idx)
        assert _same(ours, _outcome_of(runner._pyx12_child_by_idx, self, idx)), (self.id, idx)
        asked.append(idx)
        if ours[0] == "error":
            raise ours[1](ours[2])
        return ours[1]

    monkeypatch.setattr(pyx12.map_if.segment_if, "get_child_node_by_idx", both)
    monkeypatch.setattr(pyx12.map_if.segment_if, "is_valid_errors", runner._pyx12_segment_errors)  # every lookup
    runner.validate(FILES[name])
    assert len(asked) > 50


def test_odd_positions_get_pyx12s_node_or_its_error():
    param = pyx12.params.params()
    cur_map = pyx12.map_if.load_map_file("835.5010.X221.A1.xml", param)
    segments = _segments_of(cur_map)
    assert len(segments) > 30
    for node in segments:
        for idx in [-2, -1, 0, 1, 2, len(node.children) - 1, len(node.children), len(node.children) + 3, 1.0]:
            for _ in range(2):  # the second from the table
                ours = _outcome_of(runner._child_by_idx, node, idx)
                assert _same(ours, _outcome_of(runner._pyx12_child_by_idx, node, idx)), (node.id, idx)


def test_a_changed_list_of_children_is_read_again():
    cur_map = pyx12.map_if.load_map_file("835.5010.X221.A1.xml", pyx12.params.params())
    node = next(n for n in _segments_of(cur_map) if len(n.children) > 3)
    assert runner._child_by_idx(node, 1) is node.children[1]
    node.children = [node.children[0], node.children[1]]  # a narrower segment (a copy of pyx12's own list)
    for idx in range(4):
        assert _same(_outcome_of(runner._child_by_idx, node, idx), _outcome_of(runner._pyx12_child_by_idx, node, idx))
    node.children.append(node.children[0])  # two children of seq 1 now: pyx12's own error
    for idx in range(4):
        assert _same(_outcome_of(runner._child_by_idx, node, idx), _outcome_of(runner._pyx12_child_by_idx, node, idx))


def _segments_of(cur_map):
    return [node for node in cur_map.loop_segment_iterator() if isinstance(node, pyx12.map_if.segment_if)]


def _findings_of(result):
    ok, errors = result
    return ok, [(e.err_cde, e.err_str, e.err_val, e.refdes, id(e.map_node)) for e in errors]


@pytest.mark.parametrize("name", list(FILES))
def test_every_segment_a_validation_checks_gets_pyx12s_findings_from_memory(name, monkeypatch):
    remembered = []

    def both(self, seg_data):
        seen = runner._segment_key(seg_data) in self.__dict__.get("_claimdesk_memo", {})
        ours = runner._segment_errors(self, seg_data)
        assert _findings_of(ours) == _findings_of(runner._pyx12_segment_errors(self, seg_data)), seg_data.format()
        remembered.append(seen)
        return ours

    monkeypatch.setattr(pyx12.map_if.segment_if, "is_valid_errors", both)
    runner.validate(FILES[name])
    if name.startswith("835, "):
        assert remembered.count(True) > len(remembered) / 2  # most of an 835's segments come from memory


def test_a_full_memory_still_gives_pyx12s_findings(monkeypatch):
    monkeypatch.setattr(runner, "SEGMENT_MEMO_SIZE", 2)
    ours = runner.validate(FILES["835, the same bad date on every line"])
    _without_shortcuts(monkeypatch)
    assert ours == runner.validate(FILES["835, the same bad date on every line"])


def test_segments_that_differ_only_in_a_trailing_empty_element_are_told_apart():
    cur_map = pyx12.map_if.load_map_file("835.5010.X221.A1.xml", pyx12.params.params())
    amt = next(n for n in _segments_of(cur_map) if n.id == "AMT")
    texts = ["AMT*B6*60", "AMT*B6*60*", "AMT*B6*60**", "AMT*B6:1*60", "AMT*B6*60:", "AMT*B6*6O", "AMT**60"]
    for text in texts * 2:  # the second round from memory
        segment = pyx12.segment.Segment(text, "~", "*", ":")
        expected = _findings_of(runner._pyx12_segment_errors(amt, segment))
        assert _findings_of(runner._segment_errors(amt, segment)) == expected, text
    assert len(amt._claimdesk_memo) == len(texts)


def test_the_map_nodes_path_is_the_one_made_once():
    assert pyx12.map_if.x12_node.x12path is runner._x12path


@pytest.mark.parametrize("name", list(FILES))
def test_every_map_path_a_validation_uses_is_pyx12s_path(name, monkeypatch):
    """Each node's path, as pyx12's own property makes it, and every formatting and hash of it, compared."""
    made, used = [], []

    def both(node):
        ours, theirs = runner._map_node_path(node), runner._pyx12_x12path.fget(node)
        assert (ours == theirs, theirs == ours, hash(ours), ours.format()) == (True, True, hash(theirs),
                                                                               theirs.format()), theirs.format()
        made.append(ours)
        return ours

    def text(path):
        expected = pyx12.path.X12Path.__repr__(path)  # pyx12's own formatting of the path as it is now
        assert path._text == expected
        used.append(path)
        return expected

    monkeypatch.setattr(pyx12.map_if.x12_node, "x12path", property(both))
    monkeypatch.setattr(runner._MapPath, "__repr__", text)
    monkeypatch.setattr(runner._MapPath, "format", text)
    monkeypatch.setattr(runner._MapPath, "__hash__", lambda path: hash(text(path)))
    runner.validate(FILES[name])
    assert len(made) > 100
    assert len(used) > 100


@pytest.mark.parametrize("map_file", ["835.5010.X221.A1.xml", "837.5010.X222.A1.xml"])
def test_every_node_path_of_the_maps_equals_and_hashes_as_pyx12s(map_file):
    cur_map = pyx12.map_if.load_map_file(map_file, pyx12.params.params())
    nodes = list(cur_map.loop_segment_iterator())
    assert len(nodes) > 50
    for node in nodes:
        ours, theirs = node.x12path, pyx12.path.X12Path(node.get_path())
        assert isinstance(ours, runner._MapPath)
        assert ours is node.x12path  # made once
        assert (ours == theirs, theirs == ours, ours != theirs) == (True, True, False)
        assert (hash(ours), ours.format(), repr(ours)) == (hash(theirs), theirs.format(), repr(theirs))
        assert {theirs: 1}.get(ours) == 1  # the same key of pyx12's counts, either way round
        assert {ours: 1}.get(theirs) == 1


def test_a_map_path_cannot_be_changed_and_copies_as_itself():
    path = runner._MapPath("/ISA_LOOP/GS_LOOP/ST_LOOP/DETAIL/2000/2100/CLP")
    changes = [lambda: setattr(path, "seg_id", "SVC"), lambda: path.loop_list.append("2110"),
               lambda: path.loop_list.__delitem__(0), lambda: path.loop_list.__setitem__(0, "X"),
               lambda: path.loop_list.pop(), lambda: path.loop_list.clear(), lambda: path.loop_list.extend(["X"])]
    for change in changes:
        with pytest.raises((TypeError, AttributeError)):
            change()
    assert path.format() == pyx12.path.X12Path.__repr__(path) == "/ISA_LOOP/GS_LOOP/ST_LOOP/DETAIL/2000/2100/CLP"
    for copied in (copy.copy(path), copy.deepcopy(path), pickle.loads(pickle.dumps(path))):  # noqa: S301 - our own bytes
        assert isinstance(copied, runner._MapPath)
        assert (copied == path, hash(copied), copied.format()) == (True, hash(path), path.format())
