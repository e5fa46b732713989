"""The one pyx12 runner: validate X12 text, flatten pyx12's findings, and run it in worker processes for big files.

Structural findings (the loops could not be followed) refuse a file; the rest are warnings. pyx12 is called
through `x12n_document` with an in-memory file and its JSON error output: its command-line exit code says nothing
useful, and a str argument would be opened as a path.
"""

from __future__ import annotations

import functools
import io
import json
import logging
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pyx12.errors
import pyx12.map_if
import pyx12.nodeCounter
import pyx12.params
import pyx12.path
import pyx12.segment
import pyx12.validation
import pyx12.x12n_document

from billing.core.errors import Failed
from billing.edi.chunks import EnvelopeProblem, Piece, split, split_transactions
from billing.edi.segments import Delimiters, NotX12, SegmentTable, canonical, decode, delimiters

# pyx12 logs every finding at ERROR level as well as reporting it; we report it once, ourselves.
logging.getLogger("pyx12").setLevel(logging.CRITICAL)

#: Exactly the characters pyx12 4.0.0's `validation.contains_control_character` looks for (its two tables, BEL
#: HT LF VT FF CR FS GS RS US and SOH..ACK DC1..ETB): all below 0x20.
_PYX12_CONTROL = re.compile("[\x01-\x07\x09-\x0d\x11-\x17\x1c-\x1f]")
_pyx12_contains_control_character = pyx12.validation.contains_control_character


def _contains_control_character(str_val: str, charset: str = "B", icvn: str = "00401") -> tuple[bool, str | None]:
    """pyx12's check, answered at once for the usual element with none of its characters.

    pyx12 4.0.0 rebuilds its two tables of 23 characters and scans the value for each of them, for every element
    it validates: a tenth of its time on an 835. An element holding one of them still goes to pyx12's own
    function, so the finding and its wording are pyx12's (tests/billing/edi/test_pyx12_control_chars.py)."""
    if _PYX12_CONTROL.search(str_val) is None:
        return (False, None)
    return _pyx12_contains_control_character(str_val, charset, icvn)


# pyx12.map_if._element calls it through the module (`validation.contains_control_character(...)`).
pyx12.validation.contains_control_character = _contains_control_character

_pyx12_reset_to_node = pyx12.nodeCounter.NodeCounter.reset_to_node


def _reset_to_node(self: pyx12.nodeCounter.NodeCounter, xpath: str | pyx12.path.X12Path) -> None:
    """pyx12 4.0.0's `NodeCounter.reset_to_node`, with the parent's path formatted once instead of once per count.

    pyx12 forgets the counts below a loop each time the loop starts again (every 2000B, 2300, 2400 of an 837P),
    asking `parent.is_child_path(key.format())` of every count kept, and that formats the parent's path anew each
    time: about 5% of its CPU on an 837P. The test is the same, a key below the parent when its path has more parts
    and starts with the parent's, asked as one prefix test of the key's text (`_below_prefix`; the map's paths keep
    their text, see `_MapPath`). tests/billing/edi/test_pyx12_shortcuts.py compares the two."""
    parent = pyx12.nodeCounter.NodeCounter.makeX12Path(xpath)
    prefix = _below_prefix(parent.format())
    counts = self.getState()
    for key in [key for key in counts if key.format().startswith(prefix)]:
        del counts[key]


def _below_prefix(root_path: str) -> str:
    """What the text of every path below `root_path` starts with, and no other's does.

    `is_child_path` splits both paths at "/" and asks for more parts, the first ones the root's: that is the child's
    text being the root's, a "/", then anything (split at that "/", it gives the root's parts and then the rest's)."""
    return root_path + "/"


pyx12.nodeCounter.NodeCounter.reset_to_node = _reset_to_node  # type: ignore[method-assign]

_pyx12_parse_refdes = pyx12.segment.Segment._parse_refdes


