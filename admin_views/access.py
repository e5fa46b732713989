"""Where the PHI access log is written: one after-request hook and one table of the pages that show PHI.

No view records its own reads. A page listed in `PAGES` that answered 200 to a logged-in user writes one row
(a refusal or a "not found" redirects, and showed nothing). Lists keep their filters and search, not their
rows, so a page of 100 claims is still one INSERT.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, request
from flask_login import current_user
from werkzeug.wrappers import Response

from admin_views.auth import current_actor
from billing.core.access_log import Access, AccessKind, Subject, record_access
from billing.core.checks import parse_id
from billing.core.db import db
from billing.core.unit_of_work import unit_of_work

#: Form fields that say nothing about which records were read.
NOT_FILTERS = frozenset({"csrf_token", "op_key"})


@dataclass(frozen=True)
class Page:
    kind: AccessKind
    subject: Subject
    #: The record's id: the `id` query argument (Flask-Admin's detail pages) or a URL part (`batch_id`).
    id_from: str | None = "id"
    detail: Callable[[], str | None] | None = None


def _query_text() -> str | None:
    """A list's filters, search, sort and page, as the URL carried them."""
    return request.query_string.decode("utf-8", "replace") or None


def _form_text() -> str | None:
    """A report's name and filters, as the form posted them."""
    fields = [f"{k}={v}" for k, v in request.form.items(multi=True) if k not in NOT_FILTERS and v]
    return "&".join(fields) or None


def _viewed(subject: Subject) -> Page:
    return Page(AccessKind.VIEWED, subject)


def _listed(subject: Subject) -> Page:
    return Page(AccessKind.LISTED, subject, id_from=None, detail=_query_text)


def _grid(endpoint: str, subject: Subject) -> dict[str, Page]:
    """A Flask-Admin grid of PHI: its list, its detail page and its edit form (which shows the record too)."""
    return {f"{endpoint}.index_view": _listed(subject), f"{endpoint}.details_view": _viewed(subject),
            f"{endpoint}.edit_view": _viewed(subject)}


#: Every page that shows or hands out PHI: the endpoint and what it shows.
PAGES: dict[str, Page] = {
    **_grid("client", Subject.CLIENT),
    **_grid("policy", Subject.POLICY),
    **_grid("authorization", Subject.AUTHORIZATION),
    **_grid("session", Subject.SESSION),
    **_grid("claim", Subject.CLAIM),
    "claim.lines_view": _viewed(Subject.CLAIM),
    "claim.download_view": Page(AccessKind.EXPORTED, Subject.CLAIM, id_from=None, detail=_query_text),
    **_grid("remittance", Subject.REMITTANCE),
    **_grid("unmatched", Subject.UNMATCHED),
    "remittance.file_view": Page(AccessKind.DOWNLOADED, Subject.ERA_FILE, id_from="file_id"),
    "submissions.batch": Page(AccessKind.VIEWED, Subject.BATCH, id_from="batch_id"),
    "submissions.download": Page(AccessKind.DOWNLOADED, Subject.BATCH, id_from="batch_id"),
    "submissions.new": _listed(Subject.CLAIM),
    "filing_deadlines.index": _listed(Subject.CLAIM),
    "follow_up.index": _listed(Subject.CLAIM),
    "eligibility.index": _listed(Subject.POLICY),
    "credit_balances.index": _listed(Subject.CLAIM),
    "failed_charge.index_view": _listed(Subject.CLAIM),
    "bulk_clawback.index": _listed(Subject.CLAIM),
    "reports.download": Page(AccessKind.EXPORTED, Subject.REPORT, id_from=None, detail=_form_text),
    "reports.export_file": Page(AccessKind.DOWNLOADED, Subject.REPORT, id_from="run_id"),
    "access_log.index_view": _listed(Subject.ACCESS_LOG),
    "client_ledger.index": Page(AccessKind.VIEWED, Subject.CLIENT, id_from="client_id", detail=_query_text),
    "client_ledger.download": Page(AccessKind.DOWNLOADED, Subject.CLIENT, id_from="client_id", detail=_query_text),
    "client_ledger.invoice": Page(AccessKind.DOWNLOADED, Subject.CLIENT, id_from="client_id", detail=_query_text),
    # A receipt names its client; the payment's id is kept with the page's path.
    "client_ledger.receipt": Page(AccessKind.DOWNLOADED, Subject.CLIENT, id_from=None),
    "statements.index": _listed(Subject.CLIENT),
    "statements.preview": Page(AccessKind.DOWNLOADED, Subject.CLIENT, id_from="client_id", detail=_query_text),
    # A cycle's files hold every statement of that day: kept as a download of clients, the cycle in the path.
    "statements.download": Page(AccessKind.DOWNLOADED, Subject.CLIENT, id_from=None),
    "statements.download_csv": Page(AccessKind.DOWNLOADED, Subject.CLIENT, id_from=None),
    "paper_claims.index": _listed(Subject.CLAIM),
    "post_check.index": _listed(Subject.CLAIM),
    "post_check.apply": Page(AccessKind.VIEWED, Subject.POSTED_CHECK, id_from="check_id"),
    **_grid("posted_check", Subject.POSTED_CHECK),
    "paper_claims.print_pdf": Page(AccessKind.DOWNLOADED, Subject.CLAIM, id_from=None, detail=_form_text),
}


def access_of(endpoint: str | None) -> Access | None:
    """What the current request read, if its endpoint is one of PAGES."""
    page = PAGES.get(endpoint or "")
    if page is None:
        return None
    raw = (request.view_args or {}).get(page.id_from) if page.id_from else None
    if page.id_from and raw is None:
        raw = request.args.get(page.id_from)
    subject_id = parse_id(str(raw)) if raw is not None else None
    detail = page.detail() if page.detail else None
    return Access(page.kind, page.subject, subject_id, detail)


def _record(response: Response) -> Response:
    if response.status_code != 200 or not current_user.is_authenticated:
        return response
    access = access_of(request.endpoint)
    if access is None:
        return response
    # The view's own work is done (committed or refused); the log row is a transaction of its own. If it
    # cannot be written, the error page replaces the PHI: nothing is shown that the log does not hold.
    db.session.rollback()
    with unit_of_work():
        record_access(access, actor=current_actor(), ip=request.remote_addr, path=request.path)
    return response


def init_access_log(app: Flask) -> None:
    app.after_request(_record)
