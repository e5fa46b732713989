"""Option lists for pickers and filters: small tables, ordered for people to scan."""

from __future__ import annotations

from sqlalchemy import ColumnElement, func, or_, select

from billing.core.db import db
from billing.coverage.models import Payer, ServiceCode
from billing.org.models import Location
from billing.people.models import Provider


# Plain columns, not ORM objects: a billing company's list pages offer hundreds of providers in their filters.
def location_options() -> list[tuple[int, str]]:
    rows = db.session.execute(select(Location.id, Location.name).order_by(Location.name))
    return [(row.id, row.name) for row in rows]


def provider_options() -> list[tuple[int, str]]:
    rows = db.session.execute(select(Provider.id, Provider.last_name, Provider.first_name)
                              .order_by(Provider.last_name, Provider.first_name))
    return [(row.id, f"{row.last_name}, {row.first_name}") for row in rows]


#: How many providers one search answers at most (a picker shows ten at a time and asks for more as it scrolls).
MAX_MATCHES = 50


def provider_label(last_name: str, first_name: str, npi: str) -> str:
    return f"{last_name}, {first_name} (NPI {npi})"


def _of_company(company_id: int | None) -> list[ColumnElement[bool]]:
    return [] if company_id is None else [Provider.company_id == company_id]


def provider_matches(query: str, *, company_id: int | None = None, offset: int = 0,
                     limit: int = 10) -> list[tuple[int, str]]:
    """Providers (of the company, when one is chosen) whose last name, first name or NPI starts with `query` (any
    case), by name: the Reports provider picker's search, replacing a select of every provider (8,000 at a billing
    company)."""
    term = query.strip().lower()
    if not term:
        return []
    starts = [func.lower(column).startswith(term, autoescape=True)
              for column in (Provider.last_name, Provider.first_name, Provider.npi)]
    rows = db.session.execute(
        select(Provider.id, Provider.last_name, Provider.first_name, Provider.npi)
        .where(or_(*starts), *_of_company(company_id))
        .order_by(Provider.last_name, Provider.first_name, Provider.id)
        .offset(max(offset, 0)).limit(min(max(limit, 1), MAX_MATCHES))
    )
    return [(row.id, provider_label(row.last_name, row.first_name, row.npi)) for row in rows]


def provider_named(provider_id: int, *, company_id: int | None = None) -> str | None:
    """The picker's label of one provider, or None when there is no such provider (in the company, if given)."""
    row = db.session.execute(select(Provider.last_name, Provider.first_name, Provider.npi)
                             .where(Provider.id == provider_id, *_of_company(company_id))).first()
    return provider_label(*row) if row else None


def payer_options() -> list[tuple[int, str]]:
    return [(row.id, row.name) for row in db.session.execute(select(Payer.id, Payer.name).order_by(Payer.name))]


def service_code_options() -> list[tuple[int, str]]:
    rows = db.session.execute(select(ServiceCode.id, ServiceCode.code).order_by(ServiceCode.code).distinct())
    return [(row.id, row.code) for row in rows]
