"""Checks on company and location records before they are saved."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from billing.core.checks import field_problem, optional_field_problem
from billing.core.errors import Problem
from billing.core.identifiers import npi_problem, phone_problem, tax_id_problem, taxonomy_problem, zip_problem
from billing.core.reference import PLACES_OF_SERVICE


def company_problems(data: Mapping[str, Any], record: object | None = None) -> list[Problem]:
    problems = [
        *field_problem(data, "tax_id", tax_id_problem),
        *field_problem(data, "group_npi", npi_problem),
        *optional_field_problem(data, "taxonomy_code", taxonomy_problem),
        *optional_field_problem(data, "phone", phone_problem),
        *field_problem(data, "zip_code", partial(zip_problem, require_plus4=True)),
        *optional_field_problem(data, "pay_to_zip_code", zip_problem),
    ]
    pay_to = [data.get(k) for k in ("pay_to_address_line1", "pay_to_city", "pay_to_state", "pay_to_zip_code")]
    if any(pay_to) and not all(pay_to):
        problems.append(Problem("pay_to_address_line1", "A pay-to address needs street, city, state and ZIP."))
    return problems


def location_problems(data: Mapping[str, Any], record: object | None = None) -> list[Problem]:
    problems = [
        *optional_field_problem(data, "facility_npi", npi_problem),
        *optional_field_problem(data, "zip_code", zip_problem),
        *optional_field_problem(data, "phone", phone_problem),
    ]
    if data.get("place_of_service") not in PLACES_OF_SERVICE:
        problems.append(Problem("place_of_service", "Choose a place of service from the list."))
    return problems
