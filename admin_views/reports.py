"""The Reports page: pick a report and filters, download it (or have it built in the background),
and fetch finished exports. Every download is recorded: who, which report and filters, when."""

from __future__ import annotations

import io
from typing import Any

from flask import current_app, flash, jsonify, redirect, request, send_file
from flask_admin import expose
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import BooleanField, DateField, IntegerField, SelectField
from wtforms.validators import InputRequired, NumberRange, Optional

from admin_views.base import AdminForm, AreaPage
from admin_views.permissions import Area
from admin_views.scope import current_scope
from admin_views.widgets import QuickSelect, SearchPickerField
from billing.claims.statuses import ClaimStatus
from billing.core.db import db, end_read
from billing.core.errors import Invalid, NotAllowed, NotFound
from billing.core.time import practice_today
from billing.core.unit_of_work import unit_of_work
from billing.coverage.options import payer_options, provider_matches, provider_named
from billing.jobs.export_runs import (
    export_path,
    progress,
    queue_export,
    recent_downloads,
    recent_exports,
    record_download,
)
from billing.jobs.models import ExportRun, ExportStatus
from billing.jobs.overview import scheduler_is_running
from billing.org.queries import Scope
from exports.build import build_report, report_rows
from exports.filters import ReportFilters
from exports.registry import Report
from exports.reports import all_reports, report_named
from rules.models import Rule

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: Larger reports are built by the scheduler process instead of inside the request.
DEFAULT_INLINE_ROWS = 5000


def _optional_int(value: Any) -> int | None:
    return int(value) if value not in (None, "", "None") else None


def _rule_options() -> list[tuple[int, str]]:
    return [(rule_id, name) for rule_id, name in db.session.execute(select(Rule.id, Rule.name).order_by(Rule.name))]


def reports_for_user() -> list[Report]:
    """The reports the logged-in user's role may download (the Access report is for admins)."""
    return [r for r in all_reports() if r.readable_by(current_user.role)]


def readable_report(name: str) -> Report:
    report = report_named(name)
    if not report.readable_by(current_user.role):
        raise NotAllowed(f"Your role ({current_user.role.label}) cannot download the {report.title} report.")
    return report


def export_in_scope(filters: dict[str, Any] | None, scope: Scope) -> bool:
    """A finished export is downloaded within the scope it was built for: its company, practice or location
    lies inside the chosen one (the picker on "All companies" reaches every export)."""
    built = ReportFilters.from_json(filters or {}).scope
    if scope.is_everything:
        return True
    if built.company_id != scope.company_id:
        return False
    if scope.practice_id and built.practice_id != scope.practice_id:
        return False
    return not scope.location_id or built.location_id == scope.location_id


def _provider_in_scope(provider_id: int) -> str | None:
    return provider_named(provider_id, company_id=current_scope().company_id)


class ReportForm(AdminForm):
    report = SelectField("Report", validators=[InputRequired()])
    date_from = DateField("From", validators=[Optional()])
    date_to = DateField("To", validators=[Optional()])
    payer_id = SelectField("Payer", coerce=_optional_int, validators=[Optional()], widget=QuickSelect())
    provider_id = SearchPickerField("Provider", search_endpoint=".providers", label_of=_provider_in_scope,
                                    placeholder="Any provider: type a name or NPI")
    status = SelectField("Claim status", validators=[Optional()])
    as_of = DateField("As of (aging, authorizations)", validators=[Optional()])
    run = IntegerField("Run number (failed charges)", validators=[Optional(), NumberRange(min=1)])
    rule_id = SelectField("Rule (failed charges)", coerce=_optional_int, validators=[Optional()])
    open_only = BooleanField("Only failures not yet fixed")

    def fill_choices(self) -> ReportForm:
        self.report.choices = [(r.name, r.title) for r in reports_for_user()]
        self.payer_id.choices = [(None, "Any payer"), *payer_options()]
        self.status.choices = [("", "Any status")] + [(s.value, s.label) for s in ClaimStatus]
        self.rule_id.choices = [(None, "Any rule"), *_rule_options()]
        return self

    def filters(self) -> ReportFilters:
        scope = current_scope()
        return ReportFilters(
            date_from=self.date_from.data, date_to=self.date_to.data, company_id=scope.company_id,
            practice_id=scope.practice_id, location_id=scope.location_id, payer_id=self.payer_id.data,
            provider_id=self.provider_id.data, status=self.status.data or None, as_of=self.as_of.data,
            run=self.run.data, rule_id=self.rule_id.data, open_only=self.open_only.data or None,
        )


