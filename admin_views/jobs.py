"""The Jobs page: each scheduled job with its schedule, next and last run; admins edit schedules (with the
next five run times previewed), pause, resume and ask for a run now; billers read. The scheduler process
(`flask scheduler run`) applies every change on its next sync: web workers never run jobs themselves."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import abort, flash, redirect, request
from flask_admin import expose
from werkzeug.wrappers import Response
from wtforms import StringField
from wtforms.validators import InputRequired, Length

from admin_views.base import AdminForm, AreaPage
from admin_views.operations import run_operation
from admin_views.permissions import Area
from billing.core.errors import ValidationFailed
from billing.core.time import practice_timezone
from billing.core.unit_of_work import unit_of_work
from billing.jobs.definitions import Cron, JobDefinition, UnknownJob, job_definition
from billing.jobs.overview import job_overviews, scheduler_is_running
from billing.jobs.runs import recent_runs
from billing.jobs.schedules import (
    CRON_FIELDS,
    cron_of,
    dst_warnings,
    preview,
    request_run,
    schedule_history,
    schedule_row,
    set_paused,
    update_schedule,
)

PREVIEW_COUNT = 5


def _cron_field(label: str, hint: str) -> StringField:
    return StringField(label, validators=[InputRequired(), Length(max=60)], description=hint)


class ScheduleForm(AdminForm):
    minute = _cron_field("Minute", "0-59, e.g. 30 or 0,30 or */15")
    hour = _cron_field("Hour", "0-23 on the practice's clock, e.g. 4 or 7-19")
    day = _cron_field("Day of month", "1-31, or * for every day")
    month = _cron_field("Month", "1-12 or jan-dec, or *")
    day_of_week = _cron_field("Days of the week", "names only: mon-fri, sat,sun, or * (numbers are refused)")

    def cron(self) -> Cron:
        return Cron(**{field: (getattr(self, field).data or "").strip() for field in CRON_FIELDS})


class JobsView(AreaPage):
    area = Area.JOBS

    def _now(self) -> datetime:
        return datetime.now(practice_timezone())

    @expose("/")
    def index(self) -> str:
        return self.render("claimdesk/jobs/index.html", jobs=job_overviews(self._now()), runs=recent_runs(limit=30),
                           scheduler_running=scheduler_is_running(), timezone=practice_timezone())

    @expose("/<job_id>/")
    def details(self, job_id: str) -> str:
        definition = self._definition(job_id)
        form = None
        if definition.every_seconds is None:
            with unit_of_work():
                row = schedule_row(definition.id)
            form = ScheduleForm(formdata=None, data=cron_of(row).as_kwargs())
        return self._render_details(definition, form, previewed=None)

    @expose("/<job_id>/schedule", methods=("POST",))
    def schedule(self, job_id: str) -> Response | str:
        definition = self._definition(job_id)
        self._require_edit()
        form = ScheduleForm(request.form)
        if not form.validate():
            return self._render_details(definition, form, previewed=None)
        cron = form.cron()
        try:
            times = preview(cron, self._now(), PREVIEW_COUNT)
            if request.form.get("action") == "save":
                with unit_of_work():
                    update_schedule(definition.id, cron, actor=self.actor())
                flash(f"{definition.title}: the schedule is now {cron}. Next run {times[0]:%a %m/%d %H:%M %Z}."
                      if times else f"{definition.title}: the schedule is now {cron}; it never fires.", "success")
                for warning in dst_warnings(cron, practice_timezone()):
                    flash(warning, "warning")
                return redirect(self.get_url(".details", job_id=definition.id))
        except ValidationFailed as exc:
            for problem in exc.problems:
                getattr(form, problem.field).errors = [*getattr(form, problem.field).errors, problem.message]
            return self._render_details(definition, form, previewed=None)
        return self._render_details(definition, form, previewed=times,
                                    warnings=dst_warnings(cron, practice_timezone()))

    @expose("/<job_id>/pause", methods=("POST",))
    def pause(self, job_id: str) -> Response:
        return self._act(job_id, lambda d: set_paused(d.id, True, actor=self.actor()), "paused")

    @expose("/<job_id>/resume", methods=("POST",))
    def resume(self, job_id: str) -> Response:
        return self._act(job_id, lambda d: set_paused(d.id, False, actor=self.actor()), "resumed")

    @expose("/<job_id>/run", methods=("POST",))
    def run_now(self, job_id: str) -> Response:
        note = "the scheduler runs it within a few seconds"
        if not scheduler_is_running():
            note = "no scheduler process is running, so it runs when `flask scheduler run` starts"
        return self._act(job_id, lambda d: request_run(d.id, actor=self.actor()), f"asked to run now ({note})")

    def _act(self, job_id: str, operation: Any, done: str) -> Response:
        definition = self._definition(job_id)
        self._require_edit()
        # Only our own two pages: a free-form "next" URL would be an open redirect.
        back = (self.get_url(".details", job_id=definition.id) if request.form.get("back") == "details"
                else self.get_url(".index"))
        return run_operation(lambda: operation(definition), success=f"{definition.title}: {done}.", back=back)

    def _render_details(self, definition: JobDefinition, form: ScheduleForm | None,
                        previewed: list[datetime] | None, warnings: list[str] | None = None) -> str:
        overview = next(o for o in job_overviews(self._now()) if o.id == definition.id)
        return self.render("claimdesk/jobs/details.html", job=overview, form=form, previewed=previewed,
                           runs=recent_runs(definition.id, limit=50), timezone=practice_timezone(),
                           preview_count=PREVIEW_COUNT, warnings=warnings or [],
                           changes=schedule_history(definition.id))

    def _definition(self, job_id: str) -> JobDefinition:
        try:
            return job_definition(job_id)
        except UnknownJob:
            abort(404)

    def _require_edit(self) -> None:
        if not self.can_edit:
            abort(403)


