"""Validate an 835 with pyx12 and sort what it finds: structural errors refuse the file, the rest are warnings."""

from __future__ import annotations

import io
import json
import logging
import sys
import time
from dataclasses import asdict, dataclass
from typing import Any

import pyx12.errors
import pyx12.params
import pyx12.x12n_document

# pyx12 logs every finding at ERROR level as well as reporting it; we report it once, ourselves.
logging.getLogger("pyx12").setLevel(logging.CRITICAL)

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


def validate_835(text: str) -> Validation:
    """Run pyx12 over cleaned 835 text (LIBRARY-NOTES 2: no 999 for an 835, no stale remark-code list)."""
    param = pyx12.params.params()
    param.set("exclude_external_codes", "remark_code")
    fd_json = io.StringIO()
    try:
        ok = pyx12.x12n_document.x12n_document(
            param=param, src_file=io.StringIO(text), fd_997=None, fd_html=None, fd_json=fd_json
        )
    except (pyx12.errors.EngineError, pyx12.errors.X12Error) as exc:
        finding = Finding("interchange", None, None, "engine", f"pyx12 could not read the file: {exc}", True)
        return Validation((finding,), looks_like_x12=True)
    doc = json.loads(fd_json.getvalue() or '{"interchanges": []}')
    findings = tuple(_flatten(doc))
    # pyx12 returns False with an empty error tree when the text is not X12 at all.
    return Validation(findings, looks_like_x12=ok or bool(findings))


def timed_validation(text: str) -> tuple[Validation, float, float]:
    """`validate_835`, the seconds it took and the CPU seconds it used; what a worker returns (see importing)."""
    started, cpu = time.perf_counter(), time.process_time()
    validation = validate_835(text)
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
                       "looks_like_x12": validation.looks_like_x12, "seconds": seconds, "cpu": cpu_seconds})


def from_json(text: str) -> tuple[Validation, float, float]:
    doc = json.loads(text)
    findings = tuple(Finding(**f) for f in doc["findings"])
    return Validation(findings, doc["looks_like_x12"]), doc["seconds"], doc["cpu"]


if __name__ == "__main__":
    # `python -m billing.edi.pyx12 FILE`: what the importer runs beside its posting (see importing).
    with open(sys.argv[1], encoding="utf-8") as fh:
        sys.stdout.write(to_json(*timed_validation(fh.read())))