class ReportsView(AreaPage):
    area = Area.REPORTS

    @expose("/")
    def index(self) -> str:
        exports = recent_exports()
        working = [run for run in exports if run.status in (ExportStatus.QUEUED, ExportStatus.RUNNING)]
        return self.render("claimdesk/reports/index.html", form=ReportForm(formdata=None).fill_choices(),
                           reports=reports_for_user(), exports=exports, working=bool(working), progress=progress,
                           downloads=recent_downloads(), scope=current_scope(),
                           scheduler_running=scheduler_is_running() if working else True)

    @expose("/providers/")
    def providers(self) -> Response:
        """The provider picker's search: [[id, label], ...] for the typed start of a name or NPI, among the chosen
        company's providers (all companies': every provider)."""
        offset = request.args.get("offset", 0, type=int)
        limit = request.args.get("limit", 10, type=int)
        return jsonify(provider_matches(request.args.get("query", ""), company_id=current_scope().company_id,
                                        offset=offset, limit=limit))

    @expose("/download", methods=("POST",))
    def download(self) -> Response:
        form = ReportForm(request.form).fill_choices()
        if not form.validate():
            for field, errors in form.errors.items():
                flash(f"{getattr(form, field).label.text}: {'; '.join(errors)}", "error")
            return redirect(self.get_url(".index"))
        try:  # a file on success, so not run_operation's redirect
            return self._deliver(form.report.data, form.filters().checked())
        except (NotFound, Invalid, NotAllowed) as exc:
            flash(exc.message, "error")
            return redirect(self.get_url(".index"))

    def _deliver(self, name: str, filters: ReportFilters) -> Response:
        report = readable_report(name)
        rows = report_rows(name, filters)
        if rows > current_app.config.get("CLAIMDESK_REPORT_INLINE_ROWS", DEFAULT_INLINE_ROWS):
            with unit_of_work():
                run = queue_export(name, filters.to_json(), actor=self.actor(), rows_expected=rows)
            flash(f"{report.title} has {rows:,} rows, so it is being built in the background (export #{run.id}). "
                  "It appears under Finished exports when ready.", "info")
            return redirect(self.get_url(".index"))
        out = io.BytesIO()
        built = build_report(name, filters, out, generated_by=current_user.email)
        end_read()  # the long read ends before the log's write begins (SQLite: no stale-snapshot "locked")
        with unit_of_work():
            record_download(name, filters.to_json(), actor=self.actor(), row_count=built.rows)
        out.seek(0)
        return send_file(out, mimetype=XLSX, as_attachment=True, download_name=f"{name}-{practice_today():%Y%m%d}.xlsx")

    @expose("/exports/<int:run_id>")
    def export_file(self, run_id: int) -> Response:
        run = db.session.get(ExportRun, run_id)
        try:
            if run is None:
                raise NotFound(f"There is no export #{run_id}.")
            readable_report(run.report)
            if not export_in_scope(run.filters, current_scope()):
                raise NotFound(f"Export #{run_id} was built for records outside the chosen scope; choose a scope "
                               "that holds them to download it.")
            path = export_path(run)
        except (NotFound, NotAllowed) as exc:  # a file on success, so not run_operation's redirect
            flash(exc.message, "error")
            return redirect(self.get_url(".index"))
        report, filters, row_count, actor = run.report, run.filters, run.row_count, self.actor()
        end_read()
        with unit_of_work():
            record_download(report, filters, actor=actor, export_run_id=run_id, row_count=row_count)
        return send_file(path, mimetype=XLSX, as_attachment=True, download_name=path.name)
