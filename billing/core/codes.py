"""CARC and RARC code lists, shipped as data files beside this module, with a short description for each."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA = Path(__file__).with_name("data")
GROUP_CODES = {
    "CO": "Contractual obligation",
    "PR": "Patient responsibility",
    "OA": "Other adjustment",
    "PI": "Payer-initiated reduction",
    "CR": "Correction and reversal",
}
#: PR reasons named on patient statements.
PATIENT_REASONS = {"1": "deductible", "2": "coinsurance", "3": "copay"}


@dataclass(frozen=True)
class Code:
    code: str
    description: str
    denial: bool = False


@cache
def carcs() -> dict[str, Code]:
    with (DATA / "carc.csv").open(encoding="utf-8", newline="") as fh:
        return {r["code"]: Code(r["code"], r["description"], r["denial"] == "1") for r in csv.DictReader(fh)}


@cache
def rarcs() -> dict[str, Code]:
    with (DATA / "rarc.csv").open(encoding="utf-8", newline="") as fh:
        return {r["code"]: Code(r["code"], r["description"]) for r in csv.DictReader(fh)}


def describe_carc(code: str) -> str:
    known = carcs().get(code)
    return known.description if known else "Reason code not in our list; see the payer's EOB"


def describe_rarc(code: str) -> str:
    known = rarcs().get(code)
    return known.description if known else "Remark code not in our list; see the payer's EOB"


def is_denial(group: str, code: str) -> bool:
    """A reason that refuses the service rather than pricing it (never a PR cost share)."""
    known = carcs().get(code)
    return group != "PR" and known is not None and known.denial


@cache
def claim_payment_statuses() -> dict[str, Code]:
    """CLP02: the role the payer says it played on the claim (835 claim status codes)."""
    with (DATA / "claim_payment_status.csv").open(encoding="utf-8", newline="") as fh:
        return {r["code"]: Code(r["code"], r["description"]) for r in csv.DictReader(fh)}


@cache
def plb_reasons() -> dict[str, Code]:
    """PLB03-1: why the payer adds or takes money at the provider level."""
    with (DATA / "plb_reason.csv").open(encoding="utf-8", newline="") as fh:
        return {r["code"]: Code(r["code"], r["description"]) for r in csv.DictReader(fh)}


def claim_status_words(code: str) -> str:
    """"1 — Processed as primary": the code a payer sent, and what it means."""
    known = claim_payment_statuses().get((code or "").strip())
    return f"{code} — {known.description if known else 'status code not in our list'}"


def adjustment_words(group: str, reason: str) -> str:
    """"CO-45 Charge exceeds fee schedule…": group and reason code, then the reason in words."""
    return f"{group}-{reason} {describe_carc(reason)}"


def remark_words(code: str) -> str:
    """"N130 Consult plan benefit documents…": a remark code (RARC) and what it says."""
    return f"{code} {describe_rarc(code)}"


def plb_words(code: str) -> str:
    """"L6 — Interest owed"."""
    known = plb_reasons().get((code or "").strip().upper())
    return f"{code} — {known.description if known else 'reason code not in our list'}"
