"""Small helpers shared by the per-area checks modules: each check returns problems, never raises."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from billing.core.errors import NotFound, Problem

#: The largest value of an INTEGER column on PostgreSQL (ids, positions, units, line numbers, page numbers).
MAX_INT = 2**31 - 1
#: The largest id our tables can hold: their ids are INTEGER, and PostgreSQL refuses a larger value even in
#: a WHERE clause (a DataError, so a 500), where SQLite's driver overflows only past 2^63-1.
MAX_ID = MAX_INT
# ASCII only: str.isdigit() and int() also take superscripts, Arabic-Indic and full-width digits.
_INTEGER = re.compile(r"-?[0-9]{1,19}")


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


def parse_int(value: Any, *, low: int, high: int) -> int | None:
    """An integer written in ASCII digits (a leading minus allowed) within low..high, else None.

    An int passes through when in range (a click option or a route converter parsed it already).
    """
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and _INTEGER.fullmatch(value):
        number = int(value)
    else:
        return None
    return number if low <= number <= high else None


def parse_id(value: Any) -> int | None:
    """A record id from a URL, a form or a command line: 1..MAX_ID in ASCII digits, else None.

    "", "²", "-1", "1e3", "0x10", " 1" and 2^31 are all None, so the caller answers "not found" instead of
    handing the database a value it would choke on (PostgreSQL) or overflow with (SQLite).
    """
    return parse_int(value, low=1, high=MAX_ID)


def parse_ids(values: Any) -> list[int] | None:
    """Every id of a list (checkboxes, a comma-separated field), or None when any one of them is not an id."""
    ids = [parse_id(v) for v in values]
    return None if any(i is None for i in ids) else [i for i in ids if i is not None]


def record_id(value: Any, what: str) -> int:
    """`parse_id`, raising NotFound naming `what` for anything that cannot be an id."""
    number = parse_id(value)
    if number is None:
        raise NotFound(f"There is no {what} with the id {str(value)[:40]!r}.")
    return number
