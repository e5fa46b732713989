"""Therapy sessions and session classes: office managers keep them."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.contrib.sqla.filters import BaseSQLAFilter, FilterEqual
from flask_admin.model.template import BaseListRowAction
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from admin_views.base import RoleModelView
from admin_views.claims import current_actor, report_outcomes
from admin_views.dashboard_filters import ToFinalizeFilter
from admin_views.formatters import code_choices, enum_label, icon, lazy_options
from admin_views.operations import run_operation
from admin_views.permissions import Area, may_edit
from admin_views.redirects import safe_next
from billing.claims.building import BillingResult
from billing.claims.bulk import apply_to_claims
from billing.claims.models import ClaimLine
from billing.claims.operations import retract_claim
from billing.claims.queries import claim_locking
from billing.claims.sessions import (
    bill_again,
    cancel_session,
    delete_session,
    finalize_session,
    session_problems,
)
from billing.claims.statuses import ClaimStatus
from billing.core.checks import parse_id
from billing.core.db import db
from billing.core.errors import BillingError, NotAllowed
from billing.core.id_lists import any_of
from billing.core.identifiers import normalize_modifiers
from billing.core.reference import PLACES_OF_SERVICE
from billing.core.time import practice_today
from billing.core.unit_of_work import unit_of_work
from billing.coverage.options import location_options, payer_options, provider_options, service_code_options
from billing.org.queries import by_company, by_location
from billing.sessions.models import NoteStatus, SessionClass, TherapySession
from billing.sessions.queries import billed_to_payer


def _lock_badge(view: Any, context: Any, model: TherapySession, name: str) -> Markup:
    """The claim that locks the session, linked; a voided claim no longer locks it."""
    live = [ln.claim for ln in model.billed_on if ln.claim.status is not ClaimStatus.VOIDED]
    if not live:
        return Markup('<span class="text-muted" title="not on a live claim">&mdash;</span>')
    claim = live[-1]
    url = url_for("claim.details_view", id=claim.id)
    return Markup('<a class="text-nowrap" href="{}" title="locked by this claim">{} {}</a>').format(
        url, icon("lock", "locked"), claim.number)


def may_finalize(visit: TherapySession) -> bool:
    """Finalize is offered on a draft session that was not cancelled and has happened (a visit booked for a later
    day is refused by the operation, so it is not offered); the operation checks the rest."""
    return visit.note_status is NoteStatus.DRAFT and not visit.is_cancelled and visit.service_date <= practice_today()


def may_bill_again(visit: TherapySession) -> bool:
    """Bill again is offered on a finalized, billable session every claim of which is voided (read from the rows
    the list already loaded: no query per row)."""
    billable = not visit.is_cancelled or bool(visit.session_class and visit.session_class.billable)
    claims = [line.claim for line in visit.billed_on]
    return (visit.note_status is NoteStatus.FINALIZED and billable and bool(claims)
            and all(c.status is ClaimStatus.VOIDED for c in claims))


class SessionRowAction(BaseListRowAction):
    """A one-row button on the sessions list: a small POST form with the CSRF token, shown where it applies."""

    def __init__(self, operation: str, title: str, offered: Any) -> None:
        super().__init__(title=title)
        self.operation, self.offered = operation, offered

    def render(self, context: Any, row_id: str, row: TherapySession) -> Markup:
        view = context.resolve("admin_view")
        if not self.offered(row) or not view.may_operate(self.operation):
            return Markup("")
        url = view.get_url(".operate_view", operation=self.operation, id=row_id, next=request.full_path)
        return Markup(
            '<form class="icon d-inline" method="POST" action="{}" data-row-{}="{}">'
            '<input type="hidden" name="csrf_token" value="{}">'
            '<button class="btn btn-link btn-sm p-0 ml-1" title="{}">{}</button></form>'
        ).format(url, self.operation.replace("_", "-"), row_id, generate_csrf(), self.title, self.title)


class SessionClassView(RoleModelView):
    area = Area.CLINICAL
    name = "Session classes"
    scope_rule = staticmethod(lambda scope: by_company(SessionClass.company_id, scope))
    column_list = ["name", "billable", "description", "company"]
    column_searchable_list = ["name"]
    form_columns = ["company", "name", "billable", "description"]


class PayerFilter(BaseSQLAFilter):
    """Sessions whose client's primary policy on the service date is with this payer."""

    def apply(self, query: Any, value: Any, alias: Any = None) -> Any:
        return query.filter(billed_to_payer(parse_id(value) or 0))

    def operation(self) -> str:
        return "is"

    def validate(self, value: Any) -> bool:
        return parse_id(value) is not None


