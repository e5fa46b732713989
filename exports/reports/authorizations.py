"""Authorization Utilization: units approved, used and remaining, and what ends in the next 30 days.

"Used" is what the payer has been billed: units on live submitted claims (a void or a correction gives
them back), the figure the payer counts against the authorization. Units on claims not sent yet are
shown beside it, so a clinic sees both what is left and what will be left once this week's claims go.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select

from billing.claims.queries import authorization_units_used
from billing.core.db import db
from billing.core.id_lists import any_of
from billing.core.time import practice_today
from billing.coverage.models import Authorization, InsurancePolicy, Payer, ServiceCode, authorization_service_code
from billing.org.queries import by_location
from billing.people.models import Client
from billing.submissions.queries import authorization_units_submitted
from exports.columns import Column, Kind, Sheet
from exports.filters import ReportFilters
from exports.registry import COMMON_FILTERS, Report
from exports.reports.common import BATCH

ENDING_SOON_DAYS = 30

COLUMNS = (
    Column("Authorization"), Column("Client"), Column("Account"), Column("Payer"), Column("Service codes"),
    Column("Starts", Kind.DATE), Column("Ends", Kind.DATE), Column("Days left", Kind.INTEGER),
    Column("Approved", Kind.INTEGER, total=True), Column("Used", Kind.INTEGER, total=True),
    Column("On unsent claims", Kind.INTEGER, total=True), Column("Remaining", Kind.INTEGER, total=True),
    Column("Remaining after unsent", Kind.INTEGER, total=True),
)


def conditions(filters: ReportFilters) -> list[ColumnElement[bool]]:
    """Authorizations overlapping the date window, for clients in scope."""
    where = [by_location(Client.location_id, filters.scope)]
    if filters.date_from:
        where.append(Authorization.ends_on >= filters.date_from)
    if filters.date_to:
        where.append(Authorization.starts_on <= filters.date_to)
    if filters.payer_id:
        where.append(InsurancePolicy.payer_id == filters.payer_id)
    return where


def _codes(auth_ids: list[int]) -> dict[int, list[str]]:
    codes: dict[int, list[str]] = defaultdict(list)
    rows = db.session.execute(
        select(authorization_service_code.c.authorization_id, ServiceCode.code)
        .join(ServiceCode, ServiceCode.id == authorization_service_code.c.service_code_id)
        .where(any_of(authorization_service_code.c.authorization_id, auth_ids))
        .order_by(ServiceCode.code)
    )
    for auth_id, code in rows:
        codes[auth_id].append(code)
    return codes


def utilization_rows(filters: ReportFilters, *where: ColumnElement[bool]) -> Iterator[Sequence[Any]]:
    """Streamed: authorizations come BATCH at a time, each batch's units and codes read with it."""
    today = filters.as_of or practice_today()
    result = db.session.execute(
        select(Authorization.id, Authorization.number, Authorization.starts_on, Authorization.ends_on,
               Authorization.units_approved, Client.last_name, Client.first_name, Client.account_number,
               Payer.name.label("payer"))
        .join(Client, Client.id == Authorization.client_id)
        .join(InsurancePolicy, InsurancePolicy.id == Authorization.policy_id)
        .join(Payer, Payer.id == InsurancePolicy.payer_id)
        .where(*conditions(filters), *where)
        .order_by(Authorization.ends_on, Authorization.number, Authorization.id)
        .execution_options(yield_per=BATCH)
    )
    for rows in result.partitions():
        ids = [r.id for r in rows]
        billed, used, codes = authorization_units_used(ids), authorization_units_submitted(ids), _codes(ids)
        for r in rows:
            sent, unsent = used.get(r.id, 0), billed.get(r.id, 0) - used.get(r.id, 0)
            yield (r.number, f"{r.last_name}, {r.first_name}", r.account_number, r.payer,
                   ", ".join(codes.get(r.id, [])), r.starts_on, r.ends_on, max((r.ends_on - today).days, 0),
                   r.units_approved, sent, unsent, r.units_approved - sent, r.units_approved - sent - unsent)


def ending_soon(filters: ReportFilters, today: date) -> Iterator[Sequence[Any]]:
    """The same rows for the authorizations ending from today to ENDING_SOON_DAYS on: its own query, not a filter
    over the first sheet's rows, so neither sheet is held in memory."""
    horizon = today + timedelta(days=ENDING_SOON_DAYS)
    return utilization_rows(filters, Authorization.ends_on >= today, Authorization.ends_on <= horizon)


def count(filters: ReportFilters) -> int:
    query = (
        select(func.count()).select_from(Authorization)
        .join(Client, Client.id == Authorization.client_id)
        .join(InsurancePolicy, InsurancePolicy.id == Authorization.policy_id)
        .where(*conditions(filters))
    )
    return db.session.scalar(query) or 0


def sheets(filters: ReportFilters) -> list[Sheet]:
    today = filters.as_of or practice_today()
    return [
        Sheet("Utilization", COLUMNS, utilization_rows(filters)),
        Sheet(f"Ending in {ENDING_SOON_DAYS} days", COLUMNS, ending_soon(filters, today)),
    ]


REPORT = Report(
    name="authorization-utilization",
    title="Authorization Utilization",
    description="Units approved, used (submitted to the payer), on unsent claims and remaining per authorization, "
                "and authorizations ending in the next 30 days.",
    sheets=sheets,
    count=count,
    filters=COMMON_FILTERS | {"payer_id", "as_of"},
)
