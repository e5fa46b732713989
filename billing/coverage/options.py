"""Option lists for pickers and filters: small tables, ordered for people to scan."""

from __future__ import annotations

from sqlalchemy import select

from billing.core.db import db
from billing.coverage.models import Payer, ServiceCode
from billing.org.models import Location
from billing.people.models import Provider


def location_options() -> list[tuple[int, str]]:
    return [(loc.id, loc.name) for loc in db.session.scalars(select(Location).order_by(Location.name))]


def provider_options() -> list[tuple[int, str]]:
    rows = db.session.scalars(select(Provider).order_by(Provider.last_name, Provider.first_name))
    return [(p.id, f"{p.last_name}, {p.first_name}") for p in rows]


def payer_options() -> list[tuple[int, str]]:
    return [(p.id, p.name) for p in db.session.scalars(select(Payer).order_by(Payer.name))]


def service_code_options() -> list[tuple[int, str]]:
    rows = db.session.execute(select(ServiceCode.id, ServiceCode.code).order_by(ServiceCode.code).distinct())
    return [(row.id, row.code) for row in rows]
