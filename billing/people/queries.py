"""Reads about people scoped to what the user may see: clients under a company, practice or location."""

from __future__ import annotations

from sqlalchemy import ColumnElement, select, true
from sqlalchemy.orm import InstrumentedAttribute

from billing.org.queries import Scope, by_location
from billing.people.models import Client


def by_client(column: InstrumentedAttribute[int], scope: Scope) -> ColumnElement[bool]:
    if scope.is_everything:
        return true()
    return column.in_(select(Client.id).where(by_location(Client.location_id, scope)))
