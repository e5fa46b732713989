"""Option lists for pickers and filters: small tables, ordered for people to scan."""

from __future__ import annotations

from sqlalchemy import select

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


def payer_options() -> list[tuple[int, str]]:
    return [(row.id, row.name) for row in db.session.execute(select(Payer.id, Payer.name).order_by(Payer.name))]


def service_code_options() -> list[tuple[int, str]]:
    rows = db.session.execute(select(ServiceCode.id, ServiceCode.code).order_by(ServiceCode.code).distinct())
    return [(row.id, row.code) for row in rows]
