"""Access: the PHI access log (who viewed, exported or downloaded which record, when, from where), newest first.

Admins only (Report.readers): the log says who looked at which client, and the people it watches must not read it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import func

from billing.core.access_log import AccessFilters, access_query
from billing.core.db import db
from billing.core.time import practice_timezone
from billing.people.models import Role
from exports.columns import Column, Kind, Sheet
from exports.filters import ReportFilters
from exports.registry import Report
from exports.reports.common import BATCH

COLUMNS = (
    Column("When (practice time)"), Column("User"), Column("Did"), Column("Record type"),
    Column("Record id", Kind.INTEGER), Column("Filters / file"), Column("Address"), Column("Page"),
)


def _filters(filters: ReportFilters) -> AccessFilters:
    return AccessFilters(date_from=filters.date_from, date_to=filters.date_to)


def access_rows(filters: ReportFilters) -> Iterator[Sequence[Any]]:
    zone = practice_timezone()
    query = access_query(_filters(filters)).execution_options(yield_per=BATCH)
    for entry in db.session.scalars(query):
        yield (f"{entry.at.astimezone(zone):%Y-%m-%d %H:%M:%S}", entry.actor, entry.kind.value,
               str(entry.subject_type), entry.subject_id, entry.detail or "", entry.ip or "", entry.path or "")


def count(filters: ReportFilters) -> int:
    query = access_query(_filters(filters)).order_by(None).with_only_columns(func.count())
    return db.session.scalar(query) or 0


def sheets(filters: ReportFilters) -> list[Sheet]:
    return [Sheet("Access", COLUMNS, access_rows(filters))]


REPORT = Report(
    name="access",
    title="Access",
    description="The PHI access log: who viewed, exported or downloaded which client, claim, session, remittance "
                "or report, when and from which address (dates are when the access happened). Admins only.",
    sheets=sheets,
    count=count,
    filters=frozenset({"date_from", "date_to"}),
    readers=frozenset({Role.ADMIN}),
)