@functools.lru_cache(maxsize=4096)
def _designator(ref_des: str) -> tuple[str | None, int | None, int | None]:
    """A reference designator ("CLM05-3", "02") read as pyx12 reads it: its segment id, element and component."""
    path = pyx12.path.X12Path(ref_des)
    return path.seg_id, path.ele_idx, path.subele_idx


def _parse_refdes(self: pyx12.segment.Segment, ref_des: str) -> tuple[int | None, int | None]:
    """pyx12 4.0.0's `Segment._parse_refdes`, each distinct designator parsed once instead of at every call.

    pyx12 asks a segment for its elements by designator, building an `X12Path` (a regular expression match) each
    time: about a tenth of its CPU on an 837P, for the few hundred designators its maps name. A designator naming
    another segment still goes to pyx12's own function, so the error and its wording are pyx12's; one it cannot
    parse raises from `X12Path` here as there (an exception is not cached). tests/billing/edi/test_pyx12_shortcuts.py
    compares the two."""
    seg_id, element, component = _designator(ref_des)
    if seg_id is not None and seg_id != self.seg_id:
        return _pyx12_parse_refdes(self, ref_des)
    return (element - 1 if element is not None else None, component - 1 if component is not None else None)


pyx12.segment.Segment._parse_refdes = _parse_refdes  # type: ignore[method-assign]

_pyx12_child_by_idx = pyx12.map_if.segment_if.get_child_node_by_idx


def _child_by_idx(self: pyx12.map_if.segment_if, idx: int) -> Any:
    """pyx12 4.0.0's `segment_if.get_child_node_by_idx`, from a table of the segment's children built once.

    pyx12 looks for the child whose `seq` is idx + 1 by scanning all the segment's children, for every element
    of every segment it validates: quadratic in the segment's width (a CAS has 19 elements). The table is built
    from the same scan, and rebuilt if the children list is ever replaced or grows. A position with no child, or
    with two, still goes to pyx12's own function, so its error and wording are pyx12's
    (tests/billing/edi/test_pyx12_shortcuts.py compares the two on every call of real validations)."""
    children = self.children
    table = self.__dict__.get("_claimdesk_by_idx")
    if table is None or table[0] is not children or len(table[1]) != len(children):
        table = (children, [_only_child(children, seq) for seq in range(1, len(children) + 1)])
        self._claimdesk_by_idx = table
    if type(idx) is int and 0 <= idx < len(table[1]) and table[1][idx] is not None:
        return table[1][idx]
    return _pyx12_child_by_idx(self, idx)


def _only_child(children: list[Any], seq: int) -> Any:
    matches = [child for child in children if child.seq == seq]
    return matches[0] if len(matches) == 1 else None


pyx12.map_if.segment_if.get_child_node_by_idx = _child_by_idx  # type: ignore[method-assign]

_pyx12_segment_errors = pyx12.map_if.segment_if.is_valid_errors

#: Distinct segment texts remembered per map segment: enough for an 835's repeated CAS, SVC, DTM, AMT and the
#: like, while a segment that differs every time (CLP, its claim number) stops being remembered when it is full.
SEGMENT_MEMO_SIZE = 1024


def _segment_key(seg_data: pyx12.segment.Segment) -> tuple[Any, ...] | None:
    """What pyx12's segment validation reads of a segment: its id, delimiters and every component's value
    (exactly what `Segment.__eq__` compares, plus the delimiters an error's value is written with)."""
    key: list[Any] = [seg_data.seg_id, seg_data.ele_term, seg_data.subele_term]
    for composite in seg_data.elements:
        if type(composite) is not pyx12.segment.Composite:
            return None  # not what the parser makes: not remembered
        key.append((composite.subele_term, *[element.value for element in composite.elements]))
    return tuple(key)


