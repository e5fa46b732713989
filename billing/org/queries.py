"""Scope: a company, optionally narrowed to one practice or one location, and the SQL that applies it.

Reports and grids filter by scope. Each table reaches the organisation through one column:
`company_id`, `practice_id`, `location_id` or `client_id`; the helpers below turn a scope into a
WHERE clause on that column with IN-subqueries, so they never clash with a view's own joins.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, select, true
from sqlalchemy.orm import InstrumentedAttribute, selectinload

from billing.core.db import db
from billing.org.models import Company, Location, Practice


@dataclass(frozen=True)
class Scope:
    company_id: int | None = None
    practice_id: int | None = None
    location_id: int | None = None

    @property
    def is_everything(self) -> bool:
        return self.company_id is None


def resolve_scope(company_id: int | None, practice_id: int | None, location_id: int | None) -> Scope:
    """The narrowest consistent scope for the given ids (unknown ids are dropped, parents filled in)."""
    if location_id and (location := db.session.get(Location, location_id)):
        return Scope(location.practice.company_id, location.practice_id, location.id)
    if practice_id and (practice := db.session.get(Practice, practice_id)):
        return Scope(practice.company_id, practice.id, None)
    if company_id and db.session.get(Company, company_id):
        return Scope(company_id, None, None)
    return Scope()


def describe_scope(scope: Scope) -> str:
    if scope.is_everything:
        return "All companies"
    parts = [db.session.get(Company, scope.company_id)]
    if scope.practice_id:
        parts.append(db.session.get(Practice, scope.practice_id))
    if scope.location_id:
        parts.append(db.session.get(Location, scope.location_id))
    return " › ".join(str(p) for p in parts if p is not None)


def organisation_tree() -> list[Company]:
    """Companies with their practices and locations, for the scope picker (small tables)."""
    loaders = selectinload(Company.practices).selectinload(Practice.locations)
    return list(db.session.scalars(select(Company).options(loaders).order_by(Company.legal_name)))


def by_company(column: InstrumentedAttribute[int], scope: Scope) -> ColumnElement[bool]:
    return true() if scope.is_everything else column == scope.company_id


def by_practice(column: InstrumentedAttribute[int], scope: Scope) -> ColumnElement[bool]:
    if scope.is_everything:
        return true()
    if scope.practice_id:
        return column == scope.practice_id
    return column.in_(select(Practice.id).where(Practice.company_id == scope.company_id))


def by_location(column: InstrumentedAttribute[int], scope: Scope) -> ColumnElement[bool]:
    if scope.is_everything:
        return true()
    if scope.location_id:
        return column == scope.location_id
    return column.in_(select(Location.id).where(by_practice(Location.practice_id, scope)))


