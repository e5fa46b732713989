"""Therapy sessions and session classes: office managers keep them."""

from __future__ import annotations

from typing import Any

from flask_admin.contrib.sqla.filters import BaseSQLAFilter, FilterEqual

from admin_views.base import RoleModelView
from admin_views.formatters import code_choices, enum_label, lazy_options
from admin_views.permissions import Area
from billing.identifiers import normalize_modifiers
from billing.org.queries import by_company, by_location
from billing.queries import location_options, payer_options, provider_options, service_code_options
from billing.reference import PLACES_OF_SERVICE
from billing.sessions.checks import session_problems
from billing.sessions.models import NoteStatus, SessionClass, TherapySession
from billing.sessions.queries import billed_to_payer


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
        return query.filter(billed_to_payer(int(value)))

    def operation(self) -> str:
        return "is"

    def validate(self, value: Any) -> bool:
        return str(value).isdigit()


class TherapySessionView(RoleModelView):
    """The schedule as billed. Finalizing and cancelling arrive with claims (billing.sessions.operations)."""

    area = Area.CLINICAL
    name = "Sessions"
    scope_rule = staticmethod(lambda scope: by_location(TherapySession.location_id, scope))
    form_checks = staticmethod(session_problems)
    column_list = [
        "service_date", "start_time", "end_time", "minutes", "client", "provider", "service_code", "modifiers",
        "location", "place_of_service", "note_status", "session_class",
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
    ]
    column_labels = {
        "service_date": "Date", "start_time": "Start", "end_time": "End", "place_of_service": "POS",
        "note_status": "Note", "session_class": "Cancelled as", "service_code": "Code",
    }
    column_formatters = {"client": lambda v, c, m, n: m.client.full_name}
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

    def on_model_change(self, form: Any, model: TherapySession, is_created: bool) -> None:
        if not model.modifiers:
            model.modifiers = model.service_code.default_modifiers
