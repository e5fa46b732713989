"""Small helpers shared by the per-area checks modules: each check returns problems, never raises."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from billing.core.errors import Problem


def field_problem(data: Mapping[str, Any], name: str, check: Callable[[Any], str | None]) -> list[Problem]:
    """Run a value check (from billing.core.identifiers) on one field, when the form has that field."""
    if name not in data:
        return []
    message = check(data[name])
    return [Problem(name, message)] if message else []


def optional_field_problem(
    data: Mapping[str, Any], name: str, check: Callable[[Any], str | None]
) -> list[Problem]:
    return field_problem(data, name, check) if data.get(name) else []


def date_order_problem(data: Mapping[str, Any], start: str, end: str, what: str = "end date") -> list[Problem]:
    first: date | None = data.get(start)
    last: date | None = data.get(end)
    if first and last and last < first:
        return [Problem(end, f"The {what} ({last:%m/%d/%Y}) is before the start ({first:%m/%d/%Y}).")]
    return []


def required(data: Mapping[str, Any], *names: str) -> list[Problem]:
    return [
        Problem(n, "This field is required.")
        for n in names
        if n in data and (data[n] is None or (isinstance(data[n], str) and not data[n].strip()))
    ]


def ranges_overlap(a_start: date, a_end: date | None, b_start: date, b_end: date | None) -> bool:
    return (b_end is None or a_start <= b_end) and (a_end is None or b_start <= a_end)
