"""Every public 835 sample is imported (each CLP posted or kept as Unmatched) or refused whole, and why."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from billing.core.db import db
from billing.edi import pyx12 as pyx12_runner
from billing.edi.segments import split_segments
from billing.ledger.models import Adjudication, AdjudicationLine, LedgerEntry
from billing.payments.models import EraFile, ProviderAdjustment, Remittance, UnmatchedClaim
from billing.payments.remittances import EraRefused, import_835
from tests.worlds.practice import SYSTEM

# file: (imported?, why)
EXPECTED = {
    "5010-835-example-1.txt": (True, "valid; its 3 CLPs are other systems' claims, so all wait in Unmatched"),
    "5010-835-example-2.txt": (True, "valid; 2 claims with line denials (CO-16), none of ours"),
    "835_mult_loops.txt": (True, "valid; one denied claim (CLP02 = 4), not ours"),
    "X221-era-sample.edi": (True, "valid dental ERA; 1 claim, 5 lines, unmatched"),
    "X221-multiple-claims-single-check.edi": (True, "valid; 9 claims and 33 lines on one check, unmatched"),
    "medicare-part-a.835": (True, "untidy, not broken: a missing PER and TS3 amounts marked Not Used are "
                                  "warnings; its PLB is recorded and the check balances"),
    "secondary-payment.835": (False, "its SVC composites use '>' while ISA16 says ':', so pyx12 cannot place the "
                                     "service lines (segment not found): the lines cannot be read reliably"),
    "tc_parse_835.rb__MESSAGE1_reversals.x12": (False, "broken envelope: IEA and GE control numbers and counts "
                                                       "do not match, and the claims sit outside any LX loop"),
}


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.samples
def test_every_sample_is_listed(samples_835):
    assert sorted(p.name for p in samples_835.iterdir()) == sorted(EXPECTED)


@pytest.mark.samples
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_sample_is_imported_or_refused_whole(samples_835, name):
    imported, why = EXPECTED[name]
    data = (samples_835 / name).read_bytes()
    if not imported:
        with pytest.raises(EraRefused) as refused:
            import_835(data, filename=name, actor=SYSTEM)
        assert refused.value.problems, why
        assert name in refused.value.message
        assert (count(EraFile), count(Remittance), count(UnmatchedClaim), count(LedgerEntry)) == (0, 0, 0, 0)
        return
    result = import_835(data, filename=name, actor=SYSTEM)
    _, segments = split_segments(data.decode("ascii"))
    clps = sum(1 for s in segments if s[0] == "CLP")
    svcs = sum(1 for s in segments if s[0] == "SVC")
    # Nothing dropped: every CLP is an adjudication or an unmatched row, every SVC is kept with it.
    unmatched = list(db.session.scalars(select(UnmatchedClaim)))
    kept_svcs = sum(len(u.data["services"]) for u in unmatched) + count(AdjudicationLine)
    assert (result.claims, count(Adjudication) + len(unmatched), kept_svcs) == (clps, clps, svcs), why
    assert result.unmatched == clps
    assert result.matched == 0
    assert db.session.scalar(select(EraFile.content)) == data  # the raw file is kept byte for byte
    assert all(u.raw.startswith("CLP") and u.reason for u in unmatched)
    assert result.balanced


@pytest.mark.samples
def test_medicare_part_a_keeps_its_plb_and_warnings(samples_835):
    name = "medicare-part-a.835"
    result = import_835((samples_835 / name).read_bytes(), filename=name, actor=SYSTEM)
    plb = db.session.scalars(select(ProviderAdjustment)).one()
    assert (plb.reason_code, plb.reference, plb.amount) == ("CV", "CP", Decimal("-1.27"))
    remittance = db.session.scalars(select(Remittance)).one()
    assert remittance.balanced
    assert remittance.amount == Decimal("150000.00")
    assert remittance.plb_total == Decimal("-1.27")
    assert any("PER" in w for w in result.warnings)
    assert remittance.warnings == result.warnings


#: Samples whose payer (TRN03) and check number (TRN02) an earlier sample already has, dates and amounts aside:
#: the same check under rule 8, so in one database only the first of each is posted.
SAME_CHECK_AS = {"5010-835-example-2.txt": "5010-835-example-1.txt",
                 "X221-multiple-claims-single-check.edi": "X221-era-sample.edi",
                 "medicare-part-a.835": "X221-era-sample.edi"}


@pytest.mark.samples
def test_all_samples_in_one_go_then_again(samples_835):
    """Importing every file twice: the second time each says already imported and nothing new is written. The
    first time too for a sample that repeats an earlier one's check (rule 8), with a warning saying so."""
    for path in sorted(samples_835.iterdir()):
        if EXPECTED[path.name][0]:
            result = import_835(path.read_bytes(), filename=path.name, actor=SYSTEM)
            assert result.duplicate is (path.name in SAME_CHECK_AS)
            assert bool(result.repeated) is (path.name in SAME_CHECK_AS)
    counts = (count(Remittance), count(UnmatchedClaim), count(ProviderAdjustment))
    for path in sorted(samples_835.iterdir()):
        if EXPECTED[path.name][0]:
            assert import_835(path.read_bytes(), filename=path.name, actor=SYSTEM).duplicate
    assert (count(Remittance), count(UnmatchedClaim), count(ProviderAdjustment)) == counts


