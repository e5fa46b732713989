"""Checks on providers and clients before they are saved."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from billing.core.checks import field_problem, optional_field_problem, required
from billing.core.errors import Problem
from billing.core.identifiers import icd10_problem, npi_problem, phone_problem, taxonomy_problem, zip_problem
from billing.core.time import practice_today

ADULT_AGE = 18
MAX_DIAGNOSES = 12  # the 837P HI segment carries at most twelve


def provider_problems(data: Mapping[str, Any], record: object | None = None) -> list[Problem]:
    return [
        *field_problem(data, "npi", npi_problem),
        *optional_field_problem(data, "taxonomy_code", taxonomy_problem),
    ]


def client_problems(data: Mapping[str, Any], record: object | None = None) -> list[Problem]:
    problems = [
        *optional_field_problem(data, "zip_code", zip_problem),
        *optional_field_problem(data, "phone", phone_problem),
        *optional_field_problem(data, "responsible_party_phone", phone_problem),
    ]
    born: date | None = data.get("date_of_birth")
    if born and born > practice_today():
        problems.append(Problem("date_of_birth", "The date of birth is in the future."))
    if born and _age(born) < ADULT_AGE:
        problems += [
            Problem(p.field, "A minor needs a responsible party (who receives statements).")
            for p in required(data, "responsible_party_name", "responsible_party_relationship")
        ]
    problems += diagnosis_problems(data.get("diagnoses") or [])
    return problems


def diagnosis_problems(rows: list[Mapping[str, Any]]) -> list[Problem]:
    """Inline diagnosis rows: valid ICD-10 codes, no repeats, positions unique, at most twelve."""
    live = [r for r in rows if r.get("code")]
    problems = [Problem("diagnoses", m) for r in live if (m := icd10_problem(r["code"]))]
    codes = [str(r["code"]).upper().replace(".", "") for r in live]
    if len(set(codes)) != len(codes):
        problems.append(Problem("diagnoses", "A diagnosis code is listed twice."))
    positions = [r.get("position") for r in live]
    if len(set(positions)) != len(positions):
        problems.append(Problem("diagnoses", "Two diagnoses share a position; number them 1, 2, 3..."))
    if len(live) > MAX_DIAGNOSES:
        problems.append(Problem("diagnoses", f"A claim carries at most {MAX_DIAGNOSES} diagnoses."))
    return problems


def _age(born: date) -> int:
    today = practice_today()
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))
