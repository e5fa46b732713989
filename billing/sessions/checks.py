"""Checks on a therapy session before it is saved."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from billing.core.checks import optional_field_problem
from billing.core.errors import Problem
from billing.core.identifiers import modifiers_problem
from billing.core.reference import PLACES_OF_SERVICE


def session_field_problems(data: Mapping[str, Any]) -> list[Problem]:
    """What is wrong with a session form on its own (the claims layer adds what a claim has locked)."""
    problems = [*optional_field_problem(data, "modifiers", modifiers_problem)]
    start, end = data.get("start_time"), data.get("end_time")
    if start and end and end <= start:
        problems.append(Problem("end_time", f"The session ends ({end:%H:%M}) before it starts ({start:%H:%M})."))
    if "place_of_service" in data and data["place_of_service"] not in PLACES_OF_SERVICE:
        problems.append(Problem("place_of_service", "Choose a place of service from the list."))
    provider, code = data.get("provider"), data.get("service_code")
    if provider is not None and not provider.active:
        problems.append(Problem("provider", f"{provider} is inactive; choose an active rendering provider."))
    if code is not None and not code.active:
        problems.append(Problem("service_code", f"{code.code} is inactive."))
    problems += _authorization_fits(data)
    return problems


def _authorization_fits(data: Mapping[str, Any]) -> list[Problem]:
    auth, client, day, code = (data.get(k) for k in ("authorization", "client", "service_date", "service_code"))
    if auth is None:
        return []
    if client is not None and auth.client_id != client.id:
        return [Problem("authorization", "This authorization belongs to another client.")]
    if day is not None and not auth.covers(day):
        return [Problem("authorization", f"Authorization {auth.number} does not cover {day:%m/%d/%Y}.")]
    if code is not None and code not in auth.service_codes:
        return [Problem("authorization", f"Authorization {auth.number} does not cover {code.code}.")]
    return []


