"""Who may read and who may change each area of the admin. One table; every view consults it."""

from __future__ import annotations

from enum import StrEnum

from billing.people.models import Role


class Area(StrEnum):
    ORGANISATION = "organisation"  # companies, practices, locations
    USERS = "users"
    CLINICAL = "clinical"  # clients, policies, providers, authorizations, sessions, session classes
    BILLING_SETUP = "billing_setup"  # payers, service codes, fee schedules
    CLAIMS = "claims"  # claims queue and claim operations
    SUBMISSIONS = "submissions"  # 837P batches: new submission, preview, download, send, mark as uploaded
    CLEARINGHOUSES = "clearinghouses"  # clearinghouse settings and SFTP secrets (admins only)
    RULES = "rules"  # validation rules, billing runs, the Failed Charges report and Reprocess
    REPORTS = "reports"  # Excel reports, background exports, the download log
    JOBS = "jobs"  # scheduled jobs: schedules, pause/resume, run now, run history
    PAYMENTS = "payments"  # record payment, clawbacks, write-offs, 835 upload, remittances, unmatched queue
    ACCESS_LOG = "access_log"  # who viewed, exported or downloaded PHI, and the Access report (admins only)


EVERYONE = frozenset(Role)

READERS: dict[Area, frozenset[Role]] = {
    Area.ORGANISATION: EVERYONE,
    Area.USERS: frozenset({Role.ADMIN}),
    Area.CLINICAL: EVERYONE,
    Area.BILLING_SETUP: EVERYONE,
    Area.CLAIMS: EVERYONE,
    Area.SUBMISSIONS: frozenset({Role.ADMIN, Role.BILLER, Role.ACCOUNTANT}),
    Area.CLEARINGHOUSES: frozenset({Role.ADMIN}),
    Area.RULES: EVERYONE,
    Area.REPORTS: frozenset({Role.ADMIN, Role.BILLER, Role.ACCOUNTANT}),
    Area.JOBS: frozenset({Role.ADMIN, Role.BILLER}),
    Area.PAYMENTS: frozenset({Role.ADMIN, Role.BILLER, Role.ACCOUNTANT}),
    # Who looked at which client is itself sensitive, and the people it watches must not read or prune it.
    Area.ACCESS_LOG: frozenset({Role.ADMIN}),
}

EDITORS: dict[Area, frozenset[Role]] = {
    Area.ORGANISATION: frozenset({Role.ADMIN}),
    Area.USERS: frozenset({Role.ADMIN}),
    Area.CLINICAL: frozenset({Role.ADMIN, Role.OFFICE_MANAGER}),
    Area.BILLING_SETUP: frozenset({Role.ADMIN, Role.BILLER}),
    Area.CLAIMS: frozenset({Role.ADMIN, Role.BILLER}),
    Area.SUBMISSIONS: frozenset({Role.ADMIN, Role.BILLER}),
    Area.CLEARINGHOUSES: frozenset({Role.ADMIN}),
    Area.RULES: frozenset({Role.ADMIN, Role.BILLER}),
    Area.REPORTS: frozenset({Role.ADMIN, Role.BILLER, Role.ACCOUNTANT}),  # downloading is all a report allows
    Area.JOBS: frozenset({Role.ADMIN}),
    Area.PAYMENTS: frozenset({Role.ADMIN, Role.BILLER}),
    Area.ACCESS_LOG: frozenset(),  # append-only: nobody edits it, admins included
}


def may_read(role: Role | None, area: Area) -> bool:
    return role in READERS[area]


def may_edit(role: Role | None, area: Area) -> bool:
    return role in EDITORS[area]
