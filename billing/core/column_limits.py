"""One guard, before every flush, that a value fits its column: the same refusal on SQLite and PostgreSQL.

PostgreSQL refuses a NUL byte in text, a VARCHAR longer than its length, a number past NUMERIC(12,2) or an
INTEGER past 2^31-1, each with a database error that would be a 500 carrying the SQL and its parameters.
SQLite stores all of them without a word. So the limits are checked here, on every new or changed object,
and a value that would not fit is refused as `ValidationFailed` naming the field and its limit, before
anything is written. Forms and commands that check their input first never reach this; it is the backstop
for every path that does not.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import JSON, BigInteger, Enum, Float, Integer, Numeric, String, event, inspect
from sqlalchemy.orm import Mapper, Session

from billing.core.errors import Problem, ValidationFailed

INT_LIMITS = {Integer: 2**31 - 1, BigInteger: 2**63 - 1}
#: JSON documents deeper than this are refused: PostgreSQL's parser and ours both recurse per level.
MAX_JSON_DEPTH = 64


def _limit_of(column_type: Any) -> tuple[str, Any] | None:
    """What a column's type can hold, or None when no check applies (enums check themselves)."""
    if isinstance(column_type, Enum):
        return None
    if isinstance(column_type, String):  # Text is a String without a length
        return ("text", column_type.length)
    if isinstance(column_type, Numeric) and not isinstance(column_type, Float) and column_type.precision is not None:
        return ("number", Decimal(10) ** (column_type.precision - (column_type.scale or 0)))
    if isinstance(column_type, BigInteger):
        return ("integer", INT_LIMITS[BigInteger])
    if isinstance(column_type, Integer):
        return ("integer", INT_LIMITS[Integer])
    if isinstance(column_type, JSON):
        return ("json", MAX_JSON_DEPTH)
    return None


@cache
def _checked_columns(mapper: Mapper[Any]) -> tuple[tuple[str, str, Any], ...]:
    """(attribute, kind, limit) for each column of a mapped class that has a limit to check."""
    checked = []
    for attr in mapper.column_attrs:
        column_type = getattr(attr.expression, "type", None)
        impl = getattr(column_type, "impl_instance", column_type)  # a TypeDecorator checks as what it stores
        limit = _limit_of(impl)
        if limit is not None:
            checked.append((attr.key, *limit))
    return tuple(checked)


def _label(key: str) -> str:
    return key.replace("_", " ").capitalize()


def value_problem(key: str, kind: str, limit: Any, value: Any) -> Problem | None:
    """Why `value` does not fit a column of this kind and limit, or None when it does."""
    if value is None:
        return None
    if kind == "text" and isinstance(value, str):
        if "\x00" in value:
            return Problem(key, f"{_label(key)} contains a NUL character (\\0); remove it.")
        if limit is not None and len(value) > limit:
            return Problem(key, f"{_label(key)} is {len(value):,} characters long; at most {limit:,} fit.")
    elif kind == "number" and isinstance(value, Decimal | int) and not isinstance(value, bool):
        if isinstance(value, Decimal) and not value.is_finite():
            return Problem(key, f"{_label(key)} must be a finite number.")
        if abs(value) >= limit:
            return Problem(key, f"{_label(key)} must be less than {limit:,} in size.")
    elif kind == "integer" and isinstance(value, int) and not -limit - 1 <= value <= limit:
        return Problem(key, f"{_label(key)} must be between {-limit - 1:,} and {limit:,}.")
    elif kind == "json":
        return _json_problem(key, value, limit)
    return None


def _json_problem(key: str, document: Any, max_depth: int) -> Problem | None:
    """Walk a JSON value without recursion: too deep, or a string holding NUL (PostgreSQL refuses it)."""
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > max_depth:
            return Problem(key, f"{_label(key)} is nested more than {max_depth} levels deep.")
        children: Iterator[Any]
        if isinstance(value, dict):
            children = (item for pair in value.items() for item in pair)
        elif isinstance(value, list | tuple):
            children = iter(value)
        else:
            if isinstance(value, str) and "\x00" in value:
                return Problem(key, f"{_label(key)} contains a NUL character (\\0); remove it.")
            continue
        stack.extend((child, depth + 1) for child in children)
    return None


def object_problems(obj: Any, *, changed_only: bool) -> list[Problem]:
    """Problems of one object's column values; of its changed attributes only, for an object already saved."""
    state = inspect(obj)
    problems = []
    changed = state.committed_state  # the attributes set since the last load or flush (cheaper than `attrs`)
    for key, kind, limit in _checked_columns(state.mapper):
        if changed_only and key not in changed:
            continue
        problem = value_problem(key, kind, limit, state.dict.get(key))
        if problem is not None:
            problems.append(problem)
    return problems


@event.listens_for(Session, "before_flush")
def _values_fit_their_columns(session: Session, _context: Any, _instances: Any) -> None:
    problems = [p for obj in session.new for p in object_problems(obj, changed_only=False)]
    problems += [p for obj in session.dirty for p in object_problems(obj, changed_only=True)]
    if problems:
        raise ValidationFailed(list(dict.fromkeys(problems)))