def _segment_errors(self: pyx12.map_if.segment_if, seg_data: pyx12.segment.Segment) -> tuple[bool, list[Any]]:
    """pyx12 4.0.0's `segment_if.is_valid_errors`, answered from memory for a segment seen before.

    pyx12's segment validation is a pure function of the map's segment and the segment's values (every element's
    length, type, codes, dates, syntax rules; no counts, no position: those are the walker's): the same text gets
    the same findings, which are frozen `EleError`s. An 835 repeats most of its segments (CAS*CO*45, SVC of the
    same code and charge, the same dates), so each distinct text is validated once per map segment, up to
    SEGMENT_MEMO_SIZE of them; the memory goes with the map, which pyx12 loads anew for each file.
    tests/billing/edi/test_pyx12_shortcuts.py compares the remembered answer with pyx12's on every call."""
    key = _segment_key(seg_data)
    memo = self.__dict__.get("_claimdesk_memo")
    if memo is None:
        memo = self._claimdesk_memo = {}
    known = memo.get(key) if key is not None else None
    if known is not None:
        return known[0], list(known[1])
    ok, errors = _pyx12_segment_errors(self, seg_data)
    if key is not None and len(memo) < SEGMENT_MEMO_SIZE:
        memo[key] = (ok, tuple(errors))
    return ok, errors


pyx12.map_if.segment_if.is_valid_errors = _segment_errors  # type: ignore[method-assign]


class _FrozenList(list[str]):
    """A map path's loops, which nothing may change once the path is made (its text and hash are kept)."""

    def _refuse(self, *_args: Any, **_kwargs: Any) -> Any:
        raise TypeError("a map node's path cannot be changed")

    __setitem__ = __delitem__ = __iadd__ = __imul__ = _refuse  # type: ignore[assignment]
    append = extend = insert = pop = remove = clear = sort = reverse = _refuse  # type: ignore[assignment]


class _MapPath(pyx12.path.X12Path):
    """A map node's `X12Path`, with its text and hash worked out once.

    pyx12 4.0.0 keys its loop and segment counts by the map nodes' paths, and an `X12Path` formats itself anew for
    each hash and each `format()`: about a sixth of the validation's CPU on an 835 (2.5 million formattings for
    10,000 claims). A map node's path never changes, so this one cannot be changed (setting an attribute or changing
    its loops raises), and its text is pyx12's own `__repr__`; it equals, and hashes as, the plain `X12Path` of the
    same text (tests/billing/edi/test_pyx12_shortcuts.py compares the two on every call of real validations)."""

    _text: str
    _hash: int

    def __init__(self, path_str: str) -> None:
        super().__init__(path_str)
        self.loop_list = _FrozenList(self.loop_list)
        text = pyx12.path.X12Path.__repr__(self)
        self.__dict__.update(_source=path_str, _text=text, _hash=hash(text), _frozen=True)

    def __setattr__(self, name: str, value: Any) -> None:
        if self.__dict__.get("_frozen"):
            raise AttributeError(f"a map node's path cannot be changed ({name})")
        super().__setattr__(name, value)

    def __reduce__(self) -> tuple[type[_MapPath], tuple[str]]:
        return (_MapPath, (self.__dict__["_source"],))  # a copy is made again from the text it was made from

    def __repr__(self) -> str:
        return self._text

    def format(self) -> str:
        return self._text

    def __hash__(self) -> int:
        return self._hash


_pyx12_x12path = pyx12.map_if.x12_node.x12path


def _map_node_path(self: pyx12.map_if.x12_node) -> pyx12.path.X12Path:
    """pyx12 4.0.0's `x12_node.x12path`: the node's path, made once, as a `_MapPath`."""
    path = self.__dict__.get("_claimdesk_path")
    if path is None:
        path = self._claimdesk_path = _MapPath(self.get_path())
    return path


_x12path = property(_map_node_path)
pyx12.map_if.x12_node.x12path = _x12path  # type: ignore[assignment]

