"""Pieces every report shares: claim numbers, names as people read them, scope and window conditions."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Result, Select, func, select
from sqlalchemy.orm import InstrumentedAttribute

from billing.claims.models import Claim
from billing.core.db import db
from billing.org.queries import by_location
from exports.filters import ReportFilters

#: Rows fetched per round trip by the streaming reports.
BATCH = 2000


def streamed(query: Select[Any], batch: int, *, planner: dict[str, str] | None = None) -> Result[Any]:
    """The rows of a long query, `batch` a round trip (a server-side cursor on PostgreSQL), run as a Core statement on
    the session's connection: the same rows and types as `db.session.execute`, without the ORM's work per row.

    `planner`: PostgreSQL planner settings for this query alone (the cursor is planned when it is declared, so they
    are put back as soon as it is); ignored elsewhere.
    """
    connection = db.session.connection()
    if not planner or connection.dialect.name != "postgresql":
        return connection.execute(query.execution_options(yield_per=batch))
    before = {name: connection.scalar(select(func.current_setting(name))) for name in planner}
    for name, value in planner.items():
        connection.execute(select(func.set_config(name, value, True)))  # LOCAL: this transaction's only
    try:
        return connection.execute(query.execution_options(yield_per=batch))
    finally:
        for name, value in before.items():
            connection.execute(select(func.set_config(name, value, True)))


def person(last: str | None, first: str | None) -> str:
    return f"{last}, {first}" if last else "(unknown)"


def month_of(day: date) -> str:
    """"2026-04": sorts and filters as text in a spreadsheet, one value per calendar month."""
    return f"{day:%Y-%m}"


def claim_scope(filters: ReportFilters) -> list[ColumnElement[bool]]:
    """Claims in the chosen company, practice or location, for the chosen payer and provider."""
    where = [by_location(Claim.location_id, filters.scope)]
    if filters.payer_id:
        where.append(Claim.payer_id == filters.payer_id)
    if filters.provider_id:
        where.append(Claim.rendering_provider_id == filters.provider_id)
    return where


def in_window(column: InstrumentedAttribute[date], filters: ReportFilters) -> list[ColumnElement[bool]]:
    where = []
    if filters.date_from:
        where.append(column >= filters.date_from)
    if filters.date_to:
        where.append(column <= filters.date_to)
    return where
