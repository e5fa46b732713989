"""Payments > Statements: today's statement cycle in the chosen scope (who gets one, for how much, who is skipped
and why), a PDF preview of any one, Run the cycle, and downloads of past cycles (PDFs and the mail vendor CSV).

Billers and admins run cycles; accountants see, preview and download. Running a cycle records each client's
statement in the history, so it is a form with CSRF and an operation key and runs at most once. Dunning levels
(Organisation > Dunning levels) are edited by admins; every change writes history.
"""

from __future__ import annotations

import io
from typing import Any

from flask import flash, redirect, request, send_file
from flask_admin import expose
from flask_login import current_user
from werkzeug.wrappers import Response

from admin_views.auth import current_actor
from admin_views.base import AreaPage, RoleModelView
from admin_views.operations import run_once
from admin_views.paging import requested_page
from admin_views.permissions import Area
from admin_views.scope import current_scope
from billing.core.audit import AuditAction, record_change
from billing.core.checks import parse_id
from billing.core.db import db
from billing.core.errors import BillingError, NotFound
from billing.core.time import practice_now, practice_today
from billing.ledger.models import ClientBalance
from billing.ledger.statement_aging import dunning_level_problems
from billing.ledger.statement_models import DunningLevel
from billing.ledger.statement_pages import cycle_outline
from billing.org.queries import by_location, describe_scope
from billing.people.models import Client
from exports.statements import (
    CycleFiles,
    cycle_csv,
    cycle_folders,
    cycle_zip,
    run_statement_files,
    statement_preview,
    statements_root,
)

#: Statements a page lists in full (each built from its clients' open claims, payments and statements sent), as
#: the Credit balances page lists 50 rows that each sum several claims.
PAGE_SIZE = 50


def _in_scope() -> list[Any]:
    return [by_location(Client.location_id, current_scope())]


class StatementsView(AreaPage):
    area = Area.PAYMENTS

    @expose("/")
    def index(self) -> str:
        cycle = cycle_outline(today=practice_today(),
                              where=[by_location(ClientBalance.location_id, current_scope())])
        paging = requested_page(cycle.count, PAGE_SIZE)
        return self.render("claimdesk/payments/statements.html", cycle=cycle, folders=cycle_folders(),
                           scope_text=describe_scope(current_scope()), **paging.template_args(),
                           shown=cycle.statements(paging.first, paging.size), skipped=cycle.skipped(paging.size))

    @expose("/preview/")
    def preview(self) -> Response:
        """One responsible party's statement as it would print today (nothing recorded)."""
        ident = parse_id(request.args.get("client_id"))
        client = db.session.get(Client, ident) if ident else None
        in_scope = client is not None and db.session.query(Client.id).filter(Client.id == client.id,
                                                                              *_in_scope()).first()
        if not in_scope:
            flash("No such client in the chosen scope.", "error")
            return redirect(self.get_url(".index"))
        buffer = io.BytesIO()
        try:
            statement = statement_preview(client.id, buffer, today=practice_today())
        except BillingError as exc:
            flash(exc.message, "error")
            return redirect(self.get_url(".index"))
        buffer.seek(0)
        return send_file(buffer, mimetype="application/pdf", download_name=f"{statement.number}.pdf",
                         as_attachment=False, max_age=0)

    @expose("/run/", methods=("POST",))
    def run(self) -> Response:
        back = self.get_url(".index")
        if not self.can_edit:
            flash(f"Your role ({current_user.role.label}) cannot run statement cycles.", "error")
            return redirect(back)
        now = practice_now()
        folder = statements_root() / f"{now:%Y-%m-%d-%H%M%S}"
        return run_once(
            "statements.run", f"statements:{now:%Y-%m-%d}",
            lambda: run_statement_files(folder, today=now.date(), actor=self.actor(), where=_in_scope()),
            back=back, success=_ran, refusal=lambda exc: f"No statements were sent: {exc.message}",
        )

    @expose("/download/<cycle>/")
    def download(self, cycle: str) -> Response:
        try:
            data = cycle_zip(cycle)
        except NotFound as exc:
            flash(exc.message, "error")
            return redirect(self.get_url(".index"))
        return send_file(io.BytesIO(data), mimetype="application/zip", download_name=f"statements-{cycle}.zip",
                         as_attachment=True, max_age=0)

    @expose("/download/<cycle>/csv/")
    def download_csv(self, cycle: str) -> Response:
        try:
            file_name, data = cycle_csv(cycle)
        except NotFound as exc:
            flash(exc.message, "error")
            return redirect(self.get_url(".index"))
        return send_file(io.BytesIO(data), mimetype="text/csv", download_name=file_name, as_attachment=True,
                         max_age=0)


def _ran(files: CycleFiles) -> str:
    cycle = files.cycle
    return (f"{len(cycle.statements)} statement(s) sent, {cycle.total_due} due; {len(cycle.skipped)} skipped. "
            f"Download them below ({files.folder.name}).")


class DunningLevelView(RoleModelView):
    """The messages statements print as a balance ages; admins edit them (Organisation: admins edit)."""

    area = Area.ORGANISATION
    allow_delete = True
    column_list = ["min_days", "message"]
    column_default_sort = "min_days"
    column_labels = {"min_days": "From day"}
    form_columns = ["min_days", "message"]
    form_checks = staticmethod(dunning_level_problems)
    column_descriptions = {"min_days": "The message prints once the balance has gone unpaid this many days "
                                       "(counted from the oldest open charge, or the last payment if later)."}

    def on_model_change(self, form: Any, model: DunningLevel, is_created: bool) -> None:
        db.session.flush()  # a new level needs its id for the history row, written in the same commit
        record_change("dunning_level", model.id, AuditAction.DUNNING_LEVEL_CHANGED, actor=current_actor(),
                      after=str(model.min_days), reason=model.message[:500])

    def on_model_delete(self, model: DunningLevel) -> None:
        record_change("dunning_level", model.id, AuditAction.DUNNING_LEVEL_CHANGED, actor=current_actor(),
                      before=str(model.min_days), reason="deleted")