#: Every shortcut in front of pyx12, as (where, name, pyx12's own, ours): the tests put pyx12's own back to compare.
SHORTCUTS: tuple[tuple[Any, str, Any, Any], ...] = (
    (pyx12.validation, "contains_control_character", _pyx12_contains_control_character, _contains_control_character),
    (pyx12.nodeCounter.NodeCounter, "reset_to_node", _pyx12_reset_to_node, _reset_to_node),
    (pyx12.segment.Segment, "_parse_refdes", _pyx12_parse_refdes, _parse_refdes),
    (pyx12.map_if.segment_if, "get_child_node_by_idx", _pyx12_child_by_idx, _child_by_idx),
    (pyx12.map_if.segment_if, "is_valid_errors", _pyx12_segment_errors, _segment_errors),
    (pyx12.map_if.x12_node, "x12path", _pyx12_x12path, _x12path),
)

#: Segment errors that mean the loops could not be followed: "segment not found", unexpected segment,
#: loop or segment repeated too often. A missing optional-looking segment (code 3) or a bad element is untidy.
STRUCTURAL_SEGMENT_CODES = frozenset({"1", "2", "4", "5"})


@dataclass(frozen=True)
class Finding:
    level: str  # interchange, group, transaction, segment, element
    segment: str | None
    line: int | None
    code: str
    message: str
    structural: bool

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line else self.level
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class Validation:
    findings: tuple[Finding, ...]
    looks_like_x12: bool

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.structural]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if not f.structural]

    @property
    def refused(self) -> bool:
        return not self.looks_like_x12 or bool(self.errors)


def validate(text: str) -> Validation:
    """Run pyx12 over X12 text (an 835, an 837P, a 999...) and collect every finding."""
    param = pyx12.params.params()
    param.set("exclude_external_codes", "remark_code")
    fd_json = io.StringIO()
    try:
        ok = pyx12.x12n_document.x12n_document(
            param=param, src_file=io.StringIO(_one_line(text)), fd_997=None, fd_html=None, fd_json=fd_json
        )
    except (pyx12.errors.EngineError, pyx12.errors.X12Error) as exc:
        finding = Finding("interchange", None, None, "engine", f"pyx12 could not read the file: {exc}", True)
        return Validation((finding,), looks_like_x12=True)
    except Exception as exc:
        # pyx12 4.0.0 raises IndexError on a composite with too many components: a file that crashes the validator
        # is refused like one it cannot read, and the crash is no message for a person.
        logging.getLogger(__name__).warning("pyx12 failed on a file: %s", type(exc).__name__)
        finding = Finding("interchange", None, None, "engine",
                          "pyx12 could not read the file (its validator failed on a malformed segment)", True)
        return Validation((finding,), looks_like_x12=True)
    doc = json.loads(fd_json.getvalue() or '{"interchanges": []}')
    findings = tuple(_flatten(doc))
    # pyx12 returns False with an empty error tree when the text is not X12 at all.
    return Validation(findings, looks_like_x12=ok or bool(findings))


def _one_line(text: str) -> str:
    """The text as pyx12 can read it: pyx12 refuses a segment with leading spaces and loses its place after a tab
    or a line break it does not expect, so indentation and line breaks between segments go (billing.edi.segments)."""
    try:
        return canonical(text)
    except NotX12:
        return text.lstrip("\ufeff \r\n\t")  # pyx12 says it is not X12, in its own words


def timed_validation(text: str) -> tuple[Validation, float, float]:
    """`validate`, the seconds it took and the CPU seconds it used: what a worker returns."""
    started, cpu = time.perf_counter(), time.process_time()
    validation = validate(text)
    return validation, time.perf_counter() - started, time.process_time() - cpu


def _flatten(doc: dict[str, Any]) -> list[Finding]:
    out: list[Finding] = []
    for isa in doc.get("interchanges", []):
        out += _errors(isa, "interchange", None, isa.get("cur_line"), structural=True)
        for gs in isa.get("groups", []):
            out += _errors(gs, "group", None, gs.get("cur_line"), structural=True)
            for st in gs.get("transactions", []):
                out += _errors(st, "transaction", None, st.get("cur_line"), structural=True)
                for seg in st.get("segments", []):
                    seg_id, line = seg.get("seg_id"), seg.get("cur_line")
                    out += [
                        Finding("segment", seg_id, line, str(e.get("err_cde")), e.get("err_str", ""),
                                str(e.get("err_cde")) in STRUCTURAL_SEGMENT_CODES)
                        for e in seg.get("errors", [])
                    ]
                    for ele in seg.get("elements", []):
                        out += _errors(ele, "element", seg_id, line, structural=False)
    return out


