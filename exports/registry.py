"""Every report by name: what `flask reports list`, the Reports page and the scheduled exports offer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from billing.people.models import Role
from exports.columns import Sheet
from exports.filters import ReportFilters

#: Filters every report accepts.
COMMON_FILTERS = frozenset({"date_from", "date_to", "company_id", "practice_id", "location_id"})


@dataclass(frozen=True)
class Report:
    name: str
    title: str
    description: str
    sheets: Callable[[ReportFilters], list[Sheet]]
    #: Rows the main sheet will have: decides between a direct download and a background export.
    count: Callable[[ReportFilters], int]
    filters: frozenset[str] = COMMON_FILTERS
    #: Adjusts the filters before the report runs (AR Aging reads "To" as its as-of date).
    prepare: Callable[[ReportFilters], ReportFilters] | None = None
    #: Roles that may download it, when fewer than the Reports area's (the Access report: admins only).
    readers: frozenset[Role] | None = None

    def readable_by(self, role: Role | None) -> bool:
        return self.readers is None or role in self.readers

    def filters_for(self, filters: ReportFilters) -> ReportFilters:
        """The filters this report reads, the others cleared, so the title block names only what applied."""
        unused = {name: None for name in ReportFilters.__dataclass_fields__ if name not in self.filters}
        kept = replace(filters, **unused)
        return self.prepare(kept) if self.prepare else kept


