"""The claims queue's list: its figures (CPT, units, paid, balance, days in status), totals of the whole filtered
list, search in words, a user's saved filters, and the CSV / Excel export of what the list shows."""

from __future__ import annotations

import io
from typing import Any

from flask import abort, flash, g, redirect, request, send_file
from flask_admin import expose
from flask_login import current_user
from sqlalchemy import true
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response

from admin_views.auth import current_actor
from admin_views.operations import run_operation
from admin_views.permissions import Area, may_read
from admin_views.scope import current_scope
from billing.claims.models import Claim
from billing.core.checks import parse_id
from billing.core.money import ZERO, format_money
from billing.core.time import practice_now, practice_today
from billing.org.queries import describe_scope
from billing.payments import queue
from billing.payments.filing import deadlines
from billing.payments.queue import QueueRow, QueueTotals, list_totals, page_rows, queue_search
from billing.people.saved_filters import SavedFilter, delete_filter, filter_query, save_filter, saved_filters
from exports.claims_queue import QueueExport, queue_csv_bytes, queue_rows, write_queue_xlsx
from exports.columns import TitleBlock

SEARCH_PLACEHOLDER = "Claim no., client, member ID or ICN"
#: Rows one export may hold; a longer list is narrowed with filters first.
EXPORT_LIMIT = 20_000
CHUNK = 900
MIME = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
EMPTY_ROW = QueueRow("", 0, ZERO, ZERO, None)


def queue_row(claim_id: int) -> QueueRow:
    return getattr(g, "queue_rows", {}).get(claim_id) or EMPTY_ROW


#: The queue's own columns, beside the claim's.
QUEUE_FORMATTERS = {
    "codes": lambda v, c, m, n: queue_row(m.id).codes,
    "units": lambda v, c, m, n: queue_row(m.id).units,
    "paid": lambda v, c, m, n: format_money(queue_row(m.id).paid),
    "balance": lambda v, c, m, n: format_money(queue_row(m.id).balance),
    "days_in_status": lambda v, c, m, n: queue_row(m.id).days_in_status(practice_today()) or 0,
}


class ClaimQueueMixin:
    """Mixed into ClaimView before RoleModelView: list figures, totals, search, saved filters and export."""

    # --- figures ------------------------------------------------------------------------------
    def queue_figures(self, claims: list[Claim]) -> None:
        g.queue_rows = page_rows(c.id for c in claims)

    def _apply_pagination(self, query: Any, page: int | None, page_size: int | None) -> Any:
        g.claim_list_query = query  # filtered, searched and sorted: what the totals and the export cover
        return super()._apply_pagination(query, page, page_size)  # type: ignore[misc]

    def _filtered_where(self) -> Any:
        """The list's condition on the claim table (tab, scope, filters, search), for its totals."""
        query = g.get("claim_list_query")
        if query is None:
            return None
        statement = query.with_entities(Claim.id).order_by(None).statement
        if len(statement.get_final_froms()) == 1:
            return statement.whereclause if statement.whereclause is not None else true()
        # A filter that joins another table: the claims it selects, by id.
        return Claim.id.in_(statement)

    def queue_totals(self) -> QueueTotals | None:
        """Billed, paid and balance of the whole list the tab, filters and search select (not only this page)."""
        where = self._filtered_where()
        if where is None:
            return None
        money = request.args.get("totals") == "all"
        kept = None if money else self.kept_tab_totals()
        if kept is not None and kept.claims > queue.LARGE_LIST:
            return kept  # paid and balance when asked (list_totals explains why)
        return list_totals(where, money=money)

    def kept_tab_totals(self) -> QueueTotals | None:
        """A whole tab's count and billed, kept by the database (the claims list says how); None to count."""
        return None

    # --- search -------------------------------------------------------------------------------
    def search_placeholder(self) -> str:
        return SEARCH_PLACEHOLDER

    def _apply_search(self, query: Any, count_query: Any, joins: Any, count_joins: Any, search: str) -> Any:
        condition = queue_search(search)
        if condition is None:
            return query, count_query, joins, count_joins
        return query.filter(condition), count_query.filter(condition), joins, count_joins

    # --- saved filters ------------------------------------------------------------------------
    def my_saved_filters(self) -> list[SavedFilter]:
        return saved_filters(current_user.id, self.endpoint)  # type: ignore[attr-defined]

    def current_filter_query(self) -> str:
        return filter_query(list(request.args.items(multi=True)))

    @expose("/saved-filters/", methods=("POST",))
    def save_filter_view(self) -> Response:
        query = request.form.get("query", "")
        back = self.get_url(".index_view") + ("?" + query if query else "")  # type: ignore[attr-defined]
        return run_operation(
            lambda: save_filter(
                user_id=current_user.id,
                view=self.endpoint,
                name=request.form.get("name", ""),  # type: ignore[attr-defined]
                query=query,
                actor=current_actor(),
            ),
            success=lambda saved: f"Filter “{saved.name}” saved.",
            back=back,
        )

    @expose("/saved-filters/delete/", methods=("POST",))
    def delete_filter_view(self) -> Response:
        filter_id = parse_id(request.form.get("id", ""))
        back = self.get_url(".index_view")  # type: ignore[attr-defined]
        if filter_id is None:
            flash("That saved filter does not exist.", "error")
            return redirect(back)
        return run_operation(
            lambda: delete_filter(filter_id, user_id=current_user.id, actor=current_actor()),
            success=lambda name: f"Filter “{name}” deleted.",
            back=back,
        )

    # --- export -------------------------------------------------------------------------------
    def may_export(self) -> bool:
        return current_user.is_authenticated and may_read(current_user.role, Area.REPORTS)

    @expose("/download/<kind>/")
    def download_view(self, kind: str) -> Any:
        """The list as it stands (tab, filters, search, sort), every page of it, as CSV or Excel."""
        if kind not in MIME or not self.may_export():
            abort(403)
        view = self  # Flask-Admin's own reading of the list's arguments, so the file matches the page
        args = view._get_list_extra_args()  # type: ignore[attr-defined]
        sort = view._get_column_by_idx(args.sort)  # type: ignore[attr-defined]
        sort_column = sort[0] if sort is not None else None
        count, query = view.get_list(
            0, sort_column, args.sort_desc, args.search, args.filters, execute=False, page_size=0
        )
        if count is not None and count > EXPORT_LIMIT:
            flash(f"The list holds {count:,} claims; narrow it to {EXPORT_LIMIT:,} or fewer to export it.", "error")
            return redirect(self.get_url(".index_view", **request.args))  # type: ignore[attr-defined]
        claims = list(query.options(joinedload(Claim.policy)).all())  # the member ID, without a query a row
        today = practice_today()
        figures: dict[int, QueueRow] = {}
        ids = [c.id for c in claims]
        for start in range(0, len(ids), CHUNK):
            figures.update(page_rows(ids[start : start + CHUNK]))
        rows = list(queue_rows(claims, figures, deadlines(ids, today), today))
        stamp = practice_now()
        name = f"claims-{stamp:%Y%m%d-%H%M}.{kind}"
        if kind == "csv":
            return send_file(
                io.BytesIO(queue_csv_bytes(rows)), mimetype=MIME[kind], as_attachment=True, download_name=name
            )
        out = io.BytesIO()
        filters = [("List", request.query_string.decode("utf-8", "replace") or "Ready claims")]
        title = TitleBlock("Claims", describe_scope(current_scope()), filters, stamp, current_actor().name)
        write_queue_xlsx(QueueExport(title, rows), out)
        out.seek(0)
        return send_file(out, mimetype=MIME[kind], as_attachment=True, download_name=name)
