"""One module per report: queries that shape rows, and the `REPORT` that names them."""

from __future__ import annotations

from exports.reports import aging, authorizations, claims, denials, failed_charges, remittances, revenue

ALL_REPORTS = [
    claims.REPORT, denials.REPORT, revenue.REPORT, aging.REPORT, failed_charges.REPORT, remittances.REPORT,
    authorizations.REPORT,
]
