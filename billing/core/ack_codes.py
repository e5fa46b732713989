"""Acknowledgment code lists, shipped as data files beside `codes.py`, each code with its meaning in plain words.

- 277CA claim status category codes (STC01-1) with what each does to a claim: accepted, rejected or information;
- 277CA claim status codes (STC01-2) and entity identifier codes (STC01-3);
- 999 codes: segment errors (IK304), element errors (IK403), acknowledgment statuses (IK501, AK901),
  transaction errors (IK502-506) and functional group errors (AK905-909).

A code not in a list still reads as something a person can act on ("status code 999"), never as an error.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache

from billing.core.codes import DATA


@dataclass(frozen=True)
class Category:
    code: str
    outcome: str  # "accepted", "rejected" or "information"
    description: str


def _rows(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@cache
def categories() -> dict[str, Category]:
    return {r["code"]: Category(r["code"], r["outcome"], r["description"]) for r in _rows("claim_status_category.csv")}


@cache
def statuses() -> dict[str, str]:
    return {r["code"]: r["description"] for r in _rows("claim_status.csv")}


@cache
def entities() -> dict[str, str]:
    return {r["code"]: r["description"] for r in _rows("entity_identifier.csv")}


@cache
def x12_codes() -> dict[tuple[str, str], str]:
    """(list, code) -> meaning; lists: segment, element, status, transaction, group."""
    return {(r["list"], r["code"]): r["description"] for r in _rows("x12_ack.csv")}


def category_outcome(code: str) -> str:
    """What a 277CA category does to the claim; an unknown category only informs."""
    known = categories().get(code.upper())
    return known.outcome if known else "information"


def describe_category(code: str) -> str:
    known = categories().get(code.upper())
    return known.description if known else f"status category {code}"


def describe_status(code: str) -> str:
    return statuses().get(code.lstrip("0") or "0", f"status code {code}")


def describe_entity(code: str) -> str:
    return entities().get(code.upper(), f"entity {code}")


def describe_x12(list_name: str, code: str) -> str:
    """A 999 code's meaning; `list_name` is segment, element, status, transaction or group."""
    return x12_codes().get((list_name, code.upper()), f"{list_name} error code {code}")
