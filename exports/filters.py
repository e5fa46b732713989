"""The filters a report accepts, and how they read in a title block."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import date
from typing import Any

from billing.core.db import db
from billing.core.errors import Problem, ValidationFailed
from billing.coverage.models import Payer
from billing.org.models import Company, Location, Practice
from billing.org.queries import Scope, resolve_scope
from billing.people.models import Provider
from rules.models import Rule


@dataclass(frozen=True)
class ReportFilters:
    """Every filter any report understands; each report reads the ones it names in `Report.filters`."""

    date_from: date | None = None
    date_to: date | None = None
    company_id: int | None = None
    practice_id: int | None = None
    location_id: int | None = None
    payer_id: int | None = None
    provider_id: int | None = None
    status: str | None = None
    #: Failed Charges only: the billing run number, one rule, and whether fixed failures are left out.
    run: int | None = None
    rule_id: int | None = None
    open_only: bool | None = None
    #: "Today" for aging and authorizations ending soon; fixed in tests, the practice's date otherwise.
    as_of: date | None = None

    @property
    def scope(self) -> Scope:
        return resolve_scope(self.company_id, self.practice_id, self.location_id)

    def to_json(self) -> dict[str, Any]:
        return {f.name: _json_value(getattr(self, f.name)) for f in fields(self) if getattr(self, f.name) is not None}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ReportFilters:
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = data.get(f.name)
            if raw in (None, ""):
                continue
            values[f.name] = date.fromisoformat(raw) if f.name in {"date_from", "date_to", "as_of"} else raw
        return cls(**values)

    def checked(self) -> ReportFilters:
        """Refuse an inverted date window before any query runs."""
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValidationFailed([Problem("date_to", "The end date is before the start date.")])
        return self

    def with_as_of(self, today: date) -> ReportFilters:
        return self if self.as_of else replace(self, as_of=today)


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def describe_filters(filters: ReportFilters) -> list[tuple[str, str]]:
    """(name, value) pairs in words, for the title block."""
    described: list[tuple[str, str]] = []
    if filters.date_from or filters.date_to:
        start = filters.date_from.isoformat() if filters.date_from else "the beginning"
        end = filters.date_to.isoformat() if filters.date_to else "today"
        described.append(("Dates", f"{start} to {end}"))
    lookups = (("Practice", filters.practice_id, Practice), ("Location", filters.location_id, Location),
               ("Payer", filters.payer_id, Payer), ("Provider", filters.provider_id, Provider))
    for label, ident, model in lookups:
        if ident is not None:
            described.append((label, str(db.session.get(model, ident) or f"#{ident} (not found)")))
    if filters.status:
        described.append(("Status", filters.status.replace("_", " ").capitalize()))
    if filters.run is not None:
        described.append(("Run number", str(filters.run)))
    if filters.rule_id is not None:
        described.append(("Rule", str(db.session.get(Rule, filters.rule_id) or f"#{filters.rule_id} (not found)")))
    if filters.open_only:
        described.append(("Only", "failures not yet fixed"))
    if filters.as_of:
        described.append(("As of", filters.as_of.isoformat()))
    return described


def company_label(filters: ReportFilters) -> str:
    company = db.session.get(Company, filters.company_id) if filters.company_id else None
    return company.legal_name if company else "All companies"
