"""Build one report into a file: pick the report, fill the title block, stream the rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from billing.core.time import practice_timezone
from exports.columns import TitleBlock
from exports.filters import ReportFilters, company_label, describe_filters
from exports.reading import reading
from exports.reports import report_named
from exports.workbook import Progress, write_workbook


@dataclass(frozen=True)
class BuiltReport:
    name: str
    title: str
    rows: int  # data rows on the main (first) sheet
    sheet_rows: tuple[int, ...]


def build_report(name: str, filters: ReportFilters, target: str | Path | IO[bytes], *, generated_by: str,
                 now: datetime | None = None, progress: Progress | None = None) -> BuiltReport:
    """Write report `name` to `target`; raises UnknownReport or ValidationFailed before writing anything.

    The report reads in a READ ONLY transaction of its own (exports.reading), on the reporting replica if one is set.
    """
    report = report_named(name)
    local_now = (now or datetime.now(UTC)).astimezone(practice_timezone())
    filters = report.filters_for(filters.checked())
    if "as_of" in report.filters:
        filters = filters.with_as_of(local_now.date())  # "today" on the practice's calendar, named in the title
    with reading():
        title = TitleBlock(report.title, company_label(filters), describe_filters(filters), local_now, generated_by)
        counts = write_workbook(report.sheets(filters), target, title, progress)
    return BuiltReport(report.name, report.title, counts[0], tuple(counts))


def default_file_name(name: str, now: datetime) -> str:
    return f"{name}-{now:%Y%m%d-%H%M%S}.xlsx"


def build_from_json(name: str, filters: dict[str, Any], target: Path, *, generated_by: str, now: datetime,
                    progress: Progress | None = None) -> int:
    """The background runner's entry point (billing.jobs names it by reference): returns the main sheet's rows."""
    return build_report(name, ReportFilters.from_json(filters), target, generated_by=generated_by, now=now,
                        progress=progress).rows


def expected_rows(name: str, filters: dict[str, Any]) -> int:
    return report_rows(name, ReportFilters.from_json(filters))


def report_rows(name: str, filters: ReportFilters) -> int:
    """Rows the report's main sheet will have (read like the report itself: read-only, on the replica if set)."""
    report = report_named(name)
    filters = report.filters_for(filters.checked())
    with reading():
        return report.count(filters)
