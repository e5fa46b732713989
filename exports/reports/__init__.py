"""One module per report: queries that shape rows, and the `REPORT` that names them."""

from __future__ import annotations

from exports.reports import authorizations, claims

ALL_REPORTS = [claims.REPORT, authorizations.REPORT]