@pytest.mark.samples
def test_the_same_check_in_a_retouched_file_is_already_imported(samples_835):
    """A BOM, CRLFs and blank lines change the bytes, not the check: still "already imported"."""
    data = (samples_835 / "X221-era-sample.edi").read_bytes()
    import_835(data, filename="a.edi", actor=SYSTEM)
    retouched = b"\xef\xbb\xbf\r\n  " + data.replace(b"~", b"~\r\n") + b"\n\n"
    assert import_835(retouched, filename="b.edi", actor=SYSTEM).duplicate
    assert count(Remittance) == 1


@pytest.mark.parametrize("data", [b"", b"hello, world", b"%PDF-1.4 binary", b"ISA*00*short~"])
def test_not_x12_is_refused_with_a_message(data):
    with pytest.raises(EraRefused, match="refused, nothing was posted"):
        import_835(data, filename="upload.txt", actor=SYSTEM)
    assert count(EraFile) == 0


@pytest.mark.samples
@pytest.mark.parametrize("name", ["X221-multiple-claims-single-check.edi", "tc_parse_835.rb__MESSAGE1_reversals.x12"])
def test_large_files_validate_in_a_worker_with_the_same_outcome(samples_835, monkeypatch, name):
    """pyx12 in a second process while posting runs in a savepoint: a refusal still leaves nothing behind."""
    from billing.payments import remittances as importing

    monkeypatch.setattr(importing, "PARALLEL_FROM_BYTES", 0)
    data = (samples_835 / name).read_bytes()
    if not EXPECTED[name][0]:
        with pytest.raises(EraRefused, match="IEA id=188915716"):
            import_835(data, filename=name, actor=SYSTEM)
        assert (count(EraFile), count(Remittance), count(UnmatchedClaim), count(Adjudication)) == (0, 0, 0, 0)
        return
    result = import_835(data, filename=name, actor=SYSTEM)
    assert (result.claims, result.unmatched, count(UnmatchedClaim)) == (9, 9, 9)
    assert result.timings["validation"] > 0


@pytest.mark.samples
@pytest.mark.parametrize("name", ["X221-multiple-claims-single-check.edi", "medicare-part-a.835",
                                  "secondary-payment.835"])
def test_files_cut_in_pieces_for_validation_import_or_refuse_the_same(samples_835, monkeypatch, name):
    """The import path that cuts a large file in two for pyx12 gives the whole file's verdict and findings."""
    from billing.edi.pyx12 import validate
    from billing.edi.segments import decode
    from billing.payments import remittances as importing

    data = (samples_835 / name).read_bytes()
    whole = validate(decode(data))
    monkeypatch.setattr(importing, "PARALLEL_FROM_BYTES", 0)
    monkeypatch.setattr(pyx12_runner, "SPLIT_FROM_BYTES", 0)
    pending = pyx12_runner.PendingValidation(decode(data), parallel=True)
    try:
        assert len(pending._workers) == 2  # it really was cut
        assert sorted(map(str, pending.result().findings)) == sorted(map(str, whole.findings))
    finally:
        pending.close()
    if not EXPECTED[name][0]:
        with pytest.raises(EraRefused, match="not found"):
            import_835(data, filename=name, actor=SYSTEM)
        assert (count(EraFile), count(Remittance), count(UnmatchedClaim)) == (0, 0, 0)
        return
    result = import_835(data, filename=name, actor=SYSTEM)
    assert result.warnings == [str(f) for f in whole.warnings]
    assert result.unmatched == count(UnmatchedClaim) > 0
