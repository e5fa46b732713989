"""Checks on a therapy session before it is saved."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from billing.core.checks import optional_field_problem
from billing.core.errors import Problem
from billing.core.identifiers import modifiers_problem
from billing.core.reference import PLACES_OF_SERVICE


def session_problems(data: Mapping[str, Any], record: Any = None) -> list[Problem]:
    problems = [*optional_field_problem(data, "modifiers", modifiers_problem), *locked_field_problems(data, record)]
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


#: What a claim freezes on its sessions: changing any of these would change what was billed.
LOCKED_FIELDS = {
    "client": "client", "provider": "provider", "service_date": "date", "start_time": "start time",
    "end_time": "end time", "service_code": "service code", "modifiers": "modifiers",
}


def locked_field_problems(data: Mapping[str, Any], record: Any) -> list[Problem]:
    """A session on a claim (not voided) cannot change what was billed; a finalized note is final."""
    if record is None:
        return []
    from billing.claims.queries import claim_locking

    problems = []
    claim = claim_locking(record.id)
    if claim is not None:
        for name, label in LOCKED_FIELDS.items():
            if name in data and data[name] != getattr(record, name):
                problems.append(Problem(name, f"Locked by claim {claim.number} ({claim.status.label}): the {label} "
                                        "cannot change. Retract the claim first (or correct it if it was sent)."))
    if record.note_status.value == "finalized" and "note_text" in data and data["note_text"] != record.note_text:
        problems.append(Problem("note_text", "The note is finalized and can no longer be edited."))
    return problems
