"""Every grid's list page sends as many statements for 30 rows as for 3 (no query per row), on both databases.

The grids are read from the admin, so a new one is covered without editing this test. Rows come from the grid's
factory where tests/worlds/factories.py has one (each row then has its own related records, so a relationship
loaded per row would show), else as copies of a row the seeded world made (unique columns made distinct).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from factory.base import FactoryMetaClass
from flask import Flask
from sqlalchemy import Enum, Integer, String, func, insert, select

from billing.core.db import db
from tests.admin_views.list_pages import list_views, seed_every_grid, statements_sent
from tests.worlds import factories

pytestmark = pytest.mark.slow  # the seeded world (an 835 through pyx12) and ~700 rows through factories

FEW, MANY = 3, 30


def _factories() -> dict[type[Any], Any]:
    found = [f for f in vars(factories).values() if isinstance(f, FactoryMetaClass) and f._meta.model is not None]
    return {f._meta.model: f for f in found}


def _unique_columns(table: Any) -> set[str]:
    names = {c.name for c in table.columns if c.unique}
    for constraint in table.constraints:
        if constraint.__class__.__name__ == "UniqueConstraint":
            names |= {c.name for c in constraint.columns}
    return names | {c.name for i in table.indexes if i.unique for c in i.columns}


def _spread(table: Any, unique: set[str], needed: int) -> tuple[str, list[Any]] | None:
    """A unique reference to a table with enough rows not yet referred to (failed_charge's claim): each copy
    takes its own."""
    for column in table.columns:
        for fk in column.foreign_keys if column.name in unique else ():
            free = select(fk.column).where(fk.column.not_in(select(column))).order_by(fk.column).limit(needed)
            parents = list(db.session.scalars(free))
            if len(parents) == needed:
                return column.name, parents
    return None


def _copy(row: dict[str, Any], have: int, n: int, table: Any, unique: set[str], spread: tuple[str, list[Any]] | None
          ) -> dict[str, Any]:
    copy = {}
    for column in table.columns:
        value = row[column.name]
        if column.primary_key:
            continue
        if spread is not None and column.name == spread[0]:
            value = spread[1][n]
        elif spread is not None:
            pass
        elif column.name in unique and isinstance(column.type, String) and not isinstance(column.type, Enum):
            value = f"{value[: (column.type.length or 40) - 6]}-{have + n}"
        elif column.name in unique and isinstance(column.type, Integer) and not column.foreign_keys:
            value = value + 1000 + have + n
        elif isinstance(value, datetime | date):
            value = value - timedelta(days=have + n)
        copy[column.name] = value
    return copy


def _grow(model: type[Any], rows: int, makers: dict[type[Any], Any]) -> None:
    """Add rows of `model` until it holds `rows`."""
    have = db.session.scalar(select(func.count()).select_from(model)) or 0
    if have >= rows:
        return
    if model in makers:
        makers[model].create_batch(rows - have)
        return
    table = model.__table__
    seed = db.session.execute(select(table).order_by(*table.primary_key.columns).limit(1)).mappings().one()
    unique = _unique_columns(table)
    spread = _spread(table, unique, rows - have)
    db.session.execute(insert(table), [_copy(dict(seed), have, n, table, unique, spread) for n in range(rows - have)])


def _statements(client: Any, url: str) -> int:
    with statements_sent() as sent:
        response = client.get(url + "?page_size=50")
    assert response.status_code == 200, url
    return len(sent)


def test_every_list_page_costs_the_same_statements_for_3_and_30_rows(app: Flask, client: Any, login: Any) -> None:
    seed_every_grid(client, login)
    makers = _factories()
    counts: dict[str, list[int]] = {}
    for view in list_views(app):
        url = f"{view.url}/"
        has_rows = view.model in makers or db.session.scalar(select(func.count()).select_from(view.model))
        assert has_rows, f"{url}: no factory and no row in the seeded world (list_pages.seed_every_grid) to copy"
        counts[url] = []
        for rows in (FEW, MANY):
            _grow(view.model, rows, makers)
            db.session.commit()
            counts[url].append(_statements(client, url))
    growing = {url: pair for url, pair in counts.items() if pair[0] != pair[1]}
    assert not growing, f"statements per page ({FEW} rows, {MANY} rows) grow with the rows: {growing}"
