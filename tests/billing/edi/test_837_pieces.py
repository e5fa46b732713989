"""A large 837P is validated as pieces of whole transactions side by side: the pieces must give exactly pyx12's
findings for the whole file (clean, a broken claim in a later transaction, a wrong trailer)."""

from __future__ import annotations

import pytest

from billing.edi import x837p
from billing.edi.chunks import split_transactions
from billing.edi.pyx12 import Validation, validate
from billing.edi.segments import segment_texts, split_segments
from billing.edi.x837p import write_837
from billing.edi.x837p_checks import Checking, validate_837
from tests.billing.edi.scenario_facts import ENVELOPE, primary_claim
from tests.worlds.x12_pieces import findings
from tests.worlds.x12_pieces import in_pieces as in_pieces_by


@pytest.fixture
def written(monkeypatch):
    monkeypatch.setattr(x837p, "CLAIMS_PER_TRANSACTION", 2)  # six claims: three transactions
    return write_837(ENVELOPE, [primary_claim(f"C-000{300 + n}") for n in range(6)])


def in_pieces(text: str, parts: int) -> Validation | None:
    return in_pieces_by(text, parts, split_transactions)


def test_a_clean_file_of_three_transactions_is_clean_in_two_pieces(written):
    assert written.transaction_count == 3
    _delims, segments = split_segments(written.text)
    pieces, envelope = split_transactions(segments, 2)
    assert envelope == []
    assert [p.segments[0][0] for p in pieces] == ["ISA", "ISA"]
    assert sorted(o for p in pieces for o in p.origin[2:-2]) == list(range(3, len(segments) - 1))  # each once
    merged = in_pieces(written.text, 2)
    assert findings(merged) == findings(validate(written.text)) == []


def test_a_broken_claim_in_the_last_transaction_is_found_at_its_own_line(written):
    first, last = written.claim_segments["C-000305"]
    segments = segment_texts(written.text)
    broken_at = next(i for i in range(first, last + 1) if segments[i - 1].startswith("DTP*472"))
    segments[broken_at - 1] = "DTP*472*D8*20261399"
    text = "~".join(segments) + "~"
    merged, whole = in_pieces(text, 2), validate(text)
    assert findings(whole)
    assert findings(merged) == findings(whole)
    assert broken_at in {f.line for f in merged.findings}


@pytest.mark.parametrize(("tag", "wrong"), [
    ("SE*", lambda s: "SE*99*" + s.split("*")[2]),
    ("GE*", lambda s: "GE*7*" + s.split("*")[2]),
    ("IEA*", lambda s: "IEA*1*000000999"),
])
def test_envelope_counts_the_pieces_rewrite_are_checked_on_the_whole_file(written, tag, wrong):
    segments = segment_texts(written.text)
    index = next(i for i, seg in enumerate(segments) if seg.startswith(tag))
    segments[index] = wrong(segments[index])
    text = "~".join(segments) + "~"
    merged, whole = in_pieces(text, 2), validate(text)
    assert whole.refused
    assert merged.refused
    assert findings(merged) == findings(whole)


def test_a_repeated_transaction_control_number_is_refused(written):
    segments = segment_texts(written.text)
    starts = [i for i, seg in enumerate(segments) if seg.startswith("ST*")]
    control = segments[starts[0]].split("*")[2]
    for index in (starts[2], next(i for i in range(starts[2], len(segments)) if segments[i].startswith("SE*"))):
        parts = segments[index].split("*")
        parts[2] = control
        segments[index] = "*".join(parts)
    merged = in_pieces("~".join(segments) + "~", 2)
    assert any(f.code == "23" and f.line == starts[2] + 1 for f in merged.findings)


def test_a_file_of_one_transaction_is_not_cut():
    one = write_837(ENVELOPE, [primary_claim("C-000401"), primary_claim("C-000402")])
    assert in_pieces(one.text, 2) is None


def test_checking_in_workers_gives_the_whole_files_errors(written):
    text = written.text.replace("CLM*C-000304*146.96*", "CLM*C-000304*146.97*")
    check = Checking(text, written.claim_at, parallel=True)
    try:
        errors = check.errors()
    finally:
        check.close()
    assert len(check._pending._workers) == 2  # the file really was cut
    assert [(e.segment_number, e.message, e.claim_number) for e in errors] == [
        (e.segment_number, e.message, e.claim_number) for e in validate_837(text, written.claim_at)]
    assert [e.claim_number for e in errors] == ["C-000304"]
