"""Identifier formats billing depends on: NPI, ICD-10-CM, CPT/HCPCS, modifiers, taxonomy, EIN, ZIP, phone."""

from __future__ import annotations

import pytest

from billing.core.identifiers import (
    digits_only,
    icd10_problem,
    modifiers_problem,
    normalize_icd10,
    normalize_modifiers,
    npi_check_digit,
    npi_problem,
    phone_problem,
    procedure_code_problem,
    tax_id_problem,
    taxonomy_problem,
    zip_problem,
)

NPI_LENGTH = "An NPI is exactly 10 digits."


# --- NPI ----------------------------------------------------------------------------------------
def test_check_digit_of_the_cms_example_npi():
    """CMS's worked example: base 123456789 has check digit 3 (Luhn over 80840123456789)."""
    assert npi_check_digit("123456789") == 3


@pytest.mark.parametrize("npi", ["1234567893", "1003000126", "1497758544", "1902809254"])
def test_known_valid_npis_pass(npi):
    assert npi_problem(npi) is None


@pytest.mark.parametrize(
    ("npi", "message"),
    [
        ("1234567890", "1234567890 fails the NPI check digit; check for a typo."),
        ("1234567839", "1234567839 fails the NPI check digit; check for a typo."),  # two digits swapped
        ("123456789", NPI_LENGTH),
        ("12345678931", NPI_LENGTH),
        ("12345678a3", NPI_LENGTH),
        ("", NPI_LENGTH),
        (None, NPI_LENGTH),
    ],
)
def test_bad_npis_are_explained(npi, message):
    assert npi_problem(npi) == message


# --- modifiers ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("gp, 59", "GP:59"),
        ("hn 95", "HN:95"),
        (" ho;ts ,, 95 ", "HO:TS:95"),
        ("HN:95", "HN:95"),
        ("", ""),
        (None, ""),
    ],
)
def test_modifiers_are_stored_upper_case_colon_separated_in_order(typed, stored):
    assert normalize_modifiers(typed) == stored


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("GP:59:95:HN", None),
        ("", None),
        ("GP:59:95:HN:KX", "At most 4 modifiers fit on a claim line."),
        ("GP:5", "Modifiers are two letters or digits each; not 5."),
        ("GPX, 5", "Modifiers are two letters or digits each; not GPX, 5."),
        ("gp gp", "A modifier is listed twice."),
    ],
)
def test_modifier_problems(typed, message):
    assert modifiers_problem(typed) == message


# --- ICD-10-CM ----------------------------------------------------------------------------------
@pytest.mark.parametrize("code", ["F84.0", "F840", "f84.0", "Z00.00", "S72.001A", "R48.8", "F80.1"])
def test_valid_icd10_codes(code):
    assert icd10_problem(code) is None


@pytest.mark.parametrize("code", ["8F4.0", "F8", "F84.", "F84.00000", "F8-4", ""])
def test_malformed_icd10_codes(code):
    assert icd10_problem(code) == (
        f"{code!r} is not an ICD-10-CM code (a letter, two characters, then up to four more, e.g. F84.0)."
    )


def test_icd10_codes_are_stored_without_the_dot():
    assert normalize_icd10(" f84.0 ") == "F840"


# --- CPT / HCPCS --------------------------------------------------------------------------------
@pytest.mark.parametrize("code", ["97153", "92507", "90837", "0362T", "3725F", "0001U", "H2019", "g0283"])
def test_valid_procedure_codes(code):
    assert procedure_code_problem(code) is None


@pytest.mark.parametrize("code", ["9715", "ABCDE", "971533", "W1234", "H201", "0362X", ""])
def test_malformed_procedure_codes(code):
    assert procedure_code_problem(code) == f"{code!r} is not a CPT or HCPCS code (e.g. 97153, 92507, H2019)."


# --- organisation identifiers -------------------------------------------------------------------
@pytest.mark.parametrize(("value", "ok"), [("103K00000X", True), ("235Z00000X", True), (None, True),
                                            ("103K00000", False), ("103K00000Y", False)])
def test_taxonomy_codes(value, ok):
    assert (taxonomy_problem(value) is None) is ok


@pytest.mark.parametrize(("value", "ok"), [("12-3456789", True), ("123456789", True), ("12345678", False),
                                            ("", False), (None, False)])
def test_tax_ids(value, ok):
    assert (tax_id_problem(value) is None) is ok


@pytest.mark.parametrize(
    ("value", "plus4", "message"),
    [
        ("62701", False, None),
        ("62701-1234", False, None),
        ("627011234", True, None),
        ("62701-1234", True, None),
        ("62701", True, "The billing provider's ZIP must be the full 9-digit ZIP+4 (837P loop 2010AA)."),
        ("6270", False, "A ZIP code is 5 or 9 digits."),
        ("627011", False, "A ZIP code is 5 or 9 digits."),
        ("6270112345", True, "A ZIP code is 5 or 9 digits."),
        (None, False, "A ZIP code is 5 or 9 digits."),
    ],
)
def test_zip_codes_and_the_zip_plus_4_rule(value, plus4, message):
    assert zip_problem(value, require_plus4=plus4) == message


@pytest.mark.parametrize(("value", "ok"), [("(555) 123-4567", True), ("5551234567", True), (None, True),
                                            ("555-1234", False), ("1 555 123 4567", False)])
def test_phone_numbers(value, ok):
    assert (phone_problem(value) is None) is ok


def test_digits_only_drops_everything_else():
    assert digits_only("(555) 123-4567 x") == "5551234567"
    assert digits_only("") == ""
