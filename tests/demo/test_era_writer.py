"""The demo payer's 835 writer answers with the 835's own claim filing codes (CLP06), never an 837-only one."""

from __future__ import annotations

import pytest

from demo.era_writer import CLP06_CODES, era_filing_code


@pytest.mark.parametrize(("sbr09", "clp06"), [("CI", "15"), ("BL", "12"), ("MC", "MC"), ("MB", "MB"), ("HM", "HM"),
                                              ("09", "ZZ"), ("11", "ZZ"), ("", "ZZ"), (None, "ZZ"), ("XX", "ZZ")])
def test_each_837_filing_code_becomes_a_valid_835_code(sbr09, clp06):
    assert era_filing_code(sbr09) == clp06
    assert era_filing_code(sbr09) in CLP06_CODES