class TherapySessionView(RoleModelView):
    """The schedule as billed. Finalizing and cancelling arrive with claims (billing.claims.sessions)."""

    area = Area.CLINICAL
    name = "Sessions"
    scope_rule = staticmethod(lambda scope: by_location(TherapySession.location_id, scope))
    form_checks = staticmethod(session_problems)
    column_list = [
        "service_date", "start_time", "end_time", "minutes", "client", "provider", "service_code", "modifiers",
        "location", "place_of_service", "note_status", "session_class", "billed_on",
    ]
    column_sortable_list = [
        "service_date", "start_time", ("client", "client.last_name"), ("provider", "provider.last_name"),
        ("service_code", "service_code.code"), ("location", "location.name"), "note_status",
    ]
    column_default_sort = [("service_date", True), ("start_time", True)]
    column_searchable_list = ["client.last_name", "client.account_number", "note_text"]
    column_filters = [
        "service_date",
        FilterEqual(column=TherapySession.provider_id, name="Provider", options=lazy_options(provider_options)),
        FilterEqual(column=TherapySession.location_id, name="Location", options=lazy_options(location_options)),
        PayerFilter(column=TherapySession.client_id, name="Payer", options=lazy_options(payer_options)),
        FilterEqual(
            column=TherapySession.service_code_id, name="Service code", options=lazy_options(service_code_options)
        ),
        FilterEqual(
            column=TherapySession.note_status, name="Note", options=[(s.value, enum_label(s)) for s in NoteStatus]
        ),
        ToFinalizeFilter(),  # the front page's "Draft notes to finalize" (admin_views/dashboard_filters.py)
    ]
    column_labels = {
        "service_date": "Date", "start_time": "Start", "end_time": "End", "place_of_service": "POS",
        "note_status": "Note", "session_class": "Cancelled as", "service_code": "Code", "billed_on": "Claim",
    }
    column_formatters = {"client": lambda v, c, m, n: m.client.full_name, "billed_on": _lock_badge}
    column_details_exclude_list = ["finalized_at"]
    # Note status and cancellation are state changes with history, made by operations, not typed here.
    form_columns = [
        "client", "provider", "location", "service_code", "modifiers", "service_date", "start_time", "end_time",
        "place_of_service", "authorization", "note_text",
    ]
    form_ajax_refs = {
        "client": {"fields": ["last_name", "first_name", "account_number"], "page_size": 10},
        "provider": {"fields": ["last_name", "first_name", "npi"], "page_size": 10},
        "authorization": {"fields": ["number"], "page_size": 10},
    }
    form_choices = {"place_of_service": code_choices(PLACES_OF_SERVICE)}
    form_args = {"modifiers": {"filters": [normalize_modifiers]}}
    form_widget_args = {"note_text": {"rows": 8}}
    details_template = "claimdesk/session_details.html"
    column_extra_row_actions = [
        SessionRowAction("finalize", "Finalize", may_finalize),
        SessionRowAction("bill_again", "Bill again", may_bill_again),
    ]

    allow_delete = True  # but only through delete_session, which refuses anything billed or finalized

    def on_model_change(self, form: Any, model: TherapySession, is_created: bool) -> None:
        if not model.modifiers:
            model.modifiers = model.service_code.default_modifiers

    def delete_model(self, model: TherapySession) -> bool:
        try:
            with unit_of_work():
                delete_session(model, actor=current_actor())
        except NotAllowed as exc:  # Flask-Admin's delete asks for True or False, not a response
            flash(exc.message, "error")
            return False
        return True

    def get_query(self) -> Any:
        return super().get_query().options(selectinload(TherapySession.billed_on).selectinload(ClaimLine.claim))

    # --- actions ----------------------------------------------------------------------------------
    def may_edit_claims(self) -> bool:
        return current_user.is_authenticated and may_edit(current_user.role, Area.CLAIMS)

    def may_post_action(self, name: str) -> bool:
        # Retracting voids a claim: a billing action, so the claims' editors (billers, admins) alone retract,
        # from here as from the claims queue; office managers, who edit sessions, do not. Billers may retract
        # although they cannot edit sessions. (RoleModelView.is_action_allowed asks this, for the menu too.)
        if name == "retract":
            return self.may_edit_claims()
        return self.can_edit

    def _visits(self, ids: list[str]) -> list[TherapySession]:
        return list(self._scoped(super().get_query()).filter(any_of(TherapySession.id, [int(i) for i in ids])))

    @action("finalize", "Finalize notes", "Finalize the selected notes and bill them?")
    def action_finalize(self, ids: list[str]) -> None:
        done, refused = 0, []
        for visit in self._visits(ids):
            try:
                with unit_of_work():
                    result = finalize_session(visit, actor=current_actor())
            except BillingError as exc:
                refused.append(exc.message)
            else:
                done += 1
                for claim in result.created + result.extended:
                    flash(f"Session of {visit.service_date:%m/%d/%Y} billed on claim {claim.number} "
                          f"({claim.status.label}{': ' + claim.hold_reason if claim.hold_reason else ''}).", "info")
                for _visit, why in result.unbilled:
                    flash(f"Session of {visit.service_date:%m/%d/%Y} finalized, not billed: {why}.", "warning")
        if done:
            flash(f"{done} note(s) finalized.", "success")
        for message in refused:
            flash(message, "error")

    # --- one session: the row buttons and the session page's buttons ------------------------------
    def may_operate(self, operation: str) -> bool:
        """Office managers finalize (which bills, as Bill again does); billers may bill a session again too."""
        return (self.can_edit or self.may_edit_claims()) if operation == "bill_again" else self.can_edit

    @expose("/do/<operation>/", methods=("POST",))
    def operate_view(self, operation: str) -> Response:
        operations = {"finalize": finalize_session, "bill_again": bill_again}
        visit = self.get_one(request.args.get("id", "")) if operation in operations else None
        back = safe_next(request.args.get("next")) or self.get_url(".index_view")
        if visit is None:
            flash("Record does not exist.", "error")
            return redirect(back)
        if not self.may_operate(operation):
            flash(f"Your role ({current_user.role.label}) cannot change sessions.", "error")
            return redirect(back)
        return run_operation(lambda: operations[operation](visit, actor=current_actor()), back=back,
                             success=lambda result: _billed_text(visit, result, operation))

    def offered(self, visit: TherapySession) -> list[tuple[str, str]]:
        """The session page's buttons: (operation, label) this user may press on this session."""
        buttons = [("finalize", "Finalize note"), ("bill_again", "Bill again")]
        shown = {"finalize": may_finalize, "bill_again": may_bill_again}
        return [(op, label) for op, label in buttons if shown[op](visit) and self.may_operate(op)]

    @action("delete", "Delete", "Delete the selected sessions? Billed or finalized sessions are refused.")
    def action_delete(self, ids: list[str]) -> None:
        # Flask-Admin's own delete action binds the ids as strings, which PostgreSQL refuses for an
        # integer key; each row goes through delete_model, which refuses and explains what it must.
        deleted = sum(1 for visit in self._visits(ids) if self.delete_model(visit))
        if deleted:
            flash(f"{deleted} session(s) deleted.", "success")

    @action("retract", "Retract claims", "Retract the claims of the selected sessions? The sessions unlock.")
    def action_retract(self, ids: list[str]) -> None:
        claim_ids = [c.id for v in self._visits(ids) if (c := claim_locking(v.id)) is not None]
        if not claim_ids:
            flash("None of the selected sessions is on a claim.", "info")
        report_outcomes(apply_to_claims(claim_ids, lambda c: retract_claim(c, actor=current_actor()), "retracted"))

    @action("cancel", "Cancel…")
    def action_cancel(self, ids: list[str]) -> Response:
        return redirect(url_for(".cancel_view", ids=",".join(ids)))

    @expose("/cancel/", methods=("GET", "POST"))
    def cancel_view(self) -> Any:
        """Cancel with a session class (no-show, late cancel...): the sessions stay, with their money."""
        if not self.can_edit:
            flash(f"Your role ({current_user.role.label}) cannot cancel sessions.", "error")
            return redirect(self.get_url(".index_view"))
        ids = [i for i in request.values.get("ids", "").split(",") if parse_id(i) is not None]
        visits = self._visits(ids)
        classes = list(db.session.scalars(select(SessionClass).order_by(SessionClass.name)))
        if request.method == "POST":
            class_id = parse_id(request.form.get("session_class_id"))
            chosen = db.session.get(SessionClass, class_id) if class_id else None
            if chosen is None:
                flash("Choose a session class for the cancellation.", "error")
            else:
                self._cancel_each(visits, chosen, request.form.get("reason") or None)
                return redirect(self.get_url(".index_view"))
        claims = {v.id: claim for v in visits if (claim := claim_locking(v.id)) is not None}
        return self.render("claimdesk/session_cancel.html", visits=visits, classes=classes, ids=",".join(ids),
                           claims=claims)

    def _cancel_each(self, visits: list[TherapySession], session_class: SessionClass, reason: str | None) -> None:
        for visit in visits:
            try:
                with unit_of_work():
                    withdrawn = cancel_session(visit, session_class=session_class, actor=current_actor(),
                                               reason=reason)
            except BillingError as exc:
                flash(exc.message, "error")
            else:
                flash(f"Session of {visit.service_date:%m/%d/%Y} cancelled as {session_class}"
                      f"{'; ' + withdrawn if withdrawn else ''}.", "success")


def _billed_text(visit: TherapySession, result: BillingResult, operation: str) -> str:
    done = "finalized" if operation == "finalize" else "billed again"
    parts = [f"claim {c.number} ({c.status.label}{': ' + c.hold_reason if c.hold_reason else ''})"
             for c in result.created + result.extended]
    parts += [f"not billed: {why}" for _visit, why in result.unbilled]
    return f"Session of {visit.service_date:%m/%d/%Y} {done}" + (f": {'; '.join(parts)}." if parts else ".")

