"""Format checks for the identifiers billing runs on. Each returns None when fine, else a message."""

from __future__ import annotations

import re

_NPI = re.compile(r"\d{10}")
# CMS: the NPI check digit is the Luhn digit of the 9-digit base prefixed with the card issuer 80840.
_NPI_PREFIX_SUM = 24
_ICD10 = re.compile(r"[A-TV-Z][0-9][0-9A-Z](\.?[0-9A-Z]{1,4})?")
# CPT: five digits, or four digits and F/T/U (category II/III, PLA); HCPCS II: a letter and four digits.
_PROCEDURE = re.compile(r"\d{5}|\d{4}[FTU]|[A-V]\d{4}")
_MODIFIER = re.compile(r"[0-9A-Z]{2}")
_TAXONOMY = re.compile(r"[0-9]{3}[0-9A-Z]{6}X")
_EIN = re.compile(r"\d{9}")
_ZIP = re.compile(r"\d{5}(\d{4})?")
_PHONE = re.compile(r"\d{10}")
MAX_MODIFIERS = 4


def npi_check_digit(base9: str) -> int:
    """Luhn check digit for a 9-digit NPI base (the constant 24 accounts for the 80840 prefix)."""
    total = _NPI_PREFIX_SUM
    for i, ch in enumerate(reversed(base9)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            d = d - 9 if d > 9 else d
        total += d
    return (10 - total % 10) % 10


def npi_problem(value: str | None) -> str | None:
    if not value or not _NPI.fullmatch(value):
        return "An NPI is exactly 10 digits."
    if npi_check_digit(value[:9]) != int(value[9]):
        return f"{value} fails the NPI check digit; check for a typo."
    return None


def normalize_icd10(value: str) -> str:
    """Stored without the dot, upper case (as the 837 HI segment wants it)."""
    return value.strip().upper().replace(".", "")


def icd10_problem(value: str | None) -> str | None:
    if not value or not _ICD10.fullmatch(value.strip().upper()):
        return f"{value!r} is not an ICD-10-CM code (a letter, two characters, then up to four more, e.g. F84.0)."
    return None


def procedure_code_problem(value: str | None) -> str | None:
    if not value or not _PROCEDURE.fullmatch(value.strip().upper()):
        return f"{value!r} is not a CPT or HCPCS code (e.g. 97153, 92507, H2019)."
    return None


def normalize_modifiers(value: str | None) -> str:
    """'hn, 95' -> 'HN:95': upper case, colon-separated in the order given (as in SV101)."""
    if not value:
        return ""
    parts = [p for p in re.split(r"[\s,:;]+", value.strip().upper()) if p]
    return ":".join(parts)


def modifiers_problem(value: str | None) -> str | None:
    parts = [p for p in normalize_modifiers(value).split(":") if p]
    if len(parts) > MAX_MODIFIERS:
        return f"At most {MAX_MODIFIERS} modifiers fit on a claim line."
    bad = [p for p in parts if not _MODIFIER.fullmatch(p)]
    if bad:
        return f"Modifiers are two letters or digits each; not {', '.join(bad)}."
    if len(set(parts)) != len(parts):
        return "A modifier is listed twice."
    return None


def taxonomy_problem(value: str | None) -> str | None:
    if value and not _TAXONOMY.fullmatch(value.strip().upper()):
        return f"{value!r} is not a provider taxonomy code (10 characters ending in X, e.g. 103K00000X)."
    return None


def tax_id_problem(value: str | None) -> str | None:
    if not value or not _EIN.fullmatch(digits_only(value)):
        return "A tax id (EIN) is 9 digits, e.g. 12-3456789."
    return None


def zip_problem(value: str | None, *, require_plus4: bool = False) -> str | None:
    digits = digits_only(value or "")
    if not _ZIP.fullmatch(digits):
        return "A ZIP code is 5 or 9 digits."
    if require_plus4 and len(digits) != 9:
        return "The billing provider's ZIP must be the full 9-digit ZIP+4 (837P loop 2010AA)."
    return None


def phone_problem(value: str | None) -> str | None:
    if value and not _PHONE.fullmatch(digits_only(value)):
        return "A phone number is 10 digits, e.g. (555) 123-4567."
    return None


def digits_only(value: str) -> str:
    return re.sub(r"\D", "", value or "")
