"""Lists of ids in SQL at any length: `any_of(Claim.id, ids)` instead of `Claim.id.in_(ids)`.

`in_()` binds one parameter per id: 83,733 claims passed PostgreSQL's 65,535-parameter limit, and long before
that each statement is a new one to parse and plan. `any_of` binds the whole list as ONE parameter however long
it is: an array compared with `= ANY(:ids)` on PostgreSQL, a JSON array read back with `json_each` on SQLite.
Short lists (the common page of 20) keep the plain `IN (...)`, which every planner handles best.

The construct is compiled per dialect at execution time and is therefore never cached (its values live in
the compiled form); a statement that carries a long list is one the caller runs once anyway.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import ClauseElement, ColumnElement, any_, bindparam, column, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import coercions, roles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.types import NullType, String

#: Up to this many values stay an ordinary `IN (...)` (one parameter each); beyond it, one bound list.
INLINE_LIMIT = 100


class _AnyOf(ColumnElement[bool]):
    """`column IN <one bound list>`, written for the dialect at hand (see the module docstring)."""

    inherit_cache = False  # the values are bound at compile time, so a cached form would keep stale ones
    type = NullType()  # a predicate, not a boolean column: SQLite must not get `... = 1` after it

    def __init__(self, target: ColumnElement[Any], values: list[Any]) -> None:
        self.target = coercions.expect(roles.ExpressionElementRole, target)
        self.values = values

    @property
    def _from_objects(self) -> list[Any]:  # `select(func.count()).where(any_of(...))` finds its table here
        return self.target._from_objects


@compiles(_AnyOf)
def _json_each(element: _AnyOf, compiler: SQLCompiler, **kw: Any) -> str:
    """SQLite (and any other backend with JSON1): `col IN (SELECT value FROM json_each(:ids))`."""
    listed = select(column("value", element.target.type)).select_from(
        func.json_each(bindparam(None, json.dumps(element.values), type_=String()))
    )
    return f"({compiler.process(element.target.in_(listed.scalar_subquery()), **kw)})"


@compiles(_AnyOf, "postgresql")
def _array(element: _AnyOf, compiler: SQLCompiler, **kw: Any) -> str:
    """PostgreSQL: `col = ANY(:ids)`, the list bound as one array of the column's type."""
    param = bindparam(None, element.values, type_=ARRAY(element.target.type))
    return f"({compiler.process(element.target == any_(param), **kw)})"


def any_of(target: ColumnElement[Any], values: Iterable[Any]) -> ColumnElement[bool]:
    """`target IN values` with a bounded number of bound parameters, whatever the number of values.

    A subquery (or any other SQL expression) is passed through to `in_()` as it is.
    """
    if isinstance(values, ClauseElement) or hasattr(values, "__clause_element__"):
        return target.in_(values)  # type: ignore[arg-type]
    listed = list(dict.fromkeys(values))  # no duplicates: the planner's estimate and the array stay small
    if len(listed) <= INLINE_LIMIT:
        return target.in_(listed)
    return _AnyOf(target, listed)


def in_named_list(target: ColumnElement[Any], name: str, dialect: str) -> ColumnElement[bool]:
    """`target IN :name` for a statement built once and run many times (pass `named_list_value` as `name`):
    a plain, cacheable expression for the given dialect, since the list is bound at each execution."""
    if dialect == "postgresql":
        return target == any_(bindparam(name, type_=ARRAY(target.type)))
    listed = select(column("value", target.type)).select_from(func.json_each(bindparam(name, type_=String())))
    return target.in_(listed.scalar_subquery())


def named_list_value(values: Iterable[Any], dialect: str) -> Any:
    """The value to bind for an `in_named_list` parameter."""
    listed = list(dict.fromkeys(values))
    return listed if dialect == "postgresql" else json.dumps(listed)