def _errors(
    node: dict[str, Any], level: str, seg_id: str | None, line: int | None, *, structural: bool
) -> list[Finding]:
    return [Finding(level, seg_id, line, str(e.get("err_cde")), e.get("err_str", ""), structural)
            for e in node.get("errors", [])]


def merge_pieces(results: list[Validation], origins: list[list[int]],
                 envelope: list[tuple[int, str, str, str]]) -> Validation:
    """One verdict from the pieces of a cut file (billing.edi.chunks): findings back on the file's own
    segment numbers, the copied headers' findings once, and the envelope problems found on the whole file."""
    seen: dict[tuple[object, ...], Finding] = {}
    for result, origin in zip(results, origins, strict=True):
        for f in result.findings:
            line = origin[f.line - 1] if f.line and 0 < f.line <= len(origin) else f.line
            moved = Finding(f.level, f.segment, line, f.code, f.message, f.structural)
            seen.setdefault((moved.level, moved.segment, moved.line, moved.code, moved.message), moved)
    for line, level, code, message in envelope:  # the pieces may have seen a control number too: once only
        seen.setdefault((level, None, line, code, message), Finding(level, None, line, code, message, True))
    findings = sorted(seen.values(), key=lambda f: f.line or 0)
    return Validation(tuple(findings), looks_like_x12=all(r.looks_like_x12 for r in results))


def to_json(validation: Validation, seconds: float, cpu_seconds: float) -> str:
    return json.dumps({"findings": [asdict(f) for f in validation.findings],
                       "looks_like_x12": validation.looks_like_x12, "seconds": seconds, "cpu": cpu_seconds,
                       "peak_mb": peak_rss_mb()})


def from_json(text: str) -> tuple[Validation, float, float]:
    doc = json.loads(text)
    findings = tuple(Finding(**f) for f in doc["findings"])
    return Validation(findings, doc["looks_like_x12"]), doc["seconds"], doc["cpu"]


