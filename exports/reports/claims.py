"""Claims: one row per claim, by status, service-date window, payer, provider and location."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select

from billing.claims.models import Claim, ClaimLine, claim_number
from billing.claims.statuses import ClaimStatus
from billing.core.db import db
from billing.coverage.models import Payer
from billing.org.models import Location
from billing.org.queries import by_location
from billing.people.models import Client, Provider
from exports.columns import Column, Kind, Sheet
from exports.filters import ReportFilters
from exports.registry import COMMON_FILTERS, Report
from exports.reports.common import BATCH, streamed

COLUMNS = (
    Column("Claim"), Column("Status"), Column("Service date", Kind.DATE), Column("Client"), Column("Account"),
    Column("Payer"), Column("Provider"), Column("Provider NPI"), Column("Location"), Column("POS"),
    Column("Frequency"), Column("Units", Kind.INTEGER, total=True), Column("Billed", Kind.MONEY, total=True),
    Column("Held because"),
)
SUMMARY_COLUMNS = (
    Column("Status"), Column("Claims", Kind.INTEGER, total=True), Column("Billed", Kind.MONEY, total=True),
)


def conditions(filters: ReportFilters) -> list[ColumnElement[bool]]:
    where = [by_location(Claim.location_id, filters.scope)]
    if filters.date_from:
        where.append(Claim.service_date >= filters.date_from)
    if filters.date_to:
        where.append(Claim.service_date <= filters.date_to)
    if filters.payer_id:
        where.append(Claim.payer_id == filters.payer_id)
    if filters.provider_id:
        where.append(Claim.rendering_provider_id == filters.provider_id)
    if filters.status:
        where.append(Claim.status == ClaimStatus(filters.status))
    return where


def _query(filters: ReportFilters) -> Select[Any]:
    units = (
        select(ClaimLine.claim_id, func.sum(ClaimLine.units).label("units")).group_by(ClaimLine.claim_id).subquery()
    )
    return (
        select(
            Claim.id, Claim.status, Claim.service_date, Client.last_name, Client.first_name, Client.account_number,
            Payer.name.label("payer"), Provider.last_name.label("provider_last"),
            Provider.first_name.label("provider_first"), Provider.npi, Location.name.label("location"),
            Claim.place_of_service, Claim.frequency_code, units.c.units, Claim.total_charge, Claim.hold_reason,
        )
        .join(Client, Client.id == Claim.client_id)
        .outerjoin(Payer, Payer.id == Claim.payer_id)
        .join(Provider, Provider.id == Claim.rendering_provider_id)
        .join(Location, Location.id == Claim.location_id)
        .outerjoin(units, units.c.claim_id == Claim.id)
        .where(*conditions(filters))
        .order_by(Claim.service_date, Claim.id)
    )


_LABELS = {status: status.label for status in ClaimStatus}


def claim_rows(filters: ReportFilters) -> Iterator[Sequence[Any]]:
    # Unpacked by position (the query's column order): this runs once per claim of the window.
    for (claim_id, status, service_date, last_name, first_name, account, payer, provider_last, provider_first, npi,
         location, place_of_service, frequency_code, units, total_charge, hold_reason) in streamed(_query(filters),
                                                                                                   BATCH):
        yield (
            claim_number(claim_id), _LABELS[status], service_date, f"{last_name}, {first_name}", account,
            payer or "(no payer)", f"{provider_last}, {provider_first}", npi, location, place_of_service,
            frequency_code, int(units or 0), total_charge, hold_reason,
        )


def status_rows(filters: ReportFilters) -> list[Sequence[Any]]:
    query = (
        select(Claim.status, func.count(), func.sum(Claim.total_charge))
        .where(*conditions(filters))
        .group_by(Claim.status)
    )
    found = {status: (count, total) for status, count, total in db.session.execute(query)}
    return [(s.label, *found[s]) for s in ClaimStatus if s in found]


def count(filters: ReportFilters) -> int:
    return db.session.scalar(select(func.count()).select_from(Claim).where(*conditions(filters))) or 0


def sheets(filters: ReportFilters) -> list[Sheet]:
    return [Sheet("Claims", COLUMNS, claim_rows(filters)), Sheet("By status", SUMMARY_COLUMNS, status_rows(filters))]


REPORT = Report(
    name="claims",
    title="Claims",
    description="Every claim with status, service date, client, payer, provider, location, units and billed amount.",
    sheets=sheets,
    count=count,
    filters=COMMON_FILTERS | {"payer_id", "provider_id", "status"},
)
