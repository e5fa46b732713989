"""The CARC and RARC lists ship as data: every row is whole, and pages describe what payers send."""

from __future__ import annotations

import csv

from billing.core.codes import DATA, carcs, describe_carc, describe_rarc, is_denial, rarcs


def test_every_row_has_a_code_a_flag_and_a_whole_description():
    for name, columns in (("carc.csv", 3), ("rarc.csv", 2)):
        with (DATA / name).open(encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh))[1:]
        assert rows, name
        assert all(len(row) == columns and row[0] and row[-1].strip() for row in rows), name
        codes = [row[0] for row in rows]
        assert len(codes) == len(set(codes)), f"{name} lists a code twice"
    assert len(carcs()) > 200
    assert len(rarcs()) > 50


def test_descriptions_and_denials():
    assert describe_carc("45").startswith("Charge exceeds fee schedule")
    assert "medical necessity" in describe_carc("50")
    assert describe_carc("197").startswith("Precertification, notification, authorization")  # commas kept
    assert describe_rarc("N130").strip()
    assert "not in our list" in describe_carc("ZZ9")
    assert is_denial("CO", "50")
    assert is_denial("CO", "16")
    assert not is_denial("CO", "45")  # a price reduction, not a refusal
    assert not is_denial("PR", "50")  # the patient's part is never a denial
    assert not is_denial("CO", "ZZ9")  # unknown codes price, they do not deny
