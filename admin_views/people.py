"""Providers and clients: office managers keep them, everyone else reads."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_admin.contrib.sqla.filters import FilterEqual
from markupsafe import Markup
from sqlalchemy import inspect
from sqlalchemy.orm import selectinload

from admin_views.auth import current_actor
from admin_views.base import RoleModelView
from admin_views.client_ledger import may_read_ledger
from admin_views.formatters import enum_choices, lazy_options
from admin_views.org import ADDRESS_FIELDS, ADDRESS_LABELS, DIGITS, STATE_CHOICES, UPPER
from admin_views.permissions import Area
from admin_views.scope import current_scope
from billing.claims.models import Claim
from billing.core.audit import AuditAction, record_change
from billing.core.identifiers import normalize_icd10
from billing.core.time import practice_today
from billing.coverage.options import location_options
from billing.ledger.client_hub import client_hub
from billing.org.queries import by_company, by_location
from billing.people.checks import client_problems, provider_problems
from billing.people.models import Client, ClientDiagnosis, Provider, Sex
from billing.sessions.models import TherapySession


class ProviderView(RoleModelView):
    """Rendering providers; deactivate rather than delete, since sessions refer to them."""

    area = Area.CLINICAL
    scope_rule = staticmethod(lambda scope: by_company(Provider.company_id, scope))
    form_checks = staticmethod(provider_problems)
    column_list = ["last_name", "first_name", "credentials", "npi", "taxonomy_code", "company", "active"]
    column_searchable_list = ["last_name", "first_name", "npi"]
    column_sortable_list = ["last_name", "first_name", "credentials", "npi", "active"]
    column_filters = ["active", "credentials"]
    column_default_sort = [("last_name", False), ("first_name", False)]
    column_labels = {"npi": "NPI", "taxonomy_code": "Taxonomy"}
    form_columns = ["company", "first_name", "last_name", "credentials", "npi", "taxonomy_code", "active"]
    form_args = {"npi": DIGITS, "taxonomy_code": UPPER}
    column_descriptions = {"npi": "Individual NPI (10 digits, with its check digit)."}


def _account_with_ledger(view: Any, context: Any, client: Client, name: str) -> Markup:
    """The account number, and for readers of payments a link to the client's ledger."""
    if not may_read_ledger():
        return Markup("{}").format(client.account_number)
    return Markup('{} <a class="small" href="{}" data-client-ledger-link>ledger</a>').format(
        client.account_number, url_for("client_ledger.index", client_id=client.id))


class ClientView(RoleModelView):
    """Clients with their diagnoses in order (position 1 is primary, as in the 837 HI segment)."""

    area = Area.CLINICAL
    scope_rule = staticmethod(lambda scope: by_location(Client.location_id, scope))
    form_checks = staticmethod(client_problems)
    column_list = [
        "account_number", "last_name", "first_name", "date_of_birth", "sex", "location", "diagnoses",
        "responsible_party_name", "phone", "active",
    ]
    column_searchable_list = ["last_name", "first_name", "account_number"]
    column_formatters = {"account_number": _account_with_ledger}
    column_sortable_list = [
        "account_number", "last_name", "first_name", "date_of_birth", ("location", "location.name"), "active",
    ]
    column_default_sort = [("last_name", False), ("first_name", False)]
    column_filters = [
        FilterEqual(column=Client.location_id, name="Location", options=lazy_options(location_options)),
        "date_of_birth",
        "active",
    ]
    column_labels = {
        **ADDRESS_LABELS, "responsible_party_name": "Responsible party", "date_of_birth": "Born",
        "responsible_party_relationship": "Relationship", "responsible_party_phone": "Responsible party phone",
        "no_statements": "No statements",
    }
    column_descriptions = {"no_statements": "Send this client no patient statements (a payment plan, a dispute, "
                                            "collections); their balance is left off the family's statement."}
    column_auto_select_related = False
    details_template = "claimdesk/clients/details.html"
    form_columns = [
        "location", "account_number", "first_name", "last_name", "date_of_birth", "sex", "phone",
        *ADDRESS_FIELDS, "responsible_party_name", "responsible_party_relationship", "responsible_party_phone",
        "no_statements", "active", "diagnoses",
    ]
    form_choices = {"sex": enum_choices(Sex), "state": [("", ""), *STATE_CHOICES]}
    form_args = {"phone": DIGITS, "zip_code": DIGITS, "responsible_party_phone": DIGITS}
    inline_models = [
        (
            ClientDiagnosis,
            {
                "form_columns": ["id", "position", "code", "description"],
                "form_args": {"code": {"filters": [lambda v: normalize_icd10(v) if v else v]}},
                "form_label": "Diagnosis",
            },
        )
    ]

    def get_query(self):  # type: ignore[no-untyped-def]
        return super().get_query().options(selectinload(Client.location), selectinload(Client.diagnoses))

    def render(self, template: str, **kwargs: Any) -> Any:
        """The client page is a hub: beside the client's fields, their policies, authorizations, recent sessions and
        claims, and balances (one service call; the claims and sessions in the chosen scope)."""
        client = kwargs.get("model")
        if template == self.details_template and isinstance(client, Client):
            scope = current_scope()
            kwargs["hub"] = client_hub(client.id, claims_where=by_location(Claim.location_id, scope),
                                       sessions_where=by_location(TherapySession.location_id, scope))
            kwargs["today"] = practice_today()
            kwargs["may_read_money"] = may_read_ledger()
        return super().render(template, **kwargs)

    def on_model_change(self, form: Any, model: Client, is_created: bool) -> None:
        """Turning statements off or on for a client is a billing decision: it goes in the history."""
        flag = inspect(model).attrs.no_statements.history
        if not is_created and flag.has_changes():
            record_change("client", model.id, AuditAction.STATEMENTS_FLAG_CHANGED, actor=current_actor(),
                          before="no statements" if flag.deleted and flag.deleted[0] else "statements",
                          after="no statements" if model.no_statements else "statements")
