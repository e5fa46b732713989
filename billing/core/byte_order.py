"""Text compared as Python compares it (by code point), whatever the database's collation.

A PostgreSQL database created with a locale collation (en_US.UTF-8) orders "de la Cruz" before "Dean" and
ignores case and spaces at first; Python's sort does not. Where SQL orders text that Python also orders (the
statement cycle run groups its clients in account order as read, the Statements page sorts the same accounts in
Python), both must agree: PostgreSQL's "C" collation compares UTF-8 bytes, which is code-point order; SQLite's
default BINARY collation already does.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import ReturnTypeFromArgs


class _ByteOrder(ReturnTypeFromArgs[Any]):
    inherit_cache = True
    name = "byte_order"


@compiles(_ByteOrder)
def _plain(element: _ByteOrder, compiler: Any, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(_ByteOrder, "postgresql")
def _c_collation(element: _ByteOrder, compiler: Any, **kw: Any) -> str:
    return f'({compiler.process(element.clauses, **kw)}) COLLATE "C"'


def in_byte_order(expression: ColumnElement[Any]) -> ColumnElement[Any]:
    """`expression`, compared by code point on every database."""
    return _ByteOrder(expression)