def peak_rss_mb() -> float:
    """This process's peak resident size (VmHWM on Linux; else what getrusage says, 0 where it says nothing).

    A worker reports its own: the parent's RUSAGE_CHILDREN would count the parent's pages the child had
    between fork and exec."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    try:
        import resource
    except ImportError:  # not POSIX
        return 0.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


#: From this size (about 5,000 claims) the file is cut in pieces validated by VALIDATION_WORKERS at once.
SPLIT_FROM_BYTES = 1_500_000


VALIDATION_WORKERS = 2


#: The worker imports `billing` from here, installed or not.
PROJECT_ROOT = str(Path(__file__).resolve().parents[2])


class PendingValidation:
    """pyx12's verdict on the file: computed here, or awaited from worker interpreters.

    A worker is a plain `python -m billing.edi.pyx12 FILE`, not multiprocessing: it must not
    re-import the caller's main module (a CLI, a web worker) or inherit its database connections. A very
    large file is cut into pieces validated side by side (billing.edi.chunks), when its shape allows
    (`cut=False`: never, for a file that is not an 835). `by_transaction`: a file of several transactions
    (an 837P) is cut between them, whatever its size.
    """

    def __init__(self, text: str, *, parallel: bool, cut: bool = True, by_transaction: bool = False,
                 workers: int = VALIDATION_WORKERS) -> None:
        self.parallel = parallel
        #: The largest peak resident size of a worker, once they have answered (0 when validated here).
        self.worker_peak_mb = 0.0
        self._done: tuple[Validation, float, float] | None = None
        self._workers: list[tuple[subprocess.Popen[str], Path]] = []
        self._origins: list[list[int]] = []
        self._envelope: list[tuple[int, str, str, str]] = []
        if not parallel:
            self._done = timed_validation(text)
            return
        self._started = time.perf_counter()
        if by_transaction:
            pieces = _pieces(text, workers, whole_transactions=True)
        else:
            pieces = _pieces(text, workers) if cut and workers > 1 and len(text) >= SPLIT_FROM_BYTES else None
        if pieces is None:
            self._workers.append(_start_worker(text))
            return
        delims, parts, envelope = pieces
        self._envelope = [(p.line, p.level, p.code, p.message) for p in envelope]
        for piece in parts:
            self._workers.append(_start_worker(piece.blocks(delims)))
            self._origins.append(piece.origin)

    def result(self) -> Validation:
        if self._done is None:
            results, cpu = [], 0.0
            for process, _ in self._workers:
                out, err = process.communicate()
                if process.returncode != 0:
                    raise Failed(f"The file could not be validated (pyx12 worker failed): {err.strip()[-300:]}")
                validation, _seconds, used = from_json(out)
                results.append(validation)
                cpu += used
                self.worker_peak_mb = max(self.worker_peak_mb, json.loads(out).get("peak_mb", 0.0))
            merged = merge_pieces(results, self._origins, self._envelope) if self._origins else results[0]
            self._done = (merged, time.perf_counter() - self._started, cpu)
        return self._done[0]

    @property
    def seconds(self) -> float:
        self.result()
        assert self._done is not None
        return self._done[1]

    @property
    def cpu_seconds(self) -> float:
        self.result()
        assert self._done is not None
        return self._done[2]

    def close(self) -> None:
        for process, path in self._workers:
            if process.poll() is None:
                process.kill()
                process.wait()
            path.unlink(missing_ok=True)


#: The segments whose elements billing.edi.chunks reads (the envelope, each transaction's ends). It looks at every
#: other segment by its id only, so those are split, when asked for, into the id and the rest.
_READ_IN_FULL = frozenset({"ISA", "GS", "ST", "SE", "GE", "IEA"})


def _pieces(text: str, workers: int = VALIDATION_WORKERS, *, whole_transactions: bool = False,
            ) -> tuple[Delimiters, list[Piece], list[EnvelopeProblem]] | None:
    """The file cut for the workers. Its segments are a `SegmentTable` (their starts and ids, each split when read):
    a 74,000-claim 835 held as a list of split segments, with the cut's lists of them, took 270 MB beside the file;
    the pieces keep segment numbers and read their text from the table when it is written."""
    text = decode(text)
    delims = delimiters(text)
    segments = SegmentTable(text, delims, _READ_IN_FULL)
    cut = (split_transactions if whole_transactions else split)(segments, workers)
    return None if cut is None else (delims, *cut)


def _start_worker(text: str | Iterable[str]) -> tuple[subprocess.Popen[str], Path]:
    """A worker validating `text` (or the pieces of text given, written one after the other)."""
    # X12 files name patients: mkstemp makes the file readable by this user only; close() removes it.
    handle, name = tempfile.mkstemp(prefix="claimdesk-835-", suffix=".txt")
    with os.fdopen(handle, "w", encoding="utf-8") as fh:
        fh.writelines([text] if isinstance(text, str) else text)
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module, a path we made
        [sys.executable, "-m", "billing.edi.pyx12", name], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, cwd=PROJECT_ROOT)
    return process, Path(name)


@contextmanager
def validating(text: str, *, parallel: bool, workers: int = VALIDATION_WORKERS) -> Iterator[PendingValidation]:
    pending = PendingValidation(text, parallel=parallel, workers=workers)
    try:
        yield pending
    finally:
        pending.close()


if __name__ == "__main__":
    # `python -m billing.edi.pyx12 FILE`: one worker of PendingValidation.
    with open(sys.argv[1], encoding="utf-8") as fh:
        sys.stdout.write(to_json(*timed_validation(fh.read())))
