"""Text ordered in SQL through `in_byte_order` comes back in Python's order (code points), on either database and
whatever collation the text carries (a PostgreSQL database made with a locale sorts "de la Cruz" before "Dean")."""

from __future__ import annotations

import pytest
from sqlalchemy import column, literal, select, union_all

from billing.core.byte_order import in_byte_order
from billing.core.db import db

WORDS = ["de la Cruz", "Dean", "dean", "Émile", "emile", "Zoë", "zoe", "A-4", "a-1", "B-2", " b", "b"]


def _words(collation: str | None = None):
    rows = union_all(*(select(literal(word).label("word")) for word in WORDS)).subquery()
    return rows.c.word.collate(collation) if collation else rows.c.word


def test_sql_orders_text_as_python_sorts_it(world):
    word = _words()
    assert db.session.scalars(select(word).order_by(in_byte_order(word))).all() == sorted(WORDS)
    assert db.session.scalar(select(db.func.min(in_byte_order(word)))) == min(WORDS)


@pytest.mark.postgresql
def test_a_locale_collation_is_overridden(world):
    word = _words("en-US-x-icu")
    assert db.session.scalars(select(word).order_by(word)).all() != sorted(WORDS)  # the locale's own order
    assert db.session.scalars(select(word).order_by(in_byte_order(word))).all() == sorted(WORDS)


def test_it_renders_the_c_collation_on_postgresql_only():
    from sqlalchemy.dialects import postgresql, sqlite

    expression = in_byte_order(column("name"))
    assert str(expression.compile(dialect=postgresql.dialect())) == '(name) COLLATE "C"'
    assert str(expression.compile(dialect=sqlite.dialect())) == "name"
