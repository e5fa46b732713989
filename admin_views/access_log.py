"""The PHI access log page (admins only): who viewed, exported or downloaded which record, when, from where.

Read-only for everyone: no create, edit or delete, and the database refuses changes anyway. Opening it is
itself recorded (admin_views/access.py).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask_admin.contrib.sqla.filters import BaseSQLAFilter, FilterEqual, FilterLike
from markupsafe import Markup

from admin_views.base import RoleModelView
from admin_views.permissions import Area
from billing.core.access_log import AccessEntry, AccessKind, Subject, day_start
from billing.core.checks import parse_id


class _DayFilter(BaseSQLAFilter):
    """A practice day (YYYY-MM-DD): `at` is stored in UTC, the office thinks in its own days."""

    def validate(self, value: Any) -> bool:
        try:
            date.fromisoformat(str(value))
        except ValueError:
            return False
        return True

    def clean(self, value: Any) -> date:
        return date.fromisoformat(str(value))


class OnOrAfter(_DayFilter):
    def apply(self, query: Any, value: date, alias: Any = None) -> Any:
        return query.filter(AccessEntry.at >= day_start(value))

    def operation(self) -> str:
        return "on or after (YYYY-MM-DD)"


class OnOrBefore(_DayFilter):
    def apply(self, query: Any, value: date, alias: Any = None) -> Any:
        return query.filter(AccessEntry.at < day_start(value + timedelta(days=1)))

    def operation(self) -> str:
        return "on or before (YYYY-MM-DD)"


class RecordIdFilter(BaseSQLAFilter):
    """A record id: digits only, within an INTEGER (PostgreSQL compares no text with an integer column)."""

    def validate(self, value: Any) -> bool:
        return parse_id(value) is not None

    def clean(self, value: Any) -> int | None:
        return parse_id(value)

    def apply(self, query: Any, value: int, alias: Any = None) -> Any:
        return query.filter(AccessEntry.subject_id == value)

    def operation(self) -> str:
        return "equals"


def _subject_cell(view: Any, context: Any, model: AccessEntry, name: str) -> Markup:
    label = str(model.subject_type).replace("_", " ")
    return Markup("{} {}").format(label, model.subject_id if model.subject_id is not None else "(list)")


class AccessLogView(RoleModelView):
    area = Area.ACCESS_LOG
    name = "Access log"
    allow_create = False
    allow_edit = False
    allow_delete = False
    can_view_details = False
    column_list = ["at", "actor", "kind", "subject_type", "detail", "ip", "path"]
    column_labels = {"at": "When", "actor": "User", "kind": "Did", "subject_type": "Record", "detail": "Filters / file",
                     "ip": "Address", "path": "Page"}
    column_default_sort = ("id", True)
    column_sortable_list = ["at", "actor"]
    column_formatters = {
        "subject_type": _subject_cell,
        "kind": lambda v, c, m, n: m.kind.value,
        "detail": lambda v, c, m, n: (m.detail or "")[:160],
    }
    column_filters = [
        FilterLike(column=AccessEntry.actor, name="User"),
        FilterEqual(column=AccessEntry.subject_type, name="Record type", options=[(s.value, s.value) for s in Subject]),
        RecordIdFilter(column=AccessEntry.subject_id, name="Record id"),
        FilterEqual(column=AccessEntry.kind, name="Did", options=[(k.value, k.value) for k in AccessKind]),
        OnOrAfter(column=AccessEntry.at, name="Day"),
        OnOrBefore(column=AccessEntry.at, name="Day"),
    ]
