"""One module per report (queries that shape rows, and the `REPORT` that names them), and finding one by name."""

from __future__ import annotations

from billing.core.errors import NotFound
from exports.registry import Report
from exports.reports import (
    access,
    aging,
    authorizations,
    claims,
    credit_balances,
    denials,
    failed_charges,
    filing_proof,
    remittances,
    revenue,
)

ALL_REPORTS = [
    claims.REPORT, denials.REPORT, revenue.REPORT, aging.REPORT, failed_charges.REPORT, remittances.REPORT,
    authorizations.REPORT, credit_balances.REPORT, filing_proof.REPORT, access.REPORT,
]


class UnknownReport(NotFound):
    def __init__(self, name: str) -> None:
        super().__init__(f"There is no report named {name!r}. Known reports: {', '.join(sorted(_reports()))}.")


def _reports() -> dict[str, Report]:
    return {report.name: report for report in ALL_REPORTS}


def all_reports() -> list[Report]:
    return list(_reports().values())


def report_named(name: str) -> Report:
    try:
        return _reports()[name]
    except KeyError:
        raise UnknownReport(name) from None
